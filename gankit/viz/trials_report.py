"""``gankit report RUN`` of a trials run: one self-contained HTML page about all its trials.

Sections: the trials (seed, how each ended, its last logged values, the last coverage of its collapse watch and
its evaluation), sample quality over the trials (mean ± standard error, min, max, from ``gankit eval RUN``), the
last sample grid of each trial, each logged curve over the trials (every trial, and their mean, minimum and
maximum; the watch's coverage first), and the config. Each trial is an ordinary run, so ``gankit report RUN
--trial K`` is its own full report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gankit.metrics.spread import format_mean_se, numbers, spreads
from gankit.store.layout import RunPaths, ended_trials, read_config
from gankit.store.outputs import check_output_file, write_atomic
from gankit.viz.animate import sample_grids
from gankit.viz.plots import curve_groups, figure_svg, spread_figure
from gankit.viz.report import data_uri, format_value, read_evaluation, read_records, render_page
from gankit.viz.watch_view import coverage, coverage_text, watch_checks

LOGGED = ("d_loss", "g_loss")  # the last logged values shown for each trial
COVERAGE = "watch coverage"  # the column and the curve of the collapse watch's coverage (its latest check's)


def _trial_rows(paths: RunPaths, seeds: tuple[int, ...]) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """Each trial's row of the table, and its metrics.jsonl records."""
    ended = ended_trials(paths)
    rows, logs = [], []
    for k, seed in enumerate(seeds):
        folder = RunPaths(paths.trial(k))
        records = read_records(folder.metrics) if folder.config.is_file() else []
        evaluation = read_evaluation(folder.root / "eval.json") or {}
        status = ended[k]["status"] if k in ended else ("not started" if not folder.config.is_file() else "unfinished")
        values = {key: records[-1][key] for key in LOGGED if records and key in records[-1]}
        if checks := watch_checks(records):
            values[COVERAGE] = coverage_text(checks[-1])
        values |= numbers(evaluation.get("metrics", {}))
        rows.append(
            {
                "trial": k,
                "seed": seed,
                "status": status,
                "step": records[-1]["step"] if records else 0,
                "cells": values,
                "metrics": evaluation.get("metrics", {}),
            }
        )
        logs.append(records)
    return rows, logs


def render_trials_report(run_dir: str | Path) -> str:
    """The trials page of ``run_dir`` as one HTML string."""
    paths, cfg = RunPaths(Path(run_dir)), read_config(run_dir)
    rows, logs = _trial_rows(paths, cfg.train.trial_seeds)
    columns = list(dict.fromkeys(name for row in rows for name in row["cells"]))
    for row in rows:
        row["cells"] = {name: format_value(value) for name, value in row["cells"].items()}
    spread = [
        (name, {"mean_se": format_mean_se(s), "min": _num(s["min"]), "max": _num(s["max"]), "n": s["n"]})
        for name, s in spreads(row["metrics"] for row in rows if row["metrics"]).items()
    ]
    grids = []
    for row in rows:
        found = sample_grids(RunPaths(paths.trial(row["trial"])))
        if found:
            grids.append((row["trial"], found[-1][0], data_uri(found[-1][1].read_bytes())))
    every = [r for records in logs for r in records]
    curves = [(key, figure_svg(spread_figure(logs, key, key))) for keys in curve_groups(every).values() for key in keys]
    covered = [[{"step": c["step"], COVERAGE: coverage(c)} for c in watch_checks(records)] for records in logs]
    if any(covered):
        fig = spread_figure(covered, COVERAGE, COVERAGE)
        fig.axes[0].set_ylim(0.0, 1.05)
        curves.insert(0, (COVERAGE, figure_svg(fig)))
    return render_page(
        "trials_report.html",
        cfg,
        title=f"{paths.root.name} · gankit report of {len(rows)} trials",
        run=paths.root.name,
        trials=rows,
        columns=columns,
        scored=any(row["metrics"] for row in rows),
        spread=spread,
        grids=grids,
        curves=curves,
    )


def _num(value: float | None) -> str:
    return "" if value is None else format_value(value)


def write_trials_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the trials page of ``run_dir`` to ``out`` (default ``RUN/report.html``) and return its path."""
    out = check_output_file(out if out is not None else RunPaths(Path(run_dir)).root / "report.html")
    return write_atomic(out, render_trials_report(run_dir), fsync=True)
