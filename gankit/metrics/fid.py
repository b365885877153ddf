"""Fréchet distance between Gaussians fitted to two sets of features (FID; Heusel et al. 2017, eq. 6).

    FID = ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2 tr((Σ₁^½ Σ₂ Σ₁^½)^½)

Statistics are taken in float64. The trace of the matrix square root is computed from symmetric
eigen-decompositions (``scipy.linalg.eigh``): Σ₁^½ Σ₂ Σ₁^½ is symmetric positive semi-definite and has the
eigenvalues of Σ₁Σ₂, so tr((Σ₁Σ₂)^½) = Σᵢ √λᵢ, tiny negative round-off clipped to 0. This equals the
``sqrtm(Σ₁Σ₂)`` of the reference implementation (``pytorch-fid``) but is exact for singular covariances
and much faster than ``scipy.linalg.sqrtm``. We compute features ourselves rather than use torchmetrics'
``FrechetInceptionDistance``: that class probes its feature module with a 299×299 uint8 RGB image, which
a 28×28 evaluator cannot take, and a set's features can then serve FID, KID and PRDC alike.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.metrics.errors import MetricInputError


def feature_statistics(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of features (N, D), in float64."""
    if features.dim() != 2 or features.shape[0] < 2:
        raise MetricInputError(f"FID needs a 2-D array of at least 2 feature vectors, got {tuple(features.shape)}")
    f = features.detach().cpu().double().numpy()
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """The Fréchet (2-Wasserstein) distance² between N(μ₁, Σ₁) and N(μ₂, Σ₂)."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise MetricInputError(
            f"FID statistics do not match: means {mu1.shape} and {mu2.shape}, covariances {sigma1.shape} and "
            f"{sigma2.shape}; both sets must come from the same feature extractor"
        )
    import scipy.linalg  # here: with scipy.optimize, 1.2 s of every training process's start

    w1, v1 = scipy.linalg.eigh(sigma1)
    root1 = (v1 * np.sqrt(np.clip(w1, 0, None))) @ v1.T  # Σ₁^½
    trace_sqrt = np.sqrt(np.clip(scipy.linalg.eigvalsh(root1 @ sigma2 @ root1), 0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt
    return float(max(value, 0.0))


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between two feature sets (N, D) and (M, D)."""
    return frechet_distance(*feature_statistics(real), *feature_statistics(fake))
