"""Cost of each update scheme relative to alternating updates, timed alternately in one process.

One game step of every scheme makes one generator update; extragradient evaluates every gradient twice,
optimistic and lookahead add parameter copies. Speed is real images seen by D per second and generator
steps per second; the ratio is against ``alternating`` measured in the same rounds.

    python benchmarks/scheme_speed.py --data-dir ../shared/data/mnist [--recipe lsgan]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

import torch

from gankit import get_recipe
from gankit.training.schemes import SCHEMES
from gankit.training.state import build_training

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import time_gankit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="lsgan")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--min-time", type=float, default=3.0, help="seconds each timing lasts at least")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    runs = {}
    for name in SCHEMES:
        cfg = get_recipe(args.recipe).override(
            {"data.dir": args.data_dir, "train.device": args.device, "train.scheme": name, "train.progress": False}
        )
        runs[name] = build_training(cfg, log=lambda _: None)
    steps = {name: max(3, math.ceil(args.min_time / (time_gankit(t, 3) / 3))) for name, t in runs.items()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, training in runs.items():
            times[name].append(time_gankit(training, steps[name]) / steps[name])
    print(
        f"# {args.recipe}, torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}; "
        f"median of {args.repeats} alternating rounds of >= {args.min_time} s\n"
    )
    base = statistics.median(times["alternating"])
    rows = []
    for name, training in runs.items():
        per_step = statistics.median(times[name])
        images = training.images_seen / training.step  # real images per game step, as the scheme draws them
        rows.append([name, f"{1 / per_step:.2f}", f"{images / per_step:,.0f}", f"{per_step / base:.2f}"])
    header = ["scheme", "G steps/s", "real images/s", "time per G step vs alternating"]
    print("\n".join(md.table(header, "lrrr", rows)))


if __name__ == "__main__":
    main()
