"""Score every trial of a trials run: each trial's result in its own folder, and their spread in one file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gankit.metrics.evaluate import evaluate_run, extractor_for, write_result
from gankit.metrics.protocol import Protocol
from gankit.metrics.spread import spreads
from gankit.store.layout import RunPaths, read_config
from gankit.trials.outcome import diverged_trials


def evaluate_trials(
    run_dir: str | Path,
    protocol: Protocol | None = None,
    use_ema: bool = True,
    cache: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Score each started trial of ``run_dir`` at its newest checkpoint under one ``protocol`` (the same z
    seed, reference and feature extractor for all), write each trial's result to its ``eval.json``, and return
    ``{"kind": "trials", "run", "trials": [{"trial", "seed", "status", "step", "metrics"}], "spread": {metric:
    {"n", "mean", "se", "min", "max", "nonfinite"}}}``. Trials that have not started are listed as such."""
    cfg, paths = read_config(run_dir), RunPaths(Path(run_dir))
    protocol = (protocol or Protocol()).resolved(cfg.data.name)
    extractor = extractor_for(protocol, cfg.data.name)
    diverged = diverged_trials(paths)
    rows: list[dict[str, Any]] = []
    scored_under: dict[str, Any] | None = None  # the protocol as the results record it (the same for every trial)
    for k, seed in enumerate(cfg.train.trial_seeds):
        folder = paths.trial(k)
        row: dict[str, Any] = {"trial": k, "seed": seed}
        if not RunPaths(folder).config.is_file():
            rows.append(row | {"status": "not started"})
            continue
        log(f"trial {k} (seed {seed}): scoring {folder}")
        result = evaluate_run(folder, protocol, use_ema=use_ema, extractor=extractor, cache=cache, log=log)
        write_result(result, folder / "eval.json")
        scored_under = scored_under or result["protocol"]
        status = "diverged" if k in diverged else "trained"
        rows.append(row | {"status": status, "step": result["subject"]["step"], "metrics": result["metrics"]})
    scored = [row["metrics"] for row in rows if "metrics" in row]
    return {
        "kind": "trials",
        "run": str(run_dir),
        "recipe": cfg.recipe,
        "protocol": scored_under,
        "trials": rows,
        "spread": spreads(scored),
    }
