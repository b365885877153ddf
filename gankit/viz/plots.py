"""Matplotlib figures of a run: training curves and the 2-D sample scatter of toy data.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global state), so they are safe to
make from any thread and never open a window.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.colors import PowerNorm
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
OWN_SECTION = ("watch_",)  # prefixes of fields that a section of their own draws (the collapse watch)
FLAG_COLOUR = "#d92d20"  # points of flagged records (a check that found collapse)
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
    fields = [f for f in numeric_fields(records) if f not in NOT_CURVES and not f.startswith(OWN_SECTION)]
    groups = {title: [f for f in keys if f in fields] for title, keys in CURVE_GROUPS.items()}
    grouped = {f for keys in groups.values() for f in keys}
    groups |= {f: [f] for f in fields if f not in grouped}
    return {title: keys for title, keys in groups.items() if keys}


def curve_figure(
    records: Sequence[Mapping[str, Any]], keys: Sequence[str], title: str = "", flag: str | None = None
) -> Figure:
    """Line plot of log fields against the generator step; the points of records whose field ``flag`` is true
    are ringed in red (labelled with the flag's name)."""
    fig = Figure(figsize=(5.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    series = {
        key: [(r["step"], _as_float(r[key]), r.get(flag) is True) for r in records if _number(r.get(key))]
        for key in keys
    }
    scale = value_scale(v for pts in series.values() for _, v, _ in pts)
    for key, pts in series.items():
        if pts:
            steps, values, _ = zip(*pts, strict=True)
            ax.plot(
                steps, [v / 10**scale for v in values], label=key, linewidth=1.4, marker="." if len(pts) < 30 else None
            )
    marked = [(s, v / 10**scale) for pts in series.values() for s, v, flagged in pts if flagged]
    if marked:
        ax.scatter(*zip(*marked, strict=True), s=36, facecolors="none", edgecolors=FLAG_COLOUR, label=flag, zorder=3)
    if scale:
        ax.set_ylabel(f"× 1e{scale}")
    _step_axes(ax, title)
    if len(keys) > 1 or marked:
        ax.legend(frameon=False, fontsize=9)
    return fig


def spread_figure(runs: Sequence[Sequence[Mapping[str, Any]]], key: str, title: str = "") -> Figure:
    """One log field over trials against the generator step: each trial a thin line, the mean over the trials
    that logged a step a thick one, and the band from their minimum to their maximum."""
    fig = Figure(figsize=(5.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    at: dict[int, list[float]] = {}
    scale = value_scale(float(r[key]) for records in runs for r in records if finite_number(r.get(key)))
    for records in runs:
        pts = [(r["step"], float(r[key]) / 10**scale) for r in records if finite_number(r.get(key))]
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


def strip_figure(
    shares: np.ndarray, steps: Sequence[int], names: Sequence[str], title: str = "", what: str = "mode"
) -> Figure:
    """A histogram over training as an image: row i the shares of the ``what`` at ``steps[i]`` (first at the top),
    column j the one named ``names[j]``, the shade the share (white: none; a square-root scale, so that the share
    of a uniform histogram over many modes is not lost beside that of a collapsed one)."""
    fig = Figure(figsize=(5.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    top = float(shares.max()) if shares.size else 1.0
    norm = PowerNorm(0.5, vmin=0.0, vmax=top or 1.0)
    image = ax.imshow(shares, aspect="auto", cmap="Blues", norm=norm, interpolation="nearest")
    fig.colorbar(image, ax=ax, label="share of the batch", pad=0.01)
    _mode_axis(ax, names, what)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.yaxis.set_major_formatter(lambda y, _: f"{steps[int(y)]:,}" if 0 <= int(y) < len(steps) else "")
    ax.set_ylabel("generator step")
    ax.set_title(title, fontsize=11, loc="left")
    return fig


def histogram_figure(
    counts: Sequence[int], names: Sequence[str], title: str = "", what: str = "mode", marked: Collection[int] = ()
) -> Figure:
    """Counts per ``what`` (mode, class) as bars, a uniform histogram's count dashed, the ``marked`` ones' names (the
    modes not covered) in red."""
    fig = Figure(figsize=(5.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(len(counts)), counts, color="#1f77b4", width=0.8)
    if counts:
        ax.axhline(sum(counts) / len(counts), color="#7a869a", linestyle="--", linewidth=1, label="uniform")
        ax.legend(frameon=False, fontsize=9)
    _mode_axis(ax, names, what, marked)
    ax.set_ylabel("samples")
    ax.set_title(title, fontsize=11, loc="left")
    ax.grid(alpha=0.3, axis="y")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _mode_axis(ax: Any, names: Sequence[str], what: str, marked: Collection[int] = ()) -> None:
    """The x axis of a histogram over ``what``: each one's name (at most 20, else some), the ``marked`` ones red."""
    if len(names) <= 20:
        ax.set_xticks(range(len(names)), names, rotation=90 if max(map(len, names), default=0) > 2 else 0, fontsize=8)
        for i in marked:
            ax.get_xticklabels()[i].set_color(FLAG_COLOUR)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
        ax.xaxis.set_major_formatter(lambda x, _: names[int(x)] if 0 <= int(x) < len(names) else "")
    ax.set_xlabel(what)


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


def finite_number(value: Any) -> bool:
    """Whether ``value`` is a finite int or float (not a bool)."""
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
