"""``gankit report``: a run's report, one self-contained HTML page (needs the ``viz`` extra)."""

from __future__ import annotations

import argparse

from gankit.commands import options


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    rp = sub.add_parser(
        "report",
        help="write a run's report: one self-contained HTML page (of a trials run: all its trials, or --trial K)",
    )
    options.run_argument(rp)
    options.trial_option(rp)
    rp.add_argument("--out", help="the HTML file to write (default RUN/report.html)")
    rp.set_defaults(func=cmd_report)
    return rp


def cmd_report(args: argparse.Namespace) -> None:
    from gankit.store.outputs import check_output_file

    if args.out is not None:
        check_output_file(args.out)
    from gankit.store.layout import read_config

    if args.trial is None and read_config(args.run).has_trials:
        out = options.viz_module("trials_report").write_trials_report(args.run, args.out)
    else:
        out = options.viz_module("report").write_report(options.trial_run(args), args.out)
    print(f"wrote {out} (one self-contained HTML file; open it in a browser)")
