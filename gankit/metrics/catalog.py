"""Every metric of gankit: its modules, imported so that their metrics register, and the choice of metrics.

A new metric is one module that calls ``register(Metric(...))`` (``gankit.metrics.registry``), and one
import line here; the order of the lines is the order of the metrics in results. ``selected`` / ``choose``
pick the metrics of a scoring (the protocol's ``--metrics``, or every default metric that applies) and ``measure``
computes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gankit.errors import ConfigError
from gankit.metrics import builtin as _builtin  # noqa: F401  fid, kid, prdc, classifier_score, classes, modes, …
from gankit.metrics import swd as _swd  # noqa: F401  sliced Wasserstein distance (Karras et al. 2018)
from gankit.metrics.errors import MetricInputError
from gankit.metrics.registry import METRICS, Context, Metric, NotMeasured


def metrics() -> dict[str, Metric]:
    """Every registered metric, by name, in the order of the imports above."""
    return dict(METRICS)


def is_valid_metric(name: str) -> bool:
    return name in METRICS


def parse_metrics(text: str) -> tuple[str, ...]:
    """``fid,kid`` → ("fid", "kid"), every name checked."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise ConfigError(f"--metrics takes names separated by commas, e.g. --metrics fid,kid; got {text!r}")
    for name in names:
        METRICS.check(name)
    return names


def selected(names: Iterable[str] | None) -> list[Metric]:
    """The metrics ``names`` (all registered ones for None), in registration order; unknown names refused."""
    known = metrics()
    if names is None:
        return list(known.values())
    wanted = {METRICS.check(name) for name in names}
    return [metric for name, metric in known.items() if name in wanted]


def choose(context: Context) -> list[Metric]:
    """The metrics to compute: the protocol's selection (each must apply), or every default metric that applies."""
    if context.protocol.metrics is None:
        return [metric for metric in selected(None) if metric.default and metric.applies(context)]
    chosen = selected(context.protocol.metrics)
    for metric in chosen:
        reason = metric.why_not(context)
        if reason is not None:
            raise MetricInputError(f"--metrics {metric.name} does not apply here: {reason}")
    return chosen


def measure(context: Context, chosen: list[Metric]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compute the metrics: (the result's metrics, their protocol records)."""
    values: dict[str, Any] = {}
    records: dict[str, Any] = {}
    for metric in chosen:
        try:
            values |= metric.compute(context)
        except NotMeasured as e:
            records[metric.name] = f"not measured: {e}"
            continue
        records |= metric.record(context)
    return values, records


def describe() -> str:
    """Two lines per metric: its name and what it gives, then when it applies (``gankit eval --help``)."""
    return "\n".join(
        f"  {m.name:<26}{m.summary}\n  {'':<26}needs {m.requirements}{'' if m.default else '; only on request'}"
        for m in metrics().values()
    )
