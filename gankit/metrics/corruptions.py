"""Degraded copies of real images, to calibrate the metrics: a blurred set, a single-class set."""

from __future__ import annotations

import math

import torch

from gankit.metrics.errors import MetricInputError


def gaussian_blur(images: torch.Tensor, sigma: float, chunk: int = 4096) -> torch.Tensor:
    """uint8 images (N, C, H, W) blurred by a Gaussian of std ``sigma`` pixels (kernel ±3σ, reflected edges).

    The edges are reflected as often as the kernel needs (the image mirrored about each edge in turn), so any σ
    works on any image size; the blur is applied as one H×H and one W×W matrix, ``chunk`` images at a time.
    """
    if sigma <= 0:
        raise MetricInputError(f"the blur sigma must be positive, got {sigma}")
    rows, cols = (_blur_matrix(n, sigma) for n in images.shape[-2:])
    out = torch.empty_like(images, dtype=torch.uint8)
    for i in range(0, len(images), chunk):
        x = rows @ images[i : i + chunk].float() @ cols.T
        out[i : i + chunk] = x.round().clamp(0, 255).to(torch.uint8)
    return out


def _blur_matrix(size: int, sigma: float) -> torch.Tensor:
    """The (size, size) matrix of a 1-D Gaussian blur with reflected edges: row i weighs the pixels for pixel i."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    # the pixel that position p of the padded signal shows: the signal mirrored about its ends, period 2(size − 1)
    period = max(2 * (size - 1), 1)
    positions = torch.arange(-radius, size + radius) % period
    source = torch.where(positions < size, positions, period - positions)
    matrix = torch.zeros(size, size, dtype=torch.float64)
    for i in range(size):  # output i reads padded positions i .. i + 2·radius
        matrix[i].index_add_(0, source[i : i + 2 * radius + 1], kernel)
    return matrix.float()


def only_class(images: torch.Tensor, labels: torch.Tensor | None, cls: int) -> torch.Tensor:
    """The images of one class."""
    if labels is None:
        raise MetricInputError("this data set has no labels, so a single-class set cannot be made")
    picked = images[labels == cls]
    if len(picked) == 0:
        raise MetricInputError(f"no images of class {cls} (labels run {int(labels.min())}..{int(labels.max())})")
    return picked
