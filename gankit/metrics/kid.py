"""Kernel Inception Distance (KID; Bińkowski et al. 2018, sec. 4 and App. D).

The unbiased estimate of the squared MMD with the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³:

    MMD²ᵤ = 1/(m(m−1)) Σ_{i≠j} [k(xᵢ, xⱼ) + k(yᵢ, yⱼ)] − 2/m² Σ_{i,j} k(xᵢ, yⱼ)

averaged over ``subsets`` random subsets of ``subset_size`` from each set (the paper's protocol; the
same as ``torchmetrics``' KID defaults, 100 subsets of 1,000). Unbiased: its mean is 0 when both sets
come from one distribution, so small negative values occur.
"""

from __future__ import annotations

import torch

from gankit.metrics.errors import MetricInputError


def polynomial_mmd2(x: torch.Tensor, y: torch.Tensor, degree: int = 3) -> float:
    """Unbiased MMD² between equal-size sets x, y (m, d) with k(a, b) = (aᵀb / d + 1)^degree."""
    m, d = x.shape
    k_xx = (x @ x.T / d + 1) ** degree
    k_yy = (y @ y.T / d + 1) ** degree
    k_xy = (x @ y.T / d + 1) ** degree
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * k_xy.mean())


def kernel_inception_distance(
    real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """(mean, standard deviation) of the unbiased MMD² over ``subsets`` random subsets of each set."""
    n = min(len(real), len(fake))
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise MetricInputError(f"KID needs feature sets (N, D) of one D, got {tuple(real.shape)}, {tuple(fake.shape)}")
    if n < 2:
        raise MetricInputError(f"KID needs at least 2 samples in each set, got {len(real)} and {len(fake)}")
    size = min(subset_size, n)
    g = torch.Generator().manual_seed(seed)
    x, y = real.detach().cpu().double(), fake.detach().cpu().double()
    draws = []
    for _ in range(subsets):
        i, j = torch.randperm(len(x), generator=g)[:size], torch.randperm(len(y), generator=g)[:size]
        draws.append(polynomial_mmd2(x[i], y[j]))
    values = torch.tensor(draws, dtype=torch.float64)
    return float(values.mean()), float(values.std()) if subsets > 1 else 0.0
