"""Hand-written metrics.jsonl records of the collapse watch (the schema of ``train.watch_every``), and run
folders holding them, for fast tests of its views (no training)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.helpers import tiny


def class_checks(checks: int = 6, modes: int = 10, collapse_at: int = 4, every: int = 100) -> list[dict]:
    """``checks`` checks of a 10-class watch: a uniform batch of 100 per class until check ``collapse_at``, from
    there all in class 3 but one sample in class 7 (too few to cover it), flagged collapsed; each check after a
    plain record."""
    records = []
    for i in range(checks):
        step = (i + 1) * every
        histogram = [100] * modes if i < collapse_at else [0, 0, 0, 100 * modes - 1, 0, 0, 0, 1] + [0] * (modes - 8)
        shares = [c / sum(histogram) for c in histogram]
        check = {
            "watch_kind": "classes",
            "watch_modes": modes,
            "watch_covered": sum(c >= math.ceil(0.1 * sum(histogram) / modes) for c in histogram),  # the watch's rule
            "watch_kl": sum(p * math.log(p * modes) for p in shares if p),
            "watch_top_share": max(shares),
            "watch_confidence": 0.9,
            "watch_histogram": histogram,
            "watch_collapsed": i >= collapse_at,
        }
        if i:
            check["watch_hopped"] = 0.8 if i == collapse_at else 0.05
        records += [
            {"step": step - every // 2, "d_loss": 0.6, "g_loss": 1.1},
            {"step": step, "d_loss": 0.5, "g_loss": 1.0} | check,
        ]
    return records


def stacked_check(step: int = 100) -> dict:
    """One check of Stacked MNIST's 1,000 modes: no histogram."""
    return {
        "step": step,
        "d_loss": 0.5,
        "watch_kind": "stacked",
        "watch_modes": 1000,
        "watch_covered": 612,
        "watch_kl": 0.7,
        "watch_top_share": 0.01,
        "watch_confidence": 0.8,
        "watch_collapsed": False,
    }


def feature_check(step: int = 100, coverage: float = 0.84) -> dict:
    """One check of the features watch (no labelling model): no modes, no histogram."""
    return {
        "step": step,
        "d_loss": 0.5,
        "watch_kind": "features",
        "watch_coverage": coverage,
        "watch_density": 0.9,
        "watch_spread": 0.95,
        "watch_collapsed": False,
    }


def write_run(folder: Path, records: list[dict], **overrides) -> Path:
    """A run folder with a tiny config, these records as metrics.jsonl, and no checkpoint (a quick report)."""
    (folder / "samples").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(tiny("nsgan", **overrides).to_dict()))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def write_trials_run(folder: Path, logs: list[list[dict]]) -> Path:
    """A trials run folder of ``len(logs)`` trials, trial k's metrics.jsonl holding ``logs[k]``."""
    trials = {"train.trials": len(logs), "train.trials_mode": "sequential"}
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(tiny("nsgan", **trials).to_dict()))
    for k, records in enumerate(logs):
        write_run(folder / f"trial-{k:02d}", records, **{"train.seed": k})
    return folder
