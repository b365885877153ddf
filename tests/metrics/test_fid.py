import numpy as np
import pytest
import scipy.linalg
import torch

from gankit.errors import GankitError
from gankit.metrics.fid import feature_statistics, fid_from_features, frechet_distance


def test_fid_of_a_set_against_itself_is_zero():
    f = torch.randn(500, 16, generator=torch.Generator().manual_seed(0))
    assert fid_from_features(f, f) == pytest.approx(0.0, abs=1e-6)


def test_fid_of_two_diagonal_gaussians_is_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])  # standard deviations
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2)  # W2² of diagonal Gaussians
    assert frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2)) == pytest.approx(expected, rel=1e-9)


def test_fid_of_full_covariances_matches_the_symmetric_form():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    s1, s2 = a @ a.T + np.eye(4), b @ b.T + np.eye(4)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    root1 = scipy.linalg.sqrtm(s1).real
    cross = scipy.linalg.sqrtm(root1 @ s2 @ root1).real  # tr((Σ₁^½ Σ₂ Σ₁^½)^½) = tr((Σ₁Σ₂)^½)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * cross)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_fid_of_sampled_gaussians_approaches_the_closed_form():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(40_000, 2, generator=g, dtype=torch.float64)
    y = torch.randn(40_000, 2, generator=g, dtype=torch.float64) * torch.tensor([2.0, 0.5]) + torch.tensor([1.0, 0.0])
    expected = 1.0 + (1 - 2) ** 2 + (1 - 0.5) ** 2  # 2.25
    assert fid_from_features(x, y) == pytest.approx(expected, rel=0.03)


def test_statistics_are_mean_and_unbiased_covariance():
    f = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    mu, sigma = feature_statistics(f)
    assert mu == pytest.approx([1.0, 1.0])
    assert sigma == pytest.approx(np.array([[4 / 3, 0.0], [0.0, 4 / 3]]))


def test_mismatched_feature_sets_are_refused():
    with pytest.raises(GankitError, match="same feature extractor"):
        fid_from_features(torch.randn(10, 3), torch.randn(10, 4))
    with pytest.raises(GankitError, match="at least 2"):
        fid_from_features(torch.randn(1, 3), torch.randn(10, 3))
