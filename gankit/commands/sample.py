"""``gankit sample``: generate images from a trained run, into FILE.npz, FILE.png or a folder of PNGs."""

from __future__ import annotations

import argparse

from gankit.commands import options
from gankit.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    s = sub.add_parser("sample", help="generate images from a trained run")
    options.run_argument(s)
    s.add_argument("-n", type=options.integer, default=64, help="number of samples (default 64; written in batches)")
    s.add_argument(
        "--out",
        required=True,
        help="FILE.npz (the arrays: uint8 N×H×W×C images, or points; labels of a conditional run), FILE.png "
        "(one picture of all the samples: at most 10,000) or DIR/ (one PNG file per image, in a new or empty folder)",
    )
    s.add_argument("--seed", type=options.seed, default=0)
    s.add_argument(
        "--class",
        dest="classes",
        metavar="K[,K…]",
        help="class-conditional runs: only these classes, in turn (default: every class in turn)",
    )
    options.generator_options(s)
    s.set_defaults(func=cmd_sample)
    return s


def cmd_sample(args: argparse.Namespace) -> None:
    from gankit.sample import check_output, write_samples

    if args.n < 1:
        raise ConfigError(f"-n must be at least 1, got {args.n}")
    check_output(args.out)
    classes = options.parse_classes(args.classes) if args.classes is not None else None
    run = options.trial_run(args)
    trained = options.load_generator(args, run)
    if classes is not None and not trained.space.num_classes:
        hint = (
            f"; its categorical code is shown by `gankit grid {run} --by category`" if trained.space.categorical else ""
        )
        raise ConfigError(f"--class: {run} (recipe {trained.config.recipe}) is not class-conditional{hint}")
    files = write_samples(trained, args.n, args.out, seed=args.seed, labels=classes)
    weights = "EMA" if (trained.config.train.ema is not None and not args.no_ema) else "raw"
    of_classes = f" of class {', '.join(map(str, classes))}" if classes else ""
    print(
        f"wrote {args.n} samples{of_classes} from {trained.checkpoint} ({weights} G weights, step {trained.step}): "
        f"{files[0]}" + (f" … {files[-1]}" if len(files) > 1 else "")
    )
