"""KL, Jensen–Shannon and Wasserstein distances between histograms, samples and Gaussians.

Natural logarithms throughout, so JS lies in [0, log 2]. Closed forms where they exist; otherwise exact
computations on the given samples (optimal transport) or quadrature on a grid, as each docstring says.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import trapezoid
from scipy.optimize import linear_sum_assignment
from scipy.stats import wasserstein_distance

ArrayLike = np.ndarray | list[float]


def _distribution(p: ArrayLike) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or (p < 0).any() or p.sum() <= 0:
        raise ValueError("a histogram must be a 1-D array of non-negative weights with a positive sum")
    return p / p.sum()


def kl_discrete(p: ArrayLike, q: ArrayLike) -> float:
    """KL(p‖q) = Σ p_i log(p_i / q_i) of two histograms over the same bins; ∞ if q_i = 0 < p_i."""
    p, q = _distribution(p), _distribution(q)
    support = p > 0
    if (q[support] == 0).any():
        return math.inf
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def js_discrete(p: ArrayLike, q: ArrayLike) -> float:
    """JS(p‖q) = ½KL(p‖m) + ½KL(q‖m), m = ½(p + q); always finite, at most log 2 (disjoint supports)."""
    p, q = _distribution(p), _distribution(q)
    m = 0.5 * (p + q)
    return 0.5 * kl_discrete(p, m) + 0.5 * kl_discrete(q, m)


def wasserstein1_1d(x: ArrayLike, y: ArrayLike) -> float:
    """W₁ between two 1-D samples (empirical distributions): ∫|F_x − F_y|, via scipy."""
    return float(wasserstein_distance(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)))


def wasserstein_samples(x: np.ndarray, y: np.ndarray, p: int = 1) -> float:
    """W_p between two equally sized point clouds (N, D) with uniform weights, by optimal assignment.

    For uniform weights and equal sizes an optimal transport plan is a permutation (Birkhoff), so the
    Hungarian algorithm gives the exact W_p = (min_σ (1/N) Σ ‖x_i − y_σ(i)‖^p)^(1/p). Cost O(N³): keep N ≲ 2,000.
    """
    x, y = np.atleast_2d(np.asarray(x, np.float64)), np.atleast_2d(np.asarray(y, np.float64))
    if x.shape != y.shape:
        raise ValueError(f"wasserstein_samples needs two clouds of the same shape, got {x.shape} and {y.shape}")
    cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2) ** p
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean() ** (1 / p))


def kl_gaussian(mu1: float, sigma1: float, mu2: float, sigma2: float) -> float:
    """KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½."""
    return math.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2 * sigma2**2) - 0.5


def w2_gaussian(mu1: float, sigma1: float, mu2: float, sigma2: float) -> float:
    """W₂(N(μ₁, σ₁²), N(μ₂, σ₂²)) = √((μ₁ − μ₂)² + (σ₁ − σ₂)²)  (1-D closed form)."""
    return math.hypot(mu1 - mu2, sigma1 - sigma2)


def gaussian_pdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def js_densities(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """JS between two 1-D densities tabulated on the grid ``x`` (trapezoidal quadrature)."""
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.where(p > 0, p * np.log(p / m), 0.0)
        lq = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(0.5 * trapezoid(lp, x) + 0.5 * trapezoid(lq, x))


def js_gaussian(mu1: float, sigma1: float, mu2: float, sigma2: float, points: int = 20001) -> float:
    """JS(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) by quadrature (no closed form exists)."""
    lo = min(mu1 - 12 * sigma1, mu2 - 12 * sigma2)
    hi = max(mu1 + 12 * sigma1, mu2 + 12 * sigma2)
    x = np.linspace(lo, hi, points)
    return js_densities(gaussian_pdf(x, mu1, sigma1), gaussian_pdf(x, mu2, sigma2), x)
