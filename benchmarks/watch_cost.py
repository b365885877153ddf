"""The collapse watch's cost: one check's seconds against a training step's, and its share of training time.

A default run (the lsgan recipe on MNIST, batch 128, CPU) is built once; training steps and watch checks (G's
fixed batch and its labelling, :class:`gankit.training.watch.WatchSchedule`) are timed in alternating rounds.
The share of training time at a period of E steps is check ÷ (E · step + check). The default
``train.watch_every`` is the smallest round period whose share stays at or under 3% on the machine measured.

    python benchmarks/watch_cost.py --data-dir ../shared/data/mnist [--doc docs/collapse-watch.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from gankit import get_recipe
from gankit.config import WATCH_EVERY
from gankit.device import describe_machine
from gankit.training.state import build_training
from gankit.training.watch import WatchSchedule

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import log, time_gankit

PERIODS = (25, 50, 100, 200, 500)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--recipe", default="lsgan")
    p.add_argument("--data-dir", help="MNIST folder (default: the embedded sample)")
    p.add_argument("--steps", type=int, default=20, help="training steps per timed round (default 20)")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    p.add_argument("--doc", help="write the table into this Markdown file's watch-cost section")
    args = p.parse_args(argv)
    cfg = get_recipe(args.recipe).override({"data.dir": args.data_dir, "train.device": "cpu", "train.progress": False})
    training = build_training(cfg, log=lambda _: None)
    watch = WatchSchedule(training, log)
    if watch.probe is None:
        raise SystemExit(f"{args.recipe} on {cfg.data.name} has no collapse watch")
    folder = Path(tempfile.mkdtemp())
    time_gankit(training, 2)  # warm up
    watch.check(training, folder)
    steps, checks = [], []
    for _ in range(args.rounds):
        steps.append(time_gankit(training, args.steps) / args.steps)
        start = time.perf_counter()
        watch.check(training, folder)
        checks.append(time.perf_counter() - start)
    step, check = statistics.median(steps), statistics.median(checks)
    machine = describe_machine(torch.device("cpu"))
    log(f"machine: {machine}; step {step * 1e3:.1f} ms, check {check * 1e3:.1f} ms")
    rows = [[f"{e:,}", f"{check / (e * step + check):.1%}"] for e in PERIODS]
    n = len(watch.latent)
    lines = [
        "## What the watch costs",
        "",
        f"Machine: {machine}. The {args.recipe} recipe on {cfg.data.name} ({len(training.data):,} images), batch "
        f"{cfg.train.batch_size}: a training step took {step * 1e3:.1f} ms and a check of {n:,} samples "
        f"({watch.probe.kind}) {check * 1e3:.1f} ms (medians of {args.rounds} rounds of {args.steps} steps and one "
        f"check). The default `train.watch_every` is {WATCH_EVERY}. Made by `python benchmarks/watch_cost.py"
        + (" --data-dir DIR" if args.data_dir else "")
        + f" --steps {args.steps} --rounds {args.rounds}`.",
        "",
        *md.table(["train.watch_every", "share of training time"], "rr", rows),
    ]
    md.publish("\n".join(lines), args.doc, "watch-cost")


if __name__ == "__main__":
    main()
