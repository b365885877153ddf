"""Metrics of generators with a class or a categorical code, judged by the data set's evaluator classifier.

**Class accuracy** (conditional GAN, Mirza & Osindero 2014): ask G for n samples of each class y and count
how many the classifier C puts in class y::

    acc_y = (1/n) · #{i : C(G(z_i, y)) = y},        mean accuracy = (1/K) · Σ_y acc_y

The evaluator's own test accuracy (99.35% on MNIST) is the ceiling of what real images of class y would get.

**Categorical-code accuracy** (InfoGAN, Chen et al. 2016, sec. 7.1: "5% error rate" on MNIST): the code c
is learned without labels, so category c need not mean digit c. Draw n samples per category (noise and the
continuous codes from their priors), classify them, count M[c, d] = #{samples of category c classified as
d}, and match categories to digits one-to-one so that the matched counts are largest (the assignment
problem, solved by the Hungarian method: ``scipy.optimize.linear_sum_assignment``, Kuhn 1955)::

    accuracy = max over one-to-one π of  Σ_c M[c, π(c)] / Σ M

With more categories than classes the unmatched categories count as wrong; a code that ignores the digit
scores about chance (a little above 1/K, the best matching of noise).

**Recognition accuracy** (the paper's own measurement: "c1 ... can be used as a classifier that achieves 5%
error rate in classifying MNIST digits"): InfoGAN's recognition network Q classifies *real* labelled digits,
each into its most likely category, q(x) = argmax_c Q(c | x); then M[c, d] = #{real images of digit d with
q(x) = c} is matched one-to-one as above. It judges the code with Q, where the categorical-code accuracy
judges G's samples with an independent classifier; both match categories to digits the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from gankit.latent import Latent
from gankit.metrics.errors import MetricInputError

if TYPE_CHECKING:
    from gankit.trained import TrainedGenerator

Classify = Callable[[Tensor], Tensor]  # images (N, C, H, W) → predicted class indices (N,)
Recognise = Callable[[Tensor], Tensor]  # images (N, C, H, W) → Q's most likely category (N,)


@dataclass(frozen=True)
class ClassAccuracy:
    """Per-class accuracy of a conditional G: ``per_class[y]`` of the ``counts[y]`` samples asked for y."""

    per_class: list[float]
    counts: list[int]

    @property
    def mean(self) -> float:
        """The mean over classes (every class weighs the same)."""
        return sum(self.per_class) / len(self.per_class)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "min": min(self.per_class)} | asdict(self)


@dataclass(frozen=True)
class CodeMatching:
    """The best one-to-one matching of categories to classes: ``matching[c]`` is the class of category c
    (None if unmatched), ``counts[c][d]`` the samples of category c classified as d."""

    accuracy: float
    matching: list[int | None]
    counts: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_labels(values: Tensor, count: int, what: str) -> Tensor:
    values = torch.as_tensor(values).long().flatten().cpu()
    if values.numel() and (values.min() < 0 or values.max() >= count):
        raise MetricInputError(f"{what} must lie in 0..{count - 1}, got {values.min()}..{values.max()}")
    return values


def confusion_counts(rows: Tensor, cols: Tensor, num_rows: int, num_cols: int) -> Tensor:
    """M[r, c] = #{i : rows_i = r and cols_i = c}, an int64 (num_rows, num_cols) matrix."""
    rows, cols = _check_labels(rows, num_rows, "rows"), _check_labels(cols, num_cols, "columns")
    if len(rows) != len(cols):
        raise MetricInputError(f"{len(rows)} intended labels but {len(cols)} predictions")
    return torch.bincount(rows * num_cols + cols, minlength=num_rows * num_cols).view(num_rows, num_cols)


def class_accuracy_from(asked: Tensor, predicted: Tensor, num_classes: int) -> ClassAccuracy:
    """Per-class accuracy from the classes asked of G and the classes the classifier saw."""
    counts = confusion_counts(asked, predicted, num_classes, num_classes)
    per_class = counts.sum(1)
    if (per_class == 0).any():
        missing = (per_class == 0).nonzero().flatten().tolist()
        raise MetricInputError(f"no samples were asked of class(es) {missing}; ask for every class")
    accuracy = counts.diagonal().double() / per_class
    return ClassAccuracy(accuracy.tolist(), per_class.tolist())


def hungarian_matching(categories: Tensor, predicted: Tensor, num_categories: int, num_classes: int) -> CodeMatching:
    """The categorical-code accuracy after the best one-to-one matching of categories to classes."""
    counts = confusion_counts(categories, predicted, num_categories, num_classes)
    if counts.sum() == 0:
        raise MetricInputError("no samples to match")
    from scipy.optimize import linear_sum_assignment  # here: importing scipy.optimize takes 0.8 s

    rows, cols = linear_sum_assignment(counts.numpy(), maximize=True)
    matching: list[int | None] = [None] * num_categories
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        matching[r] = c
    accuracy = float(counts[rows, cols].sum()) / float(counts.sum())
    return CodeMatching(accuracy, matching, counts.tolist())


def balanced_latents(trained: TrainedGenerator, n: int, seed: int = 0) -> Latent:
    """``trained.latents(n, seed)`` (a CGAN's classes in turn) with an InfoGAN's category also in turn,
    0, 1, …, K−1, 0, …; noise and continuous codes stay draws from their priors."""
    latent = trained.latents(n, seed)
    space = trained.space
    if not space.categorical:
        return latent
    codes = space.codes(latent.z)
    category = torch.arange(n) % space.categorical
    continuous = codes.continuous if space.continuous else None
    return space.compose(latent.z[:, : space.noise_dim], category, continuous, latent.y)


def class_accuracy(
    trained: TrainedGenerator, classify: Classify, n_per_class: int = 1000, seed: int = 0
) -> ClassAccuracy:
    """Class accuracy of a conditional G: ``n_per_class`` seeded samples of each class, classified."""
    k = trained.space.num_classes
    if not k:
        raise MetricInputError("class accuracy needs a class-conditional generator (e.g. the cgan recipe)")
    if n_per_class < 1:
        raise MetricInputError(f"n_per_class must be at least 1, got {n_per_class}")
    latent = trained.latents(k * n_per_class, seed)
    return class_accuracy_from(latent.y, classify(trained.generate_from(latent)), k)


def categorical_code_accuracy(
    trained: TrainedGenerator, classify: Classify, num_classes: int = 10, n_per_category: int = 1000, seed: int = 0
) -> CodeMatching:
    """InfoGAN's categorical-code accuracy: ``n_per_category`` seeded samples of each category, classified
    into ``num_classes`` classes, matched one-to-one (Hungarian)."""
    k = trained.space.categorical
    if not k:
        raise MetricInputError("categorical-code accuracy needs a generator with a categorical code (infogan)")
    if n_per_category < 1:
        raise MetricInputError(f"n_per_category must be at least 1, got {n_per_category}")
    latent = balanced_latents(trained, k * n_per_category, seed)
    predicted = classify(trained.generate_from(latent))
    return hungarian_matching(trained.space.codes(latent.z).category, predicted, k, num_classes)


def recognition_accuracy(
    recognise: Recognise, images: Tensor, labels: Tensor, num_categories: int, num_classes: int, batch: int = 1000
) -> CodeMatching:
    """Q as a classifier of real labelled ``images``: their categories ``recognise(images)`` (in batches of
    ``batch``) matched one-to-one to ``labels`` (Hungarian), as Chen et al. (2016) measured InfoGAN's code."""
    if len(images) != len(labels):
        raise MetricInputError(f"{len(images)} images but {len(labels)} labels")
    if batch < 1:
        raise MetricInputError(f"batch must be at least 1, got {batch}")
    with torch.no_grad():
        categories = [recognise(images[i : i + batch]).cpu() for i in range(0, len(images), batch)]
    found = torch.cat(categories) if categories else torch.empty(0, dtype=torch.long)
    return hungarian_matching(found, labels, num_categories, num_classes)
