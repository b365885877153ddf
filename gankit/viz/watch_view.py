"""What the report, the trials report and the explorer show of the collapse watch (``train.watch_every``).

The watch merges flat ``watch_*`` fields into the metrics.jsonl record of each check: a check is a record with
``watch_kind``. Runs without checks (the watch off, or runs older than it) show nothing of it. The generic
curves leave the ``watch_*`` fields out (``plots.OWN_SECTION``); they are drawn here:

- coverage over the steps (modes covered ÷ K, or the features watch's coverage), KL(p ‖ uniform), the share of
  the batch relabelled since the last check (mode hopping) and the other numbers of the checks, every check
  flagged ``watch_collapsed`` ringed in red;
- the strip of the fixed batch's histogram over the checks (rows: checks, columns: modes, shade: share), where
  the watch logs a histogram (K ≤ ``MAX_STRIP_MODES``);
- the latest check: its histogram and the modes it does not cover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gankit.data.datasets import class_names
from gankit.viz.plots import curve_figure, figure_svg, finite_number, histogram_figure, strip_figure

KIND = "watch_kind"
MAX_STRIP_MODES = 100  # the watch logs no histogram past this many modes (Stacked MNIST's 1,000)
MAX_NAMED = 20  # missing modes and collapsed steps named in a line of text
# The curves of the section: title → (fields of the derived check records, y range or None).
CURVES: dict[str, tuple[tuple[str, ...], tuple[float, float] | None]] = {
    "Coverage of the fixed batch": (("coverage",), (0.0, 1.05)),
    "KL(p ‖ uniform) of its modes, nats": (("kl",), None),
    "Mode hopping: share relabelled since the last check": (("hopped",), (0.0, 1.05)),
    "Shares, confidence and spread of the batch": (
        ("top_share", "confidence", "high_quality", "density", "spread"),
        None,
    ),
}
COMPACT = ("Coverage of the fixed batch",)  # the explorer's curves


@dataclass
class Latest:
    """The latest check in words."""

    step: int
    coverage: str  # "7/10" or the features watch's coverage
    collapsed: bool
    missing: list[str] | None  # names of the modes with no sample; None: the check does not say
    note: str = ""  # why the missing modes are not named


@dataclass
class WatchView:
    """The collapse watch's pictures (SVG) and facts, as the report and the explorer show them."""

    kind: str
    checks: int
    latest: Latest
    collapsed_steps: list[int]
    curves: list[tuple[str, str]] = field(default_factory=list)
    strip: str | None = None
    strip_note: str = ""
    histogram: str | None = None


def watch_checks(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The records of ``metrics.jsonl`` that hold a check of the watch, in the log's order."""
    return [r for r in records if isinstance(r.get(KIND), str) and finite_number(r.get("step"))]


def coverage(check: Mapping[str, Any]) -> float | None:
    """Modes covered ÷ K (kinds with modes) or the features watch's coverage; None if the check has neither."""
    covered, modes = check.get("watch_covered"), check.get("watch_modes")
    if finite_number(covered) and finite_number(modes) and modes > 0:
        return covered / modes
    value = check.get("watch_coverage")
    return float(value) if finite_number(value) else None


def coverage_text(check: Mapping[str, Any]) -> str:
    """``7/10`` (modes covered of K), or the features watch's coverage (``0.842``); empty if neither."""
    covered, modes = check.get("watch_covered"), check.get("watch_modes")
    if finite_number(covered) and finite_number(modes):
        return f"{covered:,}/{modes:,}"
    value = coverage(check)
    return "" if value is None else f"{value:.3g}"


def histogram_strip(checks: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, list[int]] | None:
    """The shares of each mode in the checks' histograms (rows: checks, columns: modes) and the checks' steps;
    the checks whose histogram has the latest one's length; None without one or past ``MAX_STRIP_MODES``."""
    rows = [(c["step"], c["watch_histogram"]) for c in checks if _histogram(c.get("watch_histogram"))]
    if not rows or not _histogram(rows[-1][1], MAX_STRIP_MODES):
        return None
    modes = len(rows[-1][1])
    rows = [(step, counts) for step, counts in rows if len(counts) == modes]
    counts = np.asarray([counts for _, counts in rows], dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0), [step for step, _ in rows]


def uncovered(check: Mapping[str, Any]) -> list[int]:
    """The modes of a check's histogram that it does not count as covered: its K − ``watch_covered`` smallest
    counts (the watch covers a mode from a share of its even share up, so these are exactly the modes below that
    count, with no need to know it here); the empty modes if the check does not say how many it covered."""
    counts = check["watch_histogram"]
    covered, modes = check.get("watch_covered"), len(counts)
    if not (isinstance(covered, int) and not isinstance(covered, bool) and 0 <= covered <= modes):
        return [i for i, count in enumerate(counts) if not count]
    return sorted(range(modes), key=lambda i: counts[i])[: modes - covered]


def watch_view(records: Sequence[Mapping[str, Any]], data_name: str, compact: bool = False) -> WatchView | None:
    """The watch's section of a run whose log is ``records`` (None if it has no check): every picture, or with
    ``compact`` (the explorer) the coverage curve and the latest check's histogram only."""
    checks = watch_checks(records)
    if not checks:
        return None
    last = checks[-1]
    kind = last[KIND]
    modes = last.get("watch_modes")
    histogram = last.get("watch_histogram")
    names = _names(data_name, kind, len(histogram)) if _histogram(histogram, MAX_STRIP_MODES) else None
    view = WatchView(
        kind,
        len(checks),
        _latest(last, names),
        [c["step"] for c in checks if c.get("watch_collapsed") is True],
    )
    derived = [_derived(c) for c in checks]
    for title, (keys, limits) in CURVES.items():
        if (compact and title not in COMPACT) or not any(finite_number(r.get(k)) for r in derived for k in keys):
            continue
        fig = curve_figure(derived, keys, title, flag="collapsed")
        if limits:
            fig.axes[0].set_ylim(*limits)
        view.curves.append((title, figure_svg(fig)))
    if names is not None:
        title = f"{_word(kind).capitalize()} histogram at step {last['step']:,} (latest check)"
        view.histogram = figure_svg(histogram_figure(histogram, names, title, _word(kind), uncovered(last)))
    strip = None if compact else histogram_strip(checks)
    if strip is not None:
        shares, steps = strip
        title = f"{_word(kind).capitalize()} histogram over the checks"
        names = _names(data_name, kind, shares.shape[1])
        view.strip = figure_svg(strip_figure(shares, steps, names, title, _word(kind)))
    elif not compact:
        view.strip_note = _strip_note(kind, modes)
    return view


def _derived(check: Mapping[str, Any]) -> dict[str, Any]:
    """A check as the curves read it: ``coverage``, the ``watch_`` fields without their prefix, ``collapsed``."""
    out = {key.removeprefix("watch_"): value for key, value in check.items() if key.startswith("watch_")}
    return out | {"step": check["step"], "coverage": coverage(check), "collapsed": out.get("collapsed") is True}


def _latest(check: Mapping[str, Any], names: list[str] | None) -> Latest:
    latest = Latest(check["step"], coverage_text(check), check.get("watch_collapsed") is True, None)
    if names is not None:
        latest.missing = [names[i] for i in sorted(uncovered(check))]
    elif check[KIND] == "features":
        latest.note = "the features watch has no labels, so no mode can be named as missing"
    elif finite_number(check.get("watch_modes")) and check["watch_modes"] > MAX_STRIP_MODES:
        latest.note = f"the watch logs no histogram of {check['watch_modes']:,} modes, so the missing are not named"
    else:
        latest.note = "the check logged no histogram"
    return latest


def _names(data_name: str, kind: str, modes: int) -> list[str]:
    """The names of ``modes`` modes: the data's class names for ``classes`` (e.g. Fashion-MNIST's), else 0, 1, …"""
    return list(class_names(data_name, modes)) if kind == "classes" else [str(i) for i in range(modes)]


def _strip_note(kind: str, modes: Any) -> str:
    if finite_number(modes) and modes > MAX_STRIP_MODES:
        return f"No histogram strip: the watch logs no histogram of {modes:,} modes (at most {MAX_STRIP_MODES})."
    if kind == "features":
        return "No histogram strip: the features watch has no labels to count (its coverage and spread are above)."
    return "No histogram strip: the checks logged no histogram."


def _word(kind: str) -> str:
    """What the watch of ``kind`` counts: a class or a mode."""
    return "class" if kind == "classes" else "mode"


def _histogram(value: Any, most: int | None = None) -> bool:
    """Whether ``value`` is a histogram: a non-empty list of counts (at most ``most`` of them)."""
    if not isinstance(value, list) or not value or (most is not None and len(value) > most):
        return False
    return all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 for v in value)
