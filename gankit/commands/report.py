"""``gankit report``: a run's report, one self-contained HTML page (needs the ``viz`` extra)."""

from __future__ import annotations

import argparse

from gankit.commands import options
from gankit.store.outputs import check_output_file


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    rp = sub.add_parser("report", help="write a run's report: one self-contained HTML page")
    options.run_argument(rp)
    rp.add_argument("--out", help="the HTML file to write (default RUN/report.html)")
    rp.set_defaults(func=cmd_report)
    return rp


def cmd_report(args: argparse.Namespace) -> None:
    if args.out is not None:
        check_output_file(args.out)
    out = options.viz_module("report").write_report(args.run, args.out)
    print(f"wrote {out} (one self-contained HTML file; open it in a browser)")
