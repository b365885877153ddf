"""Mode-collapse diagnostics: which classes (modes) the samples fall in, and how unevenly.

For labels of samples over K modes with frequencies p (the empirical distribution of the samples):

    modes covered   = #{k : count_k ≥ min_count}
    reverse KL      = KL(p ‖ uniform) = Σ_k p_k log(K p_k) = log K − H(p)      (nats; 0 iff perfectly even)

The 2-D benchmarks follow PacGAN (Lin et al. 2018, sec. 5.1, Table 1; protocol of VEEGAN, Srivastava et al.
2017): 2,500 samples, each assigned to its nearest mode centre; a sample is *high quality* when it lies
within 3σ of that centre, a mode is *covered* when it has at least one high-quality sample. Two reverse KLs:

    kl_hq  = KL(histogram of the high-quality samples ‖ uniform)   (PacGAN's Table 1: their MetricLogger
             counts a sample in its mode only within 3σ)
    kl_all = KL(nearest-mode histogram of all samples ‖ uniform)    (low-quality samples counted too)
Stacked MNIST (1,000 modes; VEEGAN sec. 5.2, PacGAN Table 2): each of the three channels is classified by
the MNIST evaluator, the mode is the triple (100·c₀ + 10·c₁ + c₂), 26,000 samples by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch

from gankit.data.toy import ToyModes
from gankit.metrics.errors import MetricInputError

TOY_SAMPLES = 2500  # PacGAN, sec. 5.1
STACKED_SAMPLES = 26_000  # VEEGAN / PacGAN Stacked-MNIST protocol
STACKED_MODES = 1000


def class_histogram(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts (num_classes,) of integer labels in [0, num_classes)."""
    labels = labels.detach().cpu().long().flatten()
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise MetricInputError(f"labels must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return torch.bincount(labels, minlength=num_classes)


def reverse_kl_to_uniform(counts: torch.Tensor) -> float:
    """KL(p ‖ uniform) in nats for a histogram of counts over K classes (empty classes included)."""
    counts = counts.double()
    total = counts.sum()
    if total <= 0:
        raise MetricInputError("the histogram is empty: no samples to compare with the uniform distribution")
    p = counts[counts > 0] / total
    return float((p * (p * len(counts)).log()).sum())


@dataclass(frozen=True)
class ModeReport:
    """How a set of samples spreads over K modes."""

    num_modes: int
    n_samples: int
    modes_covered: int
    reverse_kl: float  # KL(p_samples ‖ uniform over modes), nats
    counts: list[int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mode_report(labels: torch.Tensor, num_modes: int, min_count: int = 1) -> ModeReport:
    """Histogram, modes with at least ``min_count`` samples and KL to uniform of class labels."""
    counts = class_histogram(labels, num_modes)
    return ModeReport(
        num_modes, int(counts.sum()), int((counts >= min_count).sum()), reverse_kl_to_uniform(counts), counts.tolist()
    )


@dataclass(frozen=True)
class ToyModeReport:
    """PacGAN's 2-D scores of a set of points (see the module docstring for the two KLs)."""

    num_modes: int
    n_samples: int
    modes_covered: int  # modes with at least one high-quality sample
    high_quality: float  # share of samples within n_sigma·σ of their nearest mode
    kl_hq: float | None  # KL(high-quality histogram ‖ uniform), nats; None without any high-quality sample
    kl_all: float  # KL(nearest-mode histogram of all samples ‖ uniform), nats
    counts: list[int]  # nearest-mode histogram of all samples
    hq_counts: list[int]  # the same, of the high-quality samples only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_toy_modes(points: torch.Tensor, modes: ToyModes, n_sigma: float = 3.0) -> ToyModeReport:
    """PacGAN 2-D protocol: nearest-mode histograms, high-quality share (within 3σ), modes covered, both KLs."""
    if points.dim() != 2 or points.shape[1] != modes.centers.shape[1]:
        raise MetricInputError(
            f"{modes.name} mode counting needs 2-D points (N, {modes.centers.shape[1]}), got {tuple(points.shape)}"
        )
    if len(points) == 0:
        raise MetricInputError("no points to count modes of")
    dist = torch.cdist(points.detach().cpu().double(), modes.centers.double())
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= n_sigma * modes.sigma
    counts = class_histogram(nearest, modes.num_modes)
    good_counts = class_histogram(nearest[good], modes.num_modes)
    return ToyModeReport(
        num_modes=modes.num_modes,
        n_samples=len(points),
        modes_covered=int((good_counts > 0).sum()),
        high_quality=float(good.double().mean()),
        kl_hq=reverse_kl_to_uniform(good_counts) if good.any() else None,
        kl_all=reverse_kl_to_uniform(counts),
        counts=counts.tolist(),
        hq_counts=good_counts.tolist(),
    )


def stacked_mode_labels(images: torch.Tensor, classify: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Mode index 100·c₀ + 10·c₁ + c₂ of 3-channel digit images (N, 3, H, W), ``classify`` labelling (N, 1, H, W)."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise MetricInputError(f"Stacked MNIST needs 3-channel images (N, 3, H, W), got {tuple(images.shape)}")
    digits = [classify(images[:, c : c + 1]).long() for c in range(3)]
    return 100 * digits[0] + 10 * digits[1] + digits[2]


def expected_kl_of_uniform_sample(num_modes: int, n: int) -> float:
    """≈ (K − 1) / (2n): the KL to uniform that a perfect sampler's histogram of n samples shows by chance."""
    return (num_modes - 1) / (2 * n) if n > 0 else math.inf
