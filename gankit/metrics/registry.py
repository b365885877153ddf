"""The metric registry: each metric declares when it applies, how it is computed and what it records.

Modelled on StyleGAN2-ADA's ``metric_main.py`` (a dict name → function, ``is_valid_metric``, results that
carry their own fields), with a predicate added: a :class:`Metric` has

- ``needs``: the :class:`Need` s a scoring must meet (image data with a feature extractor, grey images and a
  classifier, 3-channel stacked digits, 2-D toy points, a conditional run…); ``applies(context)`` is true
  when all are met, and their texts say why a metric does not apply;
- ``compute(context)`` → its entries of the result's ``"metrics"`` section;
- ``record(context)`` → its entries of the ``"protocol"`` section (e.g. KID's subsets, PRDC's k).

Every metric sees one shared :class:`Context` (the scored samples, the reference, the extractor, the
latent and the protocol), which computes the features and logits once. A metric module calls
``register(Metric(...))``; ``gankit.metrics.catalog`` imports every such module, one line each, and
selects and computes the metrics of a scoring. The reference features come through a
:class:`gankit.metrics.feature_cache.FeatureCache` (memory, and disk if it has a folder).
``compute`` may raise :class:`NotMeasured`: the metric applies but cannot be measured here, and the
result's protocol says why instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch

from gankit.latent import Latent, LatentSpace
from gankit.metrics.errors import MetricInputError
from gankit.metrics.extractors import FeatureExtractor
from gankit.metrics.feature_cache import FeatureCache
from gankit.metrics.protocol import Protocol
from gankit.registry import Registry


class NotMeasured(Exception):
    """Raised by ``Metric.compute`` when the metric applies but cannot be measured (the message says why)."""


@dataclass
class Context:
    """What the metrics of one scoring share; features and logits are computed on first use, once."""

    protocol: Protocol  # resolved: n_fake and features filled in
    data: str  # the data set's name
    fake: torch.Tensor  # the scored samples: images (N, C, H, W), uint8 or [−1, 1] floats, or points (N, D)
    real: torch.Tensor | None = None  # the reference samples (images), if loaded
    extractor: FeatureExtractor | None = None
    space: LatentSpace | None = None  # the run's latent space (None: real images are scored)
    latent: Latent | None = None  # the inputs that made ``fake``
    cache: FeatureCache = field(default_factory=lambda: FeatureCache(None))  # the reference features' cache
    reference_source: str | None = None  # where real_features came from: "memory", "disk" or "computed"

    @property
    def is_image(self) -> bool:
        return self.fake.dim() == 4

    @property
    def channels(self) -> int:
        return self.fake.shape[1] if self.is_image else 0

    def _require(self) -> tuple[torch.Tensor, FeatureExtractor]:
        if self.real is None or self.extractor is None:
            raise MetricInputError("this metric needs reference images and a feature extractor")
        if self.fake.shape[1:] != self.real.shape[1:]:
            raise MetricInputError(
                f"generated images {tuple(self.fake.shape[1:])} and reference images {tuple(self.real.shape[1:])} "
                "differ in shape; score against data of the run's size and channels"
            )
        return self.real, self.extractor

    @property
    def precision(self) -> str:
        return self.protocol.precision or "fp32"

    @cached_property
    def real_features(self) -> torch.Tensor:
        real, extractor = self._require()
        features, self.reference_source = self.cache.features(extractor, real, self.precision)
        return features

    @cached_property
    def fake_features(self) -> torch.Tensor:
        self._require()
        return self._fake_features

    @cached_property
    def _fake_features(self) -> torch.Tensor:
        if self.extractor is None:
            raise MetricInputError("this metric needs a feature extractor")
        return self.extractor.features(self.fake, self.precision)

    @cached_property
    def fake_logits(self) -> torch.Tensor:
        if self.extractor is None:
            raise MetricInputError("this metric needs a classifier extractor")
        if self.extractor.head_fn is not None and self.channels == 1:  # one pass of the network for both
            return self.extractor.logits_from_features(self._fake_features)
        return self.extractor.logits(self.fake, self.precision)


@dataclass(frozen=True)
class Need:
    """A condition a scoring must meet for a metric to apply; ``text`` names it for help and errors."""

    text: str
    test: Callable[[Context], bool]

    def __call__(self, context: Context) -> bool:
        return self.test(context)


def _has_logits(c: Context) -> bool:
    return c.extractor is not None and c.extractor.logits_fn is not None


IMAGES = Need("images", lambda c: c.is_image)
FEATURES = Need("a feature extractor (--features)", lambda c: c.extractor is not None)
GREY = Need("grey images", lambda c: c.channels == 1)
STACKED = Need("3-channel stacked digits", lambda c: c.channels == 3)
CLASSIFIER = Need("a classifier extractor (mnist, fashion-mnist)", _has_logits)
CLASSES = Need("a class-conditional run (cgan)", lambda c: c.space is not None and c.space.num_classes > 0)
CATEGORICAL = Need("a run with a categorical code (infogan)", lambda c: c.space is not None and c.space.categorical > 0)
EXTRACTOR_NEEDS = (FEATURES, CLASSIFIER)


def _nothing(context: Context) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Metric:
    """A metric: its name, what it needs, how it is computed and what it records (see the module docstring)."""

    name: str
    summary: str  # one line for `gankit eval --help`
    needs: tuple[Need, ...]
    compute: Callable[[Context], dict[str, Any]]
    record: Callable[[Context], dict[str, Any]] = field(default=_nothing)
    default: bool = True  # computed when no --metrics are named; False for a costly metric, computed on request

    def applies(self, context: Context) -> bool:
        return all(need(context) for need in self.needs)

    def why_not(self, context: Context) -> str | None:
        """What the scoring lacks for this metric (None if it applies)."""
        missing = [need.text for need in self.needs if not need(context)]
        return f"{self.name} needs {' and '.join(missing)}" if missing else None

    @property
    def needs_extractor(self) -> bool:
        return any(need in EXTRACTOR_NEEDS for need in self.needs)

    @property
    def requirements(self) -> str:
        return " and ".join(need.text for need in self.needs)


METRICS: Registry[Metric] = Registry("metric")  # filled by the metric modules (see gankit.metrics.catalog)


def register(metric: Metric) -> Metric:
    """Add a metric to ``METRICS`` (a name registered twice is a bug, and raises)."""
    return METRICS.register(metric.name, metric)
