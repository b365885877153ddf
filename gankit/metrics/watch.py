"""The collapse watch's measurements: how a fixed batch of G's samples spreads over the data's modes.

Pure functions of samples (the schedule that generates the batch every ``train.watch_every`` steps is
``gankit.training.watch``). One *probe* per kind of data, each returning the flat keys of docs/collapse-watch.md
(the record schema shared with the report page):

* ``classes``: MNIST / Fashion-MNIST, labelled by the shipped classifier (``gankit.metrics.extractors``);
* ``stacked``: Stacked MNIST's 1,000 modes, each channel labelled by the MNIST classifier;
* ``toy``: the 2-D mixtures (ring8, grid25): each point's nearest mode (``gankit.metrics.modes``), and the share of
  points within 3σ of it (PacGAN's high quality);
* ``features``: other 28×28 images (no labelling model): coverage and density (Naeem et al. 2020) of the batch
  against a fixed real sample in the MNIST classifier's features, and the spread ratio (mean pairwise feature
  distance of the batch ÷ that of the real sample); a sample's "label" is its nearest real sample.

**When a check counts as collapsed** (``watch_collapsed``), for n samples over K modes:

* a mode is *covered* when it holds at least ``max(1, ⌈0.1·n/K⌉)`` samples (a tenth of its even share), so a few
  misclassified samples do not count as a mode;
* collapsed when fewer modes are covered than ``COVER_FRACTION`` (0.8) of what a perfect sampler's n samples
  cover on average (:func:`expected_covered`), or when KL(p ‖ uniform) exceeds ``KL_SHARE`` (0.15) · log K plus
  the KL such a sampler shows by chance (``modes.expected_kl_of_uniform_sample``): as uneven as samples spread
  evenly over only K^0.85 modes (7 of 10 classes, 6 of 8 ring modes);
* features: collapsed when the spread ratio falls below ``SPREAD_FLOOR`` (0.5) or coverage below
  ``COVERAGE_FLOOR`` (0.2).

The calibration of these values on healthy and collapsing runs is benchmarks/collapse_watch.py (docs/collapse-watch.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from gankit.data.toy import TOY_MODES, ToyModes
from gankit.metrics.errors import EvaluatorError
from gankit.metrics.extractors import FeatureExtractor, classifier_extractor
from gankit.metrics.modes import (
    STACKED_MODES,
    class_histogram,
    count_toy_modes,
    expected_kl_of_uniform_sample,
    reverse_kl_to_uniform,
)
from gankit.metrics.prdc import precision_recall_density_coverage

KINDS = ("classes", "stacked", "toy", "features")
MIN_SHARE = 0.1  # a mode is covered with at least this share of its even share of the batch
COVER_FRACTION = 0.8  # collapsed below this fraction of a perfect sampler's expected coverage
KL_SHARE = 0.15  # collapsed above KL_SHARE · log K (+ a perfect sampler's chance KL)
SPREAD_FLOOR = 0.5  # features: collapsed below this spread ratio …
COVERAGE_FLOOR = 0.2  # … or this coverage
HISTOGRAM_MODES = 100  # watch_histogram is written for K up to this
PRDC_K = 5  # Naeem et al. 2020
LABELLED = {"mnist": "mnist", "fashion-mnist": "fashion-mnist"}  # data → its classifier
STACKED = ("stacked-mnist", "stacked-mnist-128k")
FEATURE_SHAPE = (28, 28)  # the MNIST classifier's input size (the features kind needs it)


@dataclass
class Check:
    """One check's result: the record's keys (without ``watch_hopped``), each sample's label, the missing modes."""

    values: dict[str, Any]
    labels: torch.Tensor
    missing: list[int] = field(default_factory=list)


class Probe(Protocol):
    kind: str

    def measure(self, fake: torch.Tensor) -> Check: ...


def min_count(n: int, num_modes: int) -> int:
    """The samples a mode needs to count as covered: a tenth of its even share, at least one."""
    return max(1, math.ceil(MIN_SHARE * n / num_modes))


def expected_covered(num_modes: int, n: int) -> float:
    """Modes a perfect sampler's n samples cover on average (each mode ~ Binomial(n, 1/K) ≥ ``min_count``)."""
    m, p = min_count(n, num_modes), 1 / num_modes
    log_choose = [math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) for j in range(m)]
    below = sum(math.exp(c + j * math.log(p) + (n - j) * math.log1p(-p)) for j, c in enumerate(log_choose))
    return num_modes * (1 - below)


def cover_floor(num_modes: int, n: int) -> float:
    """Fewer covered modes than this: collapsed."""
    return COVER_FRACTION * expected_covered(num_modes, n)


def kl_ceiling(num_modes: int, n: int) -> float:
    """A KL(p ‖ uniform) above this: collapsed."""
    return KL_SHARE * math.log(num_modes) + expected_kl_of_uniform_sample(num_modes, n)


def mode_values(counts: torch.Tensor) -> tuple[dict[str, Any], list[int]]:
    """The mode keys of a histogram of the batch over K modes, whether they are collapsed, and the missing modes."""
    k, n = len(counts), int(counts.sum())
    enough = counts >= min_count(n, k)
    covered, kl = int(enough.sum()), reverse_kl_to_uniform(counts)
    values: dict[str, Any] = {
        "watch_modes": k,
        "watch_covered": covered,
        "watch_kl": round(kl, 5),
        "watch_top_share": round(int(counts.max()) / n, 5),
    }
    if k <= HISTOGRAM_MODES:
        values["watch_histogram"] = counts.tolist()
    values["watch_collapsed"] = covered < cover_floor(k, n) or kl > kl_ceiling(k, n)
    return values, (~enough).nonzero().flatten().tolist()


def _confidence(logits: torch.Tensor) -> float:
    return round(float(logits.float().softmax(dim=1).max(dim=1).values.mean()), 5)


class ClassProbe:
    """MNIST / Fashion-MNIST: each sample's class by the shipped classifier."""

    kind = "classes"

    def __init__(self, extractor: FeatureExtractor, num_classes: int = 10):
        self.extractor, self.num_classes = extractor, num_classes

    def measure(self, fake: torch.Tensor) -> Check:
        logits = self.extractor.logits(fake)
        labels = logits.argmax(dim=1)
        values, missing = mode_values(class_histogram(labels, self.num_classes))
        return Check({"watch_kind": self.kind, **values, "watch_confidence": _confidence(logits)}, labels, missing)


class StackedProbe:
    """Stacked MNIST: mode 100·c₀ + 10·c₁ + c₂ of the three channels' MNIST classes (1,000 modes)."""

    kind = "stacked"

    def __init__(self, extractor: FeatureExtractor):
        self.extractor = extractor

    def measure(self, fake: torch.Tensor) -> Check:
        logits = [self.extractor.logits(fake[:, c : c + 1]) for c in range(3)]
        digits = [part.argmax(dim=1) for part in logits]
        labels = 100 * digits[0] + 10 * digits[1] + digits[2]
        values, missing = mode_values(class_histogram(labels, STACKED_MODES))
        confidence = round(sum(_confidence(part) for part in logits) / 3, 5)
        return Check({"watch_kind": self.kind, **values, "watch_confidence": confidence}, labels, missing)


class ToyProbe:
    """2-D mixtures: nearest mode of each point. Coverage counts every point at its nearest mode, so that it
    measures spread, not quality (early and on grid25 few points lie within PacGAN's 3σ); the share within 3σ
    is ``watch_high_quality``."""

    kind = "toy"

    def __init__(self, modes: ToyModes):
        self.modes = modes

    def measure(self, fake: torch.Tensor) -> Check:
        report = count_toy_modes(fake.float(), self.modes)
        labels = torch.cdist(fake.detach().cpu().double(), self.modes.centers.double()).argmin(dim=1)
        values, missing = mode_values(torch.tensor(report.counts))
        values = {"watch_kind": self.kind, **values, "watch_high_quality": round(report.high_quality, 5)}
        return Check(values, labels, missing)


def mean_distance(features: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance of the rows of ``features``."""
    return float(torch.pdist(features.double()).mean()) if len(features) > 1 else 0.0


class FeatureProbe:
    """Images without a labelling model: coverage, density and spread in the extractor's features against a
    fixed real sample; a sample's label is its nearest real sample."""

    kind = "features"

    def __init__(self, extractor: FeatureExtractor, real: torch.Tensor):
        self.extractor = extractor
        self.real = extractor.features(real)
        self.real_spread = mean_distance(self.real)

    def measure(self, fake: torch.Tensor) -> Check:
        features = self.extractor.features(fake)
        prdc = precision_recall_density_coverage(self.real, features, k=PRDC_K)
        spread = mean_distance(features) / self.real_spread if self.real_spread > 0 else 0.0
        labels = torch.cdist(features, self.real).argmin(dim=1)
        values = {
            "watch_kind": self.kind,
            "watch_coverage": round(prdc.coverage, 5),
            "watch_density": round(prdc.density, 5),
            "watch_spread": round(spread, 5),
            "watch_collapsed": spread < SPREAD_FLOOR or prdc.coverage < COVERAGE_FLOOR,
        }
        return Check(values, labels)


def choose_probe(data: str, shape: tuple[int, ...], real: torch.Tensor) -> tuple[Probe | None, str]:
    """The probe for data set ``data`` of example ``shape`` (``real``: a fixed real sample, for the features
    kind), or None and why the watch is off."""
    try:
        if data in TOY_MODES and shape == (2,):
            return ToyProbe(TOY_MODES[data]()), "toy"
        if data in LABELLED and shape == (1, *FEATURE_SHAPE):
            return ClassProbe(classifier_extractor(LABELLED[data])), "classes"
        if data in STACKED and shape == (3, *FEATURE_SHAPE):
            return StackedProbe(classifier_extractor("mnist")), "stacked"
        if len(shape) == 3 and shape[1:] == FEATURE_SHAPE and len(real) > PRDC_K:
            return FeatureProbe(classifier_extractor("mnist"), real), "features"
        if len(shape) == 3 and shape[1:] == FEATURE_SHAPE:
            return None, f"coverage in features needs more than {PRDC_K} real images, the data has {len(real)}"
    except EvaluatorError as e:
        return None, f"its evaluator cannot load ({e})"
    return None, (
        f"gankit has no feature extractor for {data} examples of shape {'×'.join(map(str, shape))} (the collapse "
        "watch needs 2-D mixture points or 28×28 images)"
    )


def hopped(previous: torch.Tensor | None, labels: torch.Tensor) -> float | None:
    """The fraction of the batch whose label changed since the previous check (None: no previous check)."""
    if previous is None or len(previous) != len(labels):
        return None
    return round(float((previous.cpu() != labels.cpu()).double().mean()), 5)
