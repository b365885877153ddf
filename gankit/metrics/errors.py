"""Errors of the metrics package (all :class:`gankit.errors.GankitError`, shown without a traceback)."""

from gankit.errors import GankitError


class MetricInputError(GankitError, ValueError):
    """Inputs a metric cannot score: wrong shapes, too few samples, mismatched feature sets."""


class EvaluatorError(GankitError):
    """An evaluation network that is missing, corrupt or does not fit the images."""
