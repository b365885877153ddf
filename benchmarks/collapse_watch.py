"""Calibration of the collapse watch: does it warn on runs known to collapse, soon enough, and stay quiet on
healthy ones?

Each case trains a short run and, at every check of the watch (``gankit.training.watch``, its fixed batch), also
measures an *offline* evaluation: the same measures on a larger batch of fresh z (another seed), as `gankit eval`
would score the run at that step. The table reports, per case, the checks at which the offline evaluation and the
watch first see a collapse, how many checks later the warning came, and the warnings (false alarms on healthy
runs). One case per invocation keeps each under a few minutes on 2 CPU cores; ``--table`` assembles the JSON
results into docs/collapse-watch.md.

    python benchmarks/collapse_watch.py --case lsgan-mnist --data-dir ../shared/data/mnist --out runs/watch-cal
    python benchmarks/collapse_watch.py --table --out runs/watch-cal --doc docs/collapse-watch.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gankit import get_recipe
from gankit.device import describe_machine
from gankit.training.state import build_training
from gankit.training.watch import WARMUP_STEPS, WatchSchedule

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import log, toy_overrides

OFFLINE_SEED = 777
OFFLINE_N = {"classes": 2000, "stacked": 3000, "toy": 2500, "features": 2000}


@dataclass(frozen=True)
class Case:
    expect: str  # "healthy" or "collapse"
    recipe: str
    steps: int
    every: int
    overrides: dict[str, Any] = field(default_factory=dict)
    what: str = ""


CASES = {
    "lsgan-mnist": Case("healthy", "lsgan", 400, 25, {"train.batch_size": 64}, "lsgan on MNIST, batch 64"),
    "dcgan-mnist": Case("healthy", "dcgan", 500, 25, {"train.batch_size": 64}, "dcgan on MNIST, batch 64"),
    "pacgan2-ring8": Case("healthy", "pacgan-2d", 3000, 100, {"data.name": "ring8"}, "pacgan-2d (packs of 2) on ring8"),
    "stacked-unpacked": Case(
        "collapse",
        "pacgan-stacked",
        1000,
        100,
        {"model.pack": 1, "train.batch_size": 128},
        "pacgan-stacked unpacked (small D = ¼G) on Stacked MNIST, batch 128",
    ),
    "ragan-ring8": Case(
        "collapse",
        "ragan",
        2000,
        100,
        {k: v for k, v in toy_overrides("ring8", 2000, 0).items() if not k.startswith(("train.steps", "train.seed"))},
        "ragan on ring8, the shared 2-D MLP (0 of 8 modes in docs/results.md)",
    ),
    "lsgan-high-lr": Case(
        "collapse",
        "lsgan",
        200,
        25,
        {"train.batch_size": 64, "g_optim.lr": 0.05},
        "lsgan on MNIST with g_optim.lr = 0.05 (50× the recipe's)",
    ),
}


def run_case(name: str, data_dir: str | None) -> dict[str, Any]:
    case = CASES[name]
    overrides = {"train.device": "cpu", "train.progress": False, "train.watch_every": case.every, "data.dir": data_dir}
    cfg = get_recipe(case.recipe).override(case.overrides | overrides | {"train.steps": case.steps})
    training = build_training(cfg, log=lambda _: None)
    warnings: list[str] = []
    watch = WatchSchedule(training, warnings.append)
    offline = training.space.sample(OFFLINE_N[watch.probe.kind], "cpu", torch.Generator().manual_seed(OFFLINE_SEED))
    folder = Path(tempfile.mkdtemp())
    checks, start = [], time.perf_counter()
    while training.step < case.steps:
        training.train_step()
        if not watch.due(training.step):
            continue
        values = watch.check(training, folder)
        fixed, watch.latent = watch.latent, offline
        big = watch.samples(training)
        watch.latent = fixed
        measured = watch.probe.measure(big.clamp(-1, 1) if big.dim() == 4 else big).values if values else None
        checks.append(
            {
                "step": training.step,
                "watch": {k: v for k, v in (values or {}).items() if k != "watch_histogram"},
                "offline": {k: v for k, v in (measured or {}).items() if k != "watch_histogram"},
                "warned": bool(warnings) and f"step {training.step}:" in warnings[-1],
            }
        )
    log(f"{name}: {case.steps} steps in {time.perf_counter() - start:.0f} s, {len(warnings)} warning(s)")
    return {"case": name, "checks": checks, "warnings": warnings, "machine": describe_machine(training.device)}


def onset(checks: list[dict], part: str) -> int | None:
    """The 1-based number of the first check whose ``part`` (``watch`` or ``offline``) is collapsed once armed as
    the watch arms itself (a healthy check before it, or the step ``WARMUP_STEPS``), or None."""
    armed = False
    for i, c in enumerate(checks):
        collapsed = bool(c[part]) and c[part]["watch_collapsed"]
        armed = armed or not collapsed or c["step"] >= WARMUP_STEPS
        if collapsed and armed:
            return i + 1
    return None


def row(name: str, result: dict[str, Any]) -> list[str]:
    case, checks = CASES[name], result["checks"]

    offline, fixed = onset(checks, "offline"), onset(checks, "watch")
    warned = next((i + 1 for i, c in enumerate(checks) if c["warned"]), None)
    after = "–" if warned is None or offline is None else f"{warned - offline:+d}"
    last = checks[-1]["offline"] if checks else {}
    final = (
        f"{last['watch_covered']}/{last['watch_modes']}, KL {last['watch_kl']:.2f}"
        if "watch_covered" in last
        else f"coverage {last.get('watch_coverage', 0):.2f}"
    )
    show = [str(v) if v is not None else "never" for v in (offline, fixed, warned)]
    return [
        case.what,
        case.expect,
        f"{case.steps:,} / {case.every}",
        *show,
        after,
        str(len(result["warnings"])),
        final,
    ]


def table(out: Path, doc: str | None) -> None:
    results = {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json"))}
    rows = [row(name, results[name]) for name in CASES if name in results]
    machines = sorted({r["machine"] for r in results.values()})
    lines = [
        "## Calibration",
        "",
        "Made by `python benchmarks/collapse_watch.py --case NAME` for each case, then `--table`. Each run is short "
        "(a few minutes on 2 CPU cores); at each check the offline evaluation measures a larger batch of fresh z "
        f"({', '.join(f'{k} {v:,}' for k, v in OFFLINE_N.items())} samples) by the same thresholds. Checks are "
        "numbered from 1; a series' first collapsed check counts only once it is armed as the watch arms itself "
        f"(after a healthy check, or from step {WARMUP_STEPS}: an untrained G looks collapsed); *warning after "
        "offline* is the first warning's check minus the offline evaluation's first collapsed check. Machine: "
        f"{'; '.join(machines)}.",
        "",
        *md.table(
            [
                "run",
                "expected",
                "steps / check every",
                "offline first collapsed (check)",
                "watch first collapsed",
                "first warning",
                "warning after offline",
                "warnings",
                "offline at the end",
            ],
            "llrrrrrrl",
            rows,
        ),
    ]
    md.publish("\n".join(lines), doc, "collapse-watch-calibration")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--case", choices=list(CASES), action="append", help="run this case (repeatable)")
    p.add_argument("--data-dir", help="MNIST folder (default: the embedded sample)")
    p.add_argument("--out", default="runs/watch-calibration", help="folder of the cases' JSON results")
    p.add_argument("--table", action="store_true", help="write the table of the results in --out")
    p.add_argument("--doc", help="with --table: put the table into this Markdown file's calibration section")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.case or []:
        (out / f"{name}.json").write_text(json.dumps(run_case(name, args.data_dir), indent=1))
    if args.table:
        table(out, args.doc)


if __name__ == "__main__":
    main()
