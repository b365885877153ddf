"""``gankit demo``: runnable GAN theory; each demo writes a figure and its numbers (``gankit.theory.demos``)."""

from __future__ import annotations

import argparse
import json

from gankit.commands import options
from gankit.commands.names import DEMOS, SCHEMES


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    d = sub.add_parser("demo", help=f"runnable GAN theory: {', '.join(DEMOS)}")
    d.add_argument("name", nargs="?", choices=DEMOS)
    d.add_argument("--out", default="demos", help="folder for the figure and NAME.json (default demos/)")
    d.add_argument("--eta", type=options.finite, help="bilinear: the step size η")
    d.add_argument("--steps", type=options.integer, help="bilinear, optimal-d, mode-collapse: number of steps")
    d.add_argument(
        "--scheme",
        choices=SCHEMES,
        help="mode-collapse: the update scheme",
    )
    d.set_defaults(func=cmd_demo)
    return d


def cmd_demo(args: argparse.Namespace) -> None:
    from gankit.theory.demos import DEMOS, run_demo

    if args.name is None:
        width = max(map(len, DEMOS))
        for name, demo in DEMOS.items():
            print(f"{name:<{width}}  {demo.summary}")
        return
    options_given = {key: getattr(args, key) for key in ("eta", "steps", "scheme") if getattr(args, key) is not None}
    results = run_demo(args.name, args.out, **options_given)
    print(json.dumps(results, indent=2))
