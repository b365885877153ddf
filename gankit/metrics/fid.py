"""Fréchet distance between Gaussians fitted to two sets of features (FID; Heusel et al. 2017, eq. 6).

    FID = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^{1/2})

Statistics are taken in float64. The matrix square root is ``scipy.linalg.sqrtm``, as in the reference
implementation (``pytorch-fid``), with the same fallback: if the product is near-singular, ε = 1e-6 is
added to both diagonals. We compute features ourselves and call scipy rather than torchmetrics'
``FrechetInceptionDistance``: that class probes its feature module with a 299×299 uint8 RGB image, which
a 28×28 evaluator cannot take, and a set's features can then serve FID, KID and PRDC alike.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
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
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(mu1.size) * 1e-6
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)  # tiny imaginary parts are numerical noise
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)
    return float(max(value, 0.0))


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between two feature sets (N, D) and (M, D)."""
    return frechet_distance(*feature_statistics(real), *feature_statistics(fake))
