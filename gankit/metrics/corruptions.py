"""Degraded copies of real images, to calibrate the metrics: a blurred set, a single-class set."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gankit.metrics.errors import MetricInputError


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """uint8 images (N, C, H, W) blurred by a Gaussian of std ``sigma`` pixels (kernel ±3σ, reflected edges)."""
    if sigma <= 0:
        raise MetricInputError(f"the blur sigma must be positive, got {sigma}")
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = images.shape[1]
    x = F.pad(images.float(), (radius,) * 4, mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    x = F.conv2d(x, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return x.round().clamp(0, 255).to(torch.uint8)


def only_class(images: torch.Tensor, labels: torch.Tensor | None, cls: int) -> torch.Tensor:
    """The images of one class."""
    if labels is None:
        raise MetricInputError("this data set has no labels, so a single-class set cannot be made")
    picked = images[labels == cls]
    if len(picked) == 0:
        raise MetricInputError(f"no images of class {cls} (labels run {int(labels.min())}..{int(labels.max())})")
    return picked
