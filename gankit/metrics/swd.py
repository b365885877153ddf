"""Sliced Wasserstein distance between local image patches (SWD; Karras et al. 2018, "Progressive Growing
of GANs", sec. 5 and app. D).

The sliced 1-Wasserstein distance between two equal-size point sets A, B ⊂ ℝᵈ averages, over random unit
directions θ (uniform on the sphere), the 1-D W₁ of their projections, which sorting gives exactly::

    SW₁(A, B) = E_θ W₁(θᵀA, θᵀB),   W₁(a, b) = (1/n) Σᵢ |a₍ᵢ₎ − b₍ᵢ₎|   (a₍ᵢ₎, b₍ᵢ₎ sorted)

For B = A + t it is ‖t‖·E|θ₁| = ‖t‖·Γ(d/2) / (√π·Γ((d+1)/2)).

Images (Karras et al., app. D): a Laplacian pyramid of each image (5×5 binomial filter, reflected borders,
as ``cv2.pyrDown`` / ``pyrUp``; the last level is the low-pass residual); from every level 128 random 7×7
patches per image, each a descriptor of C·49 values (the same random positions in both sets, unlike the
reference code: fewer random differences, and exactly 0 for identical sets); each channel of a
set's descriptors normalised to mean 0 and standard deviation 1; then SW₁ with 128 directions, repeated 4
times with fresh directions and averaged. Reported per level and as the mean over levels, ×10³ as in the
paper's tables. At most 16,384 images of each set are used (the paper's count; equal counts, a seeded
random subset of the larger set). Levels: the image side, halved while it stays at least two patch widths
(≥ 14 px): 1024 … 16 as in the paper, 28 and 14 for 28×28 MNIST (its 7×7 residual would hold one patch
position). Lower is better; 0 for identical sets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gankit.data import to_model_input
from gankit.metrics.errors import MetricInputError
from gankit.metrics.registry import IMAGES, Context, Metric, Need, register

PATCH = 7  # side of a patch (Karras et al., app. D)
PATCHES_PER_IMAGE = 128
DIRECTIONS, REPEATS = 128, 4
MAX_IMAGES = 16_384  # images per set (Karras et al., app. D)
SCALE = 1e3  # reported ×10³, as in Karras et al., Table 1

_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
GAUSSIAN_5x5 = torch.outer(_BINOMIAL, _BINOMIAL) / 256  # the kernel of cv2.pyrDown


def random_directions(dim: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` directions uniform on the unit sphere of ℝ^dim, as the columns of a (dim, count) matrix."""
    directions = torch.randn(dim, count, generator=generator, dtype=torch.float64)
    return directions / directions.norm(dim=0, keepdim=True)


def sorted_columns(x: torch.Tensor) -> torch.Tensor:
    """Each column of ``x`` sorted: on a CPU by numpy's vectorised sort (x86-simd-sort; ~9× torch's on a 2-core AVX2
    AMD EPYC), torch's own elsewhere and where a gradient is needed."""
    if x.device.type == "cpu" and not x.requires_grad:
        return torch.from_numpy(np.sort(x.numpy(), axis=0))
    return x.sort(dim=0).values


def sliced_wasserstein(
    a: torch.Tensor,
    b: torch.Tensor,
    directions: int = DIRECTIONS,
    repeats: int = REPEATS,
    generator: torch.Generator | None = None,
    chunk: int = 16,
) -> float:
    """SW₁ between equal-size point sets a, b (n, d): the mean over ``repeats`` × ``directions`` projections."""
    if a.dim() != 2 or a.shape != b.shape or len(a) == 0:
        raise MetricInputError(
            f"sliced W1 needs two non-empty sets (n, d) of one shape, got {tuple(a.shape)}, {tuple(b.shape)}"
        )
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    a, b = a.float(), b.float()
    values = []
    for _ in range(repeats):
        total = torch.zeros((), dtype=torch.float64)
        for theta in random_directions(a.shape[1], directions, generator).float().split(chunk, dim=1):
            gap = sorted_columns(a @ theta) - sorted_columns(b @ theta)
            total += gap.abs().double().sum()
        values.append(total.item() / (len(a) * directions))
    return sum(values) / len(values)


def _filter(images: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Depthwise 5×5 convolution with reflected borders (scipy's and OpenCV's 'mirror' / BORDER_REFLECT_101)."""
    channels = images.shape[1]
    weight = kernel.to(images.dtype).expand(channels, 1, 5, 5)
    return F.conv2d(F.pad(images, (2, 2, 2, 2), mode="reflect"), weight, groups=channels)


def pyramid_down(images: torch.Tensor) -> torch.Tensor:
    return _filter(images, GAUSSIAN_5x5)[:, :, ::2, ::2]


def pyramid_up(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    n, c, h, w = images.shape
    spread = images.new_zeros(n, c, 2 * h, 2 * w)
    spread[:, :, ::2, ::2] = images
    return _filter(spread, 4 * GAUSSIAN_5x5)[:, :, : size[0], : size[1]]


def pyramid_sides(side: int, patch: int = PATCH) -> list[int]:
    """The sides of the pyramid's levels: ``side`` halved while it stays at least two patch widths."""
    sides = [side]
    while sides[-1] // 2 >= 2 * patch:
        sides.append(sides[-1] // 2)
    return sides


def laplacian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Band-pass levels x − up(down(x)), finest first; the last level is the low-pass residual."""
    pyramid = [images]
    for _ in range(levels - 1):
        finer = pyramid[-1]
        coarser = pyramid_down(finer)
        pyramid[-1] = finer - pyramid_up(coarser, finer.shape[-2:])
        pyramid.append(coarser)
    return pyramid


def patch_positions(shape: torch.Size, count: int, patch: int, generator: torch.Generator) -> tuple:
    """Random centres (n, count) of ``patch``-wide patches that lie inside images of ``shape`` (n, C, H, W)."""
    n, _, h, w = shape
    half = patch // 2
    return (
        torch.randint(half, h - half, (n, count), generator=generator),
        torch.randint(half, w - half, (n, count), generator=generator),
    )


def patch_descriptors(level: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, patch: int) -> torch.Tensor:
    """The patches centred at (rows, cols) of each image, as descriptors (n·count, C·patch²), each channel of
    the set normalised to mean 0 and standard deviation 1 (constant channels only centred)."""
    n, c = level.shape[:2]
    offsets = torch.arange(patch) - patch // 2
    r = (rows[..., None] + offsets)[..., :, None]  # (n, count, patch, 1)
    q = (cols[..., None] + offsets)[..., None, :]  # (n, count, 1, patch)
    image = torch.arange(n)[:, None, None, None]
    patches = level.permute(0, 2, 3, 1)[image, r, q]  # (n, count, patch, patch, C), a new tensor
    patches -= patches.mean(dim=(0, 1, 2, 3))
    std = patches.std(dim=(0, 1, 2, 3), correction=0)  # numpy's std, as the reference code
    patches /= torch.where(std > 0, std, torch.ones_like(std))
    return patches.permute(0, 1, 4, 2, 3).reshape(-1, c * patch * patch)


@dataclass(frozen=True)
class SWD:
    """Multi-scale SWD ×10³: one value per pyramid level (``levels``: their sides, finest first) and their mean."""

    mean: float
    per_level: list[float]
    levels: list[int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _subset(images: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    if len(images) == count:
        return images
    return images[torch.randperm(len(images), generator=generator)[:count]]


def multiscale_swd(real: torch.Tensor, fake: torch.Tensor, seed: int = 0) -> SWD:
    """SWD of image sets (N, C, H, W) (uint8, or floats in [−1, 1]) by Karras et al.'s protocol (module docstring)."""
    if real.dim() != 4 or real.shape[1:] != fake.shape[1:]:
        raise MetricInputError(f"SWD needs image sets of one shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if min(real.shape[-2:]) < 2 * PATCH:
        raise MetricInputError(f"SWD needs images of at least {2 * PATCH}×{2 * PATCH} pixels, got {tuple(real.shape)}")
    generator = torch.Generator().manual_seed(seed)
    count = min(len(real), len(fake), MAX_IMAGES)
    real, fake = (to_model_input(_subset(x, count, generator)) for x in (real, fake))
    sides = pyramid_sides(min(real.shape[-2:]))
    per_level = []
    for real_level, fake_level in zip(
        laplacian_pyramid(real, len(sides)), laplacian_pyramid(fake, len(sides)), strict=True
    ):
        rows, cols = patch_positions(real_level.shape, PATCHES_PER_IMAGE, PATCH, generator)
        a = patch_descriptors(real_level, rows, cols, PATCH)
        b = patch_descriptors(fake_level, rows, cols, PATCH)
        per_level.append(SCALE * sliced_wasserstein(a, b, DIRECTIONS, REPEATS, generator))
    return SWD(sum(per_level) / len(per_level), per_level, sides)


BIG_ENOUGH = Need(
    f"reference images of at least {2 * PATCH}×{2 * PATCH} pixels",
    lambda c: c.real is not None and c.is_image and min(c.fake.shape[-2:]) >= 2 * PATCH,
)


def _record(c: Context) -> dict[str, Any]:
    assert c.real is not None  # BIG_ENOUGH
    return {
        "swd": {
            "images": min(len(c.real), len(c.fake), MAX_IMAGES),
            "patch": PATCH,
            "patches_per_image": PATCHES_PER_IMAGE,
            "directions": DIRECTIONS,
            "repeats": REPEATS,
            "levels": pyramid_sides(min(c.fake.shape[-2:])),
            "scale": SCALE,
        }
    }


def _swd(c: Context) -> dict[str, Any]:
    assert c.real is not None  # BIG_ENOUGH
    return {"swd": multiscale_swd(c.real, c.fake, c.protocol.seed).to_dict()}


# Not in the default selection: 2 × 1.28 million patch descriptors for 10,000 MNIST images take minutes on
# a laptop CPU, where every other metric takes seconds; ask for it with --metrics swd.
register(
    Metric(
        "swd",
        "sliced Wasserstein distance of Laplacian-pyramid patches (×10³)",
        (IMAGES, BIG_ENOUGH),
        _swd,
        _record,
        default=False,
    )
)
