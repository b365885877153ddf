"""``gankit report RUN``: one self-contained HTML page about a run (no server, no internet needed).

Sections: the run at a glance, sample grids over training, loss and metric curves, the collapse watch
(if the run logged its checks: ``gankit.viz.watch_view``), the latest logged values and ``eval.json`` (if
present) with its protocol, the latent space (traversals, per-class grids, or the 2-D scatter for toy
data), and the complete config. Pictures are embedded as data URIs and plots as inline SVG.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from gankit.config import Config
from gankit.errors import CheckpointError
from gankit.images import png_bytes
from gankit.store.checkpoint import list_checkpoints
from gankit.store.jsonfiles import read_json, read_jsonl
from gankit.store.layout import RunPaths, read_config
from gankit.store.outputs import check_output_file, write_atomic
from gankit.trained import TrainedGenerator, load_generator
from gankit.version import __version__
from gankit.viz.animate import TRAINING_FPS, TRAINING_HOLD_S, gif_bytes, sample_grids, strip_of, training_frames
from gankit.viz.grids import class_grid, code_grid, traversal_grid
from gankit.viz.latent import LatentLayout, latent_layout, sample_z
from gankit.viz.plots import curve_figure, curve_groups, figure_png, figure_svg, scatter_figure
from gankit.viz.watch_view import watch_view


def _warn(message: str) -> None:
    print(f"gankit: warning: {message}", file=sys.stderr)


MAX_STRIP = 10  # sample grids shown in the strip over training
MAX_GIF_FRAMES = 24  # sample grids in the report's animation of training (~5 KB each for digits)
MAX_CURVES = 24  # plots of logged fields; the others are named in a note (a log of 3,000 fields stays quick)
TRAVERSAL_DIMS = 6  # latent coordinates swept in the traversal figure


@dataclass
class Picture:
    title: str
    caption: str
    data_uri: str


@dataclass
class RunSummary:
    """What the report shows, read from a run directory."""

    root: Path
    config: Config
    records: list[dict[str, Any]]
    grids: list[tuple[int, Path]]
    evaluation: dict[str, Any] | None
    latent: list[Picture] = field(default_factory=list)


def read_records(path: Path, warn: Callable[[str], None] = _warn) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl`` (an empty list if the run has not logged yet).

    A damaged line is an error naming it; a last line still being written (or cut off by a crash) is
    skipped with a warning.
    """
    lines = read_jsonl(path)
    if lines.bad:
        n, problem = lines.bad[0]
        raise CheckpointError(f"{path} line {n} {problem} — repair or delete that line ({len(lines.bad)} in all)")
    if lines.torn is not None:
        warn(f"{path}: skipped its last line, which is incomplete (still being written, or cut off by a crash)")
    return lines.records


def read_evaluation(path: Path) -> dict[str, Any] | None:
    """``eval.json`` (sample-quality metrics and their protocol) as a mapping, or None if there is none."""
    if not path.is_file():
        return None
    evaluation = read_json(path)
    if not isinstance(evaluation, dict):
        raise CheckpointError(f"{path} must hold a JSON object of metrics, got {type(evaluation).__name__}")
    return evaluation


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def training_gif(grids: list[tuple[int, Path]], n: int = MAX_GIF_FRAMES) -> str | None:
    """The animation of ``gankit animate RUN`` (at most ``n`` grids, evenly spread) as a data URI, made anew from
    the grids (so it is never stale and the report writes nothing else); None for fewer than 2 grids."""
    if len(grids) < 2:
        return None
    frames, labels = training_frames(strip_of(grids, n))
    return data_uri(gif_bytes(frames, TRAINING_FPS, labels, TRAINING_HOLD_S), "image/gif")


def format_value(value: Any) -> str:
    """Numbers as the report prints them (6 significant digits); anything else as text."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if not isinstance(value, (int, float)):
        return json.dumps(value) if isinstance(value, (list, tuple, dict)) else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def latent_pictures(trained: TrainedGenerator, layout: LatentLayout, seed: int = 0) -> list[Picture]:
    """Traversals of z (images) or the sample scatter (2-D data), and per-class / per-code grids."""
    if layout.output == "points":
        from gankit.data import load_data

        reference = load_data(trained.config.data, log=lambda _: None).x[:2000]
        if tuple(reference.shape[1:]) != trained.data_shape:
            raise CheckpointError(
                f"the G of {trained.checkpoint} makes {'×'.join(map(str, trained.data_shape))}-D points, but the "
                f"run's config.json says data.name={trained.config.data.name}, whose data have shape "
                f"{'×'.join(map(str, reference.shape[1:]))}: config.json was edited or belongs to another run"
            )
        figure = scatter_figure(trained.generate(2000, seed=seed), reference)
        caption = "2,000 points G(z) (blue) over 2,000 real points (grey)."
        return [Picture("Samples", caption, data_uri(figure_png(figure)))]
    pictures = []
    z = sample_z(layout, 8, seed)
    if layout.classes:
        caption = "One row per class (" + ", ".join(layout.classes) + "); the same 8 z in every row."
        pictures.append(Picture("Per class", caption, data_uri(png_bytes(class_grid(trained, layout, z)))))
    if layout.continuous or layout.categories:
        parts = []
        if layout.continuous:
            names = ", ".join(c.name for c in layout.continuous)
            code = layout.continuous[0]
            span = f"[{code.low:g}, {code.high:g}] (prior U({code.prior[0]:g}, {code.prior[1]:g}))"
            parts.append(f"each continuous code ({names}) swept across {span}")
        if layout.categories:
            parts.append(f"the {layout.categories} values of the categorical code, 8 z per row")
        caption = "Rows: " + "; then ".join(parts) + ". Other codes at their centre."
        pictures.append(Picture("InfoGAN codes", caption, data_uri(png_bytes(code_grid(trained, layout, z)))))
    dims = list(range(min(TRAVERSAL_DIMS, layout.latent_dim)))
    lo, hi = layout.z_range
    grid = traversal_grid(trained, layout, z[0], dims, steps=8)
    caption = f"Row i: z coordinate i swept from {lo:g} to {hi:g}, the other coordinates fixed (rows 0–{dims[-1]})."
    pictures.append(Picture("Latent traversal", caption, data_uri(png_bytes(grid))))
    return pictures


def summarize(run_dir: str | Path) -> RunSummary:
    paths = RunPaths(Path(run_dir))
    cfg = read_config(run_dir)
    evaluation = read_evaluation(paths.root / "eval.json")
    summary = RunSummary(paths.root, cfg, read_records(paths.metrics), sample_grids(paths), evaluation)
    if list_checkpoints(paths.checkpoints):
        trained = load_generator(run_dir)
        summary.latent = latent_pictures(trained, latent_layout(trained))
    return summary


def _table(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, format_value(v)) for k, v in values.items() if not isinstance(v, dict)]


def render_page(template: str, cfg: Config, **context: Any) -> str:
    """A page of the ``templates`` folder (they extend ``base.html``) as one HTML string: ``context``, plus the
    run's config (its header facts and its config section), gankit's version and the time it was made."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gankit.viz", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    sections = [(k, _table(v) if isinstance(v, dict) else [(k, format_value(v))]) for k, v in cfg.to_dict().items()]
    return env.get_template(template).render(
        cfg=cfg,
        config_sections=sections,
        version=__version__,
        made=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **context,
    )


def render_report(summary: RunSummary) -> str:
    """The report page as one HTML string."""
    records = summary.records
    groups = curve_groups(records)
    shown = dict(list(groups.items())[:MAX_CURVES])
    curves = [(title, figure_svg(curve_figure(records, keys, title))) for title, keys in shown.items()]
    left_out = [key for keys in list(groups.values())[MAX_CURVES:] for key in keys]
    evaluation = summary.evaluation or {}
    return render_page(
        "report.html",
        summary.config,
        title=f"{summary.root.name} · gankit report",
        run=summary.root.name,
        last=records[-1] if records else None,
        latest=_table(records[-1]) if records else [],
        strip=[(step, data_uri(png.read_bytes())) for step, png in strip_of(summary.grids, MAX_STRIP)],
        animation=training_gif(summary.grids),
        curves=curves,
        curves_left_out=left_out,
        watch=watch_view(records, summary.config.data.name),
        evaluation=_table(evaluation),
        eval_blocks=[(k, _table(v)) for k, v in evaluation.items() if isinstance(v, dict)],
        latent=summary.latent,
    )


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default ``RUN/report.html``) and return its path."""
    out = check_output_file(out if out is not None else RunPaths(Path(run_dir)).root / "report.html")
    return write_atomic(out, render_report(summarize(run_dir)), fsync=True)
