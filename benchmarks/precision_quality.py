"""Quality guard of the fast engine: fp32 against the fast defaults at equal generator steps, on full MNIST.

    python benchmarks/precision_quality.py --data-dir ../shared/data/mnist --steps 1000 --seeds 0 1 2 \
        --out runs/precision-quality --doc docs/benchmarks.md --lock /work/cpu.lock

For each recipe (lsgan, dcgan, wgan-gp by default) and seed, two runs of ``--steps`` generator steps:
``fp32`` (``train.precision=fp32``, ``train.compile=off``) and ``fast`` (the recipe as it is: precision and
compile "auto", which is bf16 on a CPU with bf16 matrix units). Each is scored with the shipped evaluator
(``gankit eval``'s defaults: 10,000 samples against the MNIST test split). The table gives mean ± standard
deviation over seeds of FID, precision and recall, and the training seconds. Finished runs (with an
``eval.json``) are reused. ``--lock FILE`` holds an exclusive ``flock`` on FILE while each run trains, so that
other jobs on a shared machine do not run beside it. The table goes into the ``precision-quality`` section
of ``--doc``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from gankit.metrics.evaluate import evaluate_run, write_result
from gankit.metrics.protocol import Protocol
from gankit.recipes import get_recipe
from gankit.training.trainer import train

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md

SETTINGS = {"fp32": {"train.precision": "fp32", "train.compile": "off"}, "fast": {}}


@contextlib.contextmanager
def locked(path: str | None) -> Iterator[None]:
    if path is None:
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_one(recipe: str, setting: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    run = Path(args.out) / f"{recipe}-{setting}-seed{seed}"
    result_path = run / "eval.json"
    if result_path.is_file():
        return json.loads(result_path.read_text())
    overrides = {
        "data.dir": args.data_dir,
        "train.steps": args.steps,
        "train.seed": seed,
        "train.progress": False,
        "train.sample_at": (0,),
        "train.checkpoint_every": 0,
        **SETTINGS[setting],
    }
    cfg = get_recipe(recipe).override(overrides)
    if run.exists():  # an interrupted run: start it again
        import shutil

        shutil.rmtree(run)
    with locked(args.lock):
        training = train(cfg, run, echo=False)
        result = evaluate_run(run, Protocol(data_dir=args.data_dir))
    result["training"] = {
        "seconds": training.elapsed_s,
        "precision": training.engine.precision.name,
        "compile": training.engine.compile_mode or "off",
    }
    write_result(result, result_path)
    print(
        f"{recipe} {setting} seed {seed}: FID {result['metrics']['fid']:.3f}, "
        f"{training.elapsed_s:.0f} s ({result['training']['precision']})",
        flush=True,
    )
    return result


def table(results: dict[tuple[str, str], list[dict[str, Any]]], args: argparse.Namespace) -> str:
    lines = [
        f"Produced by `python benchmarks/precision_quality.py {' '.join(args.argv)}`; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads. {args.steps:,} generator steps per run; seeds "
        f"{', '.join(map(str, args.seeds))} (mean ± standard deviation over seeds); scores from `gankit eval`'s "
        "defaults (10,000 samples, MNIST test split, the shipped classifier's features).",
        "",
    ]
    rows = []
    for (recipe, setting), runs in results.items():
        metric = {k: [r["metrics"][k] for r in runs] for k in ("fid", "precision", "recall")}
        seconds = [r["training"]["seconds"] for r in runs]
        scores = [md.mean_sd(metric["fid"], 2), md.mean_sd(metric["precision"], 3), md.mean_sd(metric["recall"], 3)]
        rows.append([recipe, setting, runs[0]["training"]["precision"], *scores, f"{statistics.fmean(seconds):.0f}"])
    header = ["recipe", "setting", "precision", "FID ↓", "precision ↑", "recall ↑", "training s"]
    return "\n".join(lines + md.table(header, "lllrrrr", rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", nargs="*", default=["lsgan", "dcgan", "wgan-gp"])
    parser.add_argument("--data-dir", required=True, help="full MNIST IDX folder")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--out", default="runs/precision-quality")
    parser.add_argument("--doc", default=None, help="Markdown file whose precision-quality section gets the table")
    parser.add_argument("--lock", default=None, help="flock this file while each run trains")
    args = parser.parse_args()
    args.argv = sys.argv[1:]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for seed in args.seeds:
        for recipe in args.recipes:
            for setting in SETTINGS:
                results.setdefault((recipe, setting), []).append(run_one(recipe, setting, seed, args))
    md.publish(table(results, args), args.doc, "precision-quality")


if __name__ == "__main__":
    main()
