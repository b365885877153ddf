"""The spread of a number over trials: mean ± standard error, min and max (Lucic et al. 2018 report GANs so).

The standard error is s/√n with s the sample standard deviation (n − 1 in the denominator); with one trial it
is undefined (``None``). Non-finite values (a diverged trial's loss) are counted apart, not averaged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


def spread(values: Iterable[float]) -> dict[str, Any]:
    """``{"n", "mean", "se", "min", "max", "nonfinite"}`` of the finite ``values``."""
    given = [float(v) for v in values]
    finite = [v for v in given if math.isfinite(v)]
    n = len(finite)
    out: dict[str, Any] = {"n": n, "nonfinite": len(given) - n}
    if not n:
        return out | {"mean": None, "se": None, "min": None, "max": None}
    mean = math.fsum(finite) / n
    se = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1) / n) if n > 1 else None
    return out | {"mean": mean, "se": se, "min": min(finite), "max": max(finite)}


def numbers(tree: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric leaves of a nested result (``{"fid": 3.1, "modes": {"covered": 9, "counts": […]}}`` →
    ``{"fid": 3.1, "modes.covered": 9.0}``); lists and text are left out."""
    out: dict[str, float] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= numbers(value, name + ".")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def spreads(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The spread of each numeric leaf over ``rows`` (one nested result per trial), in first-seen order."""
    flat = [numbers(row) for row in rows]
    names = list(dict.fromkeys(name for row in flat for name in row))
    return {name: spread(row[name] for row in flat if name in row) for name in names}


def format_spread(s: Mapping[str, Any]) -> str:
    """``3.12 ± 0.05 (min 3.01, max 3.20, n 4)``: the standard error after ±."""
    if s["mean"] is None:
        return f"no finite value ({s['nonfinite']} non-finite)"
    bad = f", {s['nonfinite']} non-finite" if s["nonfinite"] else ""
    return f"{format_mean_se(s)} (min {_number(s['min'])}, max {_number(s['max'])}, n {s['n']}{bad})"


def format_mean_se(s: Mapping[str, Any]) -> str:
    """``3.12 ± 0.05``: the mean and its standard error (the mean alone for one value; empty for none)."""
    if s["mean"] is None:
        return ""
    return _number(s["mean"]) + (f" ± {s['se']:.3g}" if s["se"] is not None else "")


def _number(value: float) -> str:
    """4 significant digits; a whole number as a whole number (10,000, not 1e+04)."""
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4g}"
