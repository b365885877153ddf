"""Data-parallel scaling: training images/s of one process against N processes under torchrun, same global batch.

Each measurement is a real ``gankit train`` run of ``--steps`` steps with the global batch of ``--batch-size``
(each of N ranks computes batch/N rows); the rate is read from the run's ``metrics.jsonl`` after the first
``--warmup`` steps (start-up, the first grid and the first steps' allocations excluded): images seen / training
seconds between the first and the last record. One process runs as ``python -m gankit train`` (no process group,
exactly today's path); N > 1 as ``torchrun --standalone --nproc-per-node N -m gankit train``. Each process gets
``--threads`` intra-op threads (default: the machine's cores / N, so every configuration uses the whole machine).
Runs alternate across ``--repeats`` rounds; the table gives each configuration's median.

    python benchmarks/ddp_scaling.py                                  # lsgan on the embedded MNIST sample, CPU
    python benchmarks/ddp_scaling.py --device cuda --nproc 1 2 4 8 --recipe dcgan --data-dir DATA --steps 300

On a CPU, N processes split the same cores: expect no speed-up (each rank does 1/N of the arithmetic with 1/N
of the threads, and adds an all-reduce per player step). On N GPUs each rank has a device of its own.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import read_metrics


def command(nproc: int, args: argparse.Namespace, run: Path) -> list[str]:
    """The ``gankit train`` command line of one measurement (under torchrun when ``nproc`` > 1)."""
    launcher = [sys.executable, "-m", "gankit"]
    if nproc > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc)]
        launcher += ["-m", "gankit"]
    fields = {
        "train.steps": args.steps,
        "train.batch_size": args.batch_size,
        "train.device": args.device,
        "train.log_every": args.warmup,
        "train.sample_at": "0",
        "train.checkpoint_every": 0,
        "train.tensorboard": "false",
        "data.dir": args.data_dir,
    }
    sets = [w for k, v in fields.items() if v is not None for w in ("--set", f"{k}={v}")]
    return [*launcher, "train", "--recipe", args.recipe, "--run-dir", str(run), "--no-progress", *sets]


def images_per_second(run: Path) -> float:
    """Images/s between the first record (after the warm-up steps) and the last."""
    records = read_metrics(run)
    first, last = records[0], records[-1]
    return (last["images_seen"] - first["images_seen"]) / (last["elapsed_s"] - first["elapsed_s"])


def measure(nproc: int, args: argparse.Namespace, folder: Path, round_: int) -> float:
    run = folder / f"n{nproc}-r{round_}"
    threads = args.threads or max(1, (os.cpu_count() or 1) // nproc)
    env = os.environ | {"OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(command(nproc, args, run), env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(command(nproc, args, run))} failed:\n{done.stderr[-2000:]}")
    return images_per_second(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nproc", type=int, nargs="+", default=[1, 2], help="process counts to compare")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (each rank on cuda:LOCAL_RANK)")
    parser.add_argument("--recipe", default="lsgan")
    parser.add_argument("--data-dir", default=None, help="data.dir (default: the recipe's; MNIST: the sample)")
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch (every N must divide it)")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10, help="steps left out of the rate")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads per process (default cores/N)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rates: dict[int, list[float]] = {n: [] for n in args.nproc}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeats):
            for n in args.nproc:
                rates[n].append(measure(n, args, Path(tmp), round_))
    base = statistics.median(rates[args.nproc[0]])
    print(
        f"# {args.recipe}, global batch {args.batch_size}, {args.steps} steps ({args.warmup} warm-up), "
        f"device {args.device}, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"torch {torch.__version__}; median of {args.repeats} alternating rounds\n"
    )
    rows = []
    for n in args.nproc:
        threads = args.threads or max(1, (os.cpu_count() or 1) // n)
        rate = statistics.median(rates[n])
        rows.append([n, threads, args.batch_size // n, f"{rate:,.0f}", f"{rate / base:.2f}×"])
    header = ["processes", "threads each", "batch per process", "images/s", f"vs {args.nproc[0]} process(es)"]
    print("\n".join(md.table(header, "rrrrr", rows)))


if __name__ == "__main__":
    main()
