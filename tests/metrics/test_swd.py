"""Sliced Wasserstein distance: the known answer of a translated set, the pyramid, and the image protocol."""

import math

import pytest
import torch

from gankit.metrics.catalog import metrics
from gankit.metrics.errors import MetricInputError
from gankit.metrics.evaluate import evaluate_real
from gankit.metrics.protocol import Protocol
from gankit.metrics.registry import Context
from gankit.metrics.swd import (
    laplacian_pyramid,
    multiscale_swd,
    pyramid_sides,
    pyramid_up,
    sliced_wasserstein,
    sorted_columns,
)


def mean_abs_coordinate(d: int) -> float:
    """E|θ₁| for θ uniform on the unit sphere of ℝᵈ: Γ(d/2) / (√π Γ((d+1)/2))."""
    return math.exp(math.lgamma(d / 2) - math.lgamma((d + 1) / 2)) / math.sqrt(math.pi)


@pytest.mark.slow
@pytest.mark.parametrize("d", [2, 3, 10, 49])
def test_sliced_w1_of_a_translated_set_is_the_shift_times_the_mean_projection(d):
    g = torch.Generator().manual_seed(d)
    a = torch.randn(500, d, generator=g, dtype=torch.float64)
    t = torch.randn(d, generator=g, dtype=torch.float64)
    value = sliced_wasserstein(a, a + t, directions=4096, repeats=4, generator=g)
    # 16,384 directions: the Monte-Carlo error of E|θ·t| is below 1% for these d
    assert value == pytest.approx(t.norm().item() * mean_abs_coordinate(d), rel=0.03)
    assert mean_abs_coordinate(2) == pytest.approx(2 / math.pi) and mean_abs_coordinate(3) == pytest.approx(0.5)


def test_sliced_w1_of_one_set_in_any_order_is_zero():
    a = torch.randn(300, 5, generator=torch.Generator().manual_seed(0))
    assert sliced_wasserstein(a, a[torch.randperm(300)]) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(MetricInputError, match="one shape"):
        sliced_wasserstein(a, a[:10])


def test_sorted_columns_sort_each_column_as_torch_does():
    x = torch.randn(1000, 16, generator=torch.Generator().manual_seed(4))
    assert torch.equal(sorted_columns(x), x.sort(dim=0).values) and not torch.equal(x.sort(dim=0).values, x)
    x.requires_grad_()
    assert torch.equal(sorted_columns(x), x.sort(dim=0).values) and sorted_columns(x).requires_grad


def test_pyramid_levels_halve_the_side_while_two_patches_fit():
    assert pyramid_sides(28) == [28, 14] and pyramid_sides(32) == [32, 16] and pyramid_sides(14) == [14]
    assert pyramid_sides(1024) == [1024, 512, 256, 128, 64, 32, 16]  # Karras et al.: 1024 … 16


def test_the_laplacian_pyramid_reconstructs_the_image_and_leaves_a_constant_in_the_residual():
    x = torch.rand(2, 3, 28, 28, generator=torch.Generator().manual_seed(1))
    band, low = laplacian_pyramid(x, 2)
    assert (band.shape, low.shape) == ((2, 3, 28, 28), (2, 3, 14, 14))
    assert torch.allclose(band + pyramid_up(low, (28, 28)), x, atol=1e-6)
    band, low = laplacian_pyramid(torch.full((1, 1, 28, 28), 0.25), 2)
    assert band.abs().max().item() == pytest.approx(0.0, abs=1e-6) and torch.allclose(low, torch.tensor(0.25))


def test_images_identical_score_zero_and_noise_against_blank_scores_high():
    g = torch.Generator().manual_seed(2)
    noise = torch.randint(0, 256, (40, 1, 28, 28), generator=g, dtype=torch.uint8)
    same = multiscale_swd(noise, noise.clone())
    assert same.levels == [28, 14] and same.per_level == pytest.approx([0.0, 0.0], abs=1e-9)
    blank = torch.zeros_like(noise)
    apart = multiscale_swd(noise, blank)
    # blank descriptors are 0; unit-variance noise descriptors project to about N(0, 1): E|Z| = √(2/π), ×10³
    assert apart.per_level == pytest.approx([1e3 * math.sqrt(2 / math.pi)] * 2, rel=0.15)
    assert apart.mean == pytest.approx(sum(apart.per_level) / 2)


def test_swd_is_deterministic_under_the_seed():
    g = torch.Generator().manual_seed(3)
    a, b = torch.rand(30, 3, 16, 16, generator=g) * 2 - 1, torch.rand(30, 3, 16, 16, generator=g) * 2 - 1
    assert multiscale_swd(a, b, seed=5) == multiscale_swd(a, b, seed=5)
    assert multiscale_swd(a, b, seed=5).mean != multiscale_swd(a, b, seed=6).mean
    with pytest.raises(MetricInputError, match="at least 14×14"):
        multiscale_swd(a[..., :8, :8], b[..., :8, :8])


def test_swd_is_registered_and_applies_to_images_of_14_pixels_or_more():
    swd = metrics()["swd"]
    images = torch.zeros(4, 1, 28, 28)
    assert swd.applies(Context(Protocol(), "mnist", images, images))
    assert not swd.applies(Context(Protocol(), "mnist", images[..., :8, :8], images[..., :8, :8]))
    assert not swd.applies(Context(Protocol(), "ring8", torch.zeros(4, 2)))


@pytest.mark.slow  # the evaluation protocol end to end; the fast lane keeps the metric's own checks
def test_gankit_eval_scores_swd_alone_end_to_end():
    result = evaluate_real("mnist", Protocol(n_fake=100, metrics=("swd",)), blur=1.0)
    swd = result["metrics"]["swd"]
    assert list(result["metrics"]) == ["swd"] and swd["levels"] == [28, 14] and len(swd["per_level"]) == 2
    assert result["protocol"]["swd"] == result["protocol"]["swd"] | {"images": 100, "patch": 7, "directions": 128}
