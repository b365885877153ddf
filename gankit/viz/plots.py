"""Matplotlib figures of a run: training curves and the 2-D sample scatter of toy data.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global state), so they are safe to
make from any thread and never open a window.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Curves drawn together in one plot; any other numeric field of the log gets a plot of its own.
CURVE_GROUPS = {
    "Losses": ("d_loss", "g_loss", "gp"),
    "Mean D output: D(x), D(G(z))": ("d_real", "d_fake"),
    "Gradient norms": ("g_grad_norm", "d_grad_norm"),
    "Throughput (images/s)": ("images_per_s",),
}
NOT_CURVES = {"step", "epoch", "images_seen", "elapsed_s"}
LARGEST_DRAWN = 1e150  # beyond this magnitude, matplotlib's axis margins overflow: the values are drawn scaled


def numeric_fields(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names of the numeric fields in log records, in first-seen order."""
    names: dict[str, None] = {}
    for r in records:
        for k, v in r.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                names.setdefault(k)
    return list(names)


def curve_groups(records: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Plot title → the fields of the log it shows (only groups with data)."""
    fields = [f for f in numeric_fields(records) if f not in NOT_CURVES]
    groups = {title: [f for f in keys if f in fields] for title, keys in CURVE_GROUPS.items()}
    grouped = {f for keys in groups.values() for f in keys}
    groups |= {f: [f] for f in fields if f not in grouped}
    return {title: keys for title, keys in groups.items() if keys}


def curve_figure(records: Sequence[Mapping[str, Any]], keys: Sequence[str], title: str = "") -> Figure:
    """Line plot of log fields against the generator step."""
    fig = Figure(figsize=(5.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    series = {key: [(r["step"], _as_float(r[key])) for r in records if _number(r.get(key))] for key in keys}
    scale = value_scale(v for pts in series.values() for _, v in pts)
    for key, pts in series.items():
        if pts:
            steps, values = zip(*pts, strict=True)
            values = [v / 10**scale for v in values]
            ax.plot(steps, values, label=key, linewidth=1.4, marker="." if len(pts) < 30 else None)
    if scale:
        ax.set_ylabel(f"× 1e{scale}")
    _step_axes(ax, title)
    if len(keys) > 1:
        ax.legend(frameon=False, fontsize=9)
    return fig


def spread_figure(runs: Sequence[Sequence[Mapping[str, Any]]], key: str, title: str = "") -> Figure:
    """One log field over trials against the generator step: each trial a thin line, the mean over the trials
    that logged a step a thick one, and the band from their minimum to their maximum."""
    fig = Figure(figsize=(5.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    at: dict[int, list[float]] = {}
    scale = value_scale(float(r[key]) for records in runs for r in records if _finite(r.get(key)))
    for records in runs:
        pts = [(r["step"], float(r[key]) / 10**scale) for r in records if _finite(r.get(key))]
        for step, value in pts:
            at.setdefault(step, []).append(value)
        if pts:
            ax.plot(*zip(*pts, strict=True), linewidth=0.6, alpha=0.45, color="#7a869a")
    if at:
        steps = sorted(at)
        ax.fill_between(steps, [min(at[s]) for s in steps], [max(at[s]) for s in steps], alpha=0.2, linewidth=0)
        ax.plot(steps, [sum(at[s]) / len(at[s]) for s in steps], linewidth=1.8, label=f"{key}: mean, min–max")
        ax.legend(frameon=False, fontsize=9)
    if scale:
        ax.set_ylabel(f"× 1e{scale}")
    _step_axes(ax, title)
    return fig


def _step_axes(ax: Any, title: str) -> None:
    """The look of every plot over training: generator steps on x, a light grid, no top and right frame."""
    ax.set_xlabel("generator step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=11, loc="left")
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_float(value: int | float) -> float:
    """``value`` as a float; ±inf for an integer beyond the floats (10**400)."""
    try:
        return float(value)
    except OverflowError:
        return math.copysign(math.inf, value)


def _finite(value: Any) -> bool:
    return _number(value) and math.isfinite(_as_float(value))


def value_scale(values: Any) -> int:
    """The power of ten the values of a plot are divided by (0 unless some finite one exceeds ``LARGEST_DRAWN``,
    as 1e308 does: matplotlib cannot draw the span of such values)."""
    largest = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    return math.floor(math.log10(largest)) if largest > LARGEST_DRAWN else 0


def scatter_figure(
    points: torch.Tensor | np.ndarray, reference: torch.Tensor | np.ndarray | None = None, title: str = ""
) -> Figure:
    """2-D generated points (blue) over the real data (grey)."""
    fig = Figure(figsize=(4.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64)
        ax.scatter(ref[:, 0], ref[:, 1], s=3, c="#bbbbbb", label="data", linewidths=0)
    pts = np.asarray(points, dtype=np.float64)
    ax.scatter(pts[:, 0], pts[:, 1], s=4, c="#1f77b4", label="G(z)", linewidths=0)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=11, loc="left")
    ax.legend(frameon=False, fontsize=9, markerscale=3)
    return fig


def figure_svg(fig: Figure) -> str:
    """The figure as an SVG document (text kept as text, so it is searchable and small)."""
    buf = io.StringIO()
    with _svg_text_as_text():
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _svg_text_as_text():
    import matplotlib

    return matplotlib.rc_context({"svg.fonttype": "none"})
