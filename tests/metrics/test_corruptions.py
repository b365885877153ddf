import math

import pytest
import torch
import torch.nn.functional as F

from gankit.metrics.corruptions import gaussian_blur


def _reference_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """The blur as padding + two convolutions: PyTorch's reflect padding needs a radius below the image size."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).float()
    c = images.shape[1]
    x = F.pad(images.float(), (radius,) * 4, mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    x = F.conv2d(x, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return x.round().clamp(0, 255).to(torch.uint8)


@pytest.mark.parametrize("sigma", [0.5, 1.5, 4.0, 6.0])
def test_the_blur_is_the_gaussian_with_reflected_edges(sigma):
    images = torch.randint(0, 256, (3, 2, 28, 20), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    difference = (gaussian_blur(images, sigma).int() - _reference_blur(images, sigma).int()).abs()
    assert difference.max() <= 1  # rounding of a different order of sums


@pytest.mark.parametrize("sigma", [9.5, 30.0, 100.0])
def test_a_blur_wider_than_the_image_works_and_tends_to_the_mean(sigma):
    """Issue 26: --blur above ~9 on 28×28 images failed in the reflect padding, though σ ≤ 100 is allowed."""
    images = torch.randint(0, 256, (4, 1, 28, 28), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    blurred = gaussian_blur(images, sigma)
    assert blurred.shape == images.shape and blurred.dtype == torch.uint8
    means = images.float().mean(dim=(1, 2, 3))
    assert ((blurred.float().mean(dim=(1, 2, 3)) - means).abs() < 3).all()
    assert 0 < blurred.float().std() < 0.2 * images.float().std()
    flat = torch.full((1, 3, 5, 1), 77, dtype=torch.uint8)  # one pixel wide: its column is all it reflects
    assert torch.equal(gaussian_blur(flat, sigma), flat)
