import itertools

import pytest
import torch

from gankit.errors import GankitError
from gankit.metrics.kid import kernel_inception_distance, polynomial_mmd2


def test_mmd2_matches_the_unbiased_estimator_written_out():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.randn(6, 3, generator=g, dtype=torch.float64)

    def k(a, b):
        return (float(a @ b) / 3 + 1) ** 3

    m = 6
    pairs = [(i, j) for i, j in itertools.product(range(m), repeat=2) if i != j]
    expected = (
        sum(k(x[i], x[j]) for i, j in pairs) / (m * (m - 1))
        + sum(k(y[i], y[j]) for i, j in pairs) / (m * (m - 1))
        - 2 * sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m**2
    )
    assert polynomial_mmd2(x, y) == pytest.approx(expected, rel=1e-12)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(1000, 8, generator=g), torch.randn(1000, 8, generator=g)
    same, same_std = kernel_inception_distance(x, y, subsets=10, subset_size=300)
    shifted, _ = kernel_inception_distance(x, y + 0.5, subsets=10, subset_size=300)
    assert same == pytest.approx(0.0, abs=3 * same_std / 10**0.5 + 1e-3)
    assert shifted > 0.05  # a mean shift of 0.5 in 8 dimensions is clearly visible


def test_kid_is_reproducible_from_its_seed():
    x, y = torch.randn(300, 4), torch.randn(300, 4)
    assert kernel_inception_distance(x, y, 5, 100, seed=3) == kernel_inception_distance(x, y, 5, 100, seed=3)


def test_kid_refuses_mismatched_features():
    with pytest.raises(GankitError, match="one D"):
        kernel_inception_distance(torch.randn(10, 3), torch.randn(10, 2))
