"""How long the ``gankit`` command takes to start: bare ``gankit``, ``--help``, ``recipes``, ``config`` and every
``CMD --help``, each a fresh ``python -m gankit`` process timed from start to exit (the median of ``--repeats``
runs), beside ``python -c "import torch"``: what each would cost if it imported torch. The goal is under 1 s; the
CPU is printed with the table (start-up time is mostly Python reading modules: the disk cache and the CPU count).

    python benchmarks/cli_start.py
    python benchmarks/cli_start.py --repeats 7 --doc docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from gankit.cli import COMMANDS
from gankit.device import describe_machine

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import log

GOAL_S = 1.0  # issue 24: `gankit --help`, `gankit recipes` and every `--help` under 1 s
TORCH = ("-c", "import torch")  # the comparison row: what one torch import costs


def cases(commands: Sequence[str] | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """(the row's label, python's arguments) of each timed start; ``commands`` keeps only the rows of these
    commands (``recipes`` keeps ``gankit recipes`` and ``gankit recipes --help``; ``help``: ``gankit --help``;
    ``gankit``: bare ``gankit``)."""
    names = [c.__name__.rpartition(".")[2] for c in COMMANDS]
    argvs = [(), ("--help",), ("recipes",), ("config",), *((name, "--help") for name in names)]
    if commands is not None:
        argvs = [a for a in argvs if (a[0].lstrip("-") if a else "gankit") in commands]
    return [(" ".join(("gankit", *argv)), ("-m", "gankit", *argv)) for argv in argvs]


def seconds(args: tuple[str, ...], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` runs of ``python ARGS``, each a fresh process (its output discarded)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def row(label: str, times: list[float], goal: bool = True) -> list[str]:
    """A table row: the command, the median and range of its times, whether it meets the goal (``goal``: it has one)."""
    median = statistics.median(times)
    verdict = ("yes" if median < GOAL_S else "**no**") if goal else "–"
    return [f"`{label}`", f"{median:.2f}", md.span(times, ".2f"), verdict]


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="runs of each command; the median is reported (default 5)")
    p.add_argument("--commands", nargs="+", metavar="CMD", help="only these rows (e.g. help recipes train; see cases)")
    p.add_argument("--doc", help="write the table into this Markdown file's cli-start section")
    args = p.parse_args(argv)
    machine = describe_machine(torch.device("cpu"))
    log(f"machine: {machine}")
    seconds(cases(["help"])[0][1], 1)  # warm the disk cache once; every row then starts alike
    rows = []
    for label, python_args in cases(args.commands):
        rows.append(row(label, seconds(python_args, args.repeats)))
        log(" | ".join(rows[-1]))
    rows.append(row('python -c "import torch"', seconds(TORCH, args.repeats), goal=False))
    lines = [
        "## Start-up time of the command line",
        "",
        f"Machine: {machine}. Seconds from start to exit of a fresh process (`python -m gankit …`), median and "
        f"range of {args.repeats} runs; goal under {GOAL_S:g} s. None of these imports torch (the last row: what one "
        "torch import costs). Made by `python benchmarks/cli_start.py"
        + (f" --commands {' '.join(args.commands)}" if args.commands else "")
        + f" --repeats {args.repeats}`.",
        "",
        *md.table(["command", "median (s)", "range (s)", f"under {GOAL_S:g} s"], "lrrl", rows),
    ]
    md.publish("\n".join(lines), args.doc, "cli-start")


if __name__ == "__main__":
    main()
