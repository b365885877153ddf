"""Precision, recall (Kynkäänniemi et al. 2019) and density, coverage (Naeem et al. 2020) by k-NN balls.

Each sample x of a set gets the ball B(x, r_k(x)), r_k = distance to its k-th nearest neighbour within the
set (itself excluded). With real features X (N) and generated features Y (M):

    precision = 1/M Σ_j 1[∃ i: Y_j ∈ B(X_i, r_k(X_i))]       (fake samples on the real manifold)
    recall    = 1/N Σ_i 1[∃ j: X_i ∈ B(Y_j, r_k(Y_j))]       (real samples on the fake manifold)
    density   = 1/(kM) Σ_j Σ_i 1[Y_j ∈ B(X_i, r_k(X_i))]    (can exceed 1)
    coverage  = 1/N Σ_i 1[∃ j: Y_j ∈ B(X_i, r_k(X_i))]

k = 5 by default (Naeem et al.'s choice for 10k samples; Kynkäänniemi et al. use k = 3). Distances are
Euclidean, computed in chunks so that 10k × 10k sets fit in memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from gankit.metrics.errors import MetricInputError


@dataclass(frozen=True)
class PRDC:
    precision: float
    recall: float
    density: float
    coverage: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def kth_neighbour_radii(x: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest other row."""
    radii = [torch.cdist(part, x).kthvalue(k + 1, dim=1).values for part in x.split(chunk)]  # +1: itself at 0
    return torch.cat(radii)


def _inside_counts(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int) -> torch.Tensor:
    """For each point, the number of balls B(centre, radius) that hold it."""
    return torch.cat([(torch.cdist(part, centres) <= radii).sum(dim=1) for part in points.split(chunk)])


def _covered(centres: torch.Tensor, radii: torch.Tensor, points: torch.Tensor, chunk: int) -> torch.Tensor:
    """For each ball, whether it holds at least one point."""
    parts = zip(centres.split(chunk), radii.split(chunk), strict=True)
    return torch.cat([(torch.cdist(c, points) <= r[:, None]).any(dim=1) for c, r in parts])


def precision_recall_density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5, chunk: int = 2048) -> PRDC:
    """The four k-NN metrics of generated features ``fake`` (M, D) against real features ``real`` (N, D)."""
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise MetricInputError(f"PRDC needs feature sets (N, D) of one D, got {tuple(real.shape)}, {tuple(fake.shape)}")
    if k < 1 or min(len(real), len(fake)) <= k:
        raise MetricInputError(f"PRDC with k={k} needs more than k samples per set, got {len(real)} and {len(fake)}")
    x, y = real.detach().cpu().float(), fake.detach().cpu().float()
    r_real, r_fake = kth_neighbour_radii(x, k, chunk), kth_neighbour_radii(y, k, chunk)
    fake_in_real = _inside_counts(y, x, r_real, chunk)
    return PRDC(
        precision=(fake_in_real > 0).float().mean().item(),
        recall=(_inside_counts(x, y, r_fake, chunk) > 0).float().mean().item(),
        density=fake_in_real.float().sum().item() / (k * len(y)),
        coverage=_covered(x, r_real, y, chunk).float().mean().item(),
    )
