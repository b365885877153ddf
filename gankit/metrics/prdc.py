"""Precision, recall (Kynkäänniemi et al. 2019) and density, coverage (Naeem et al. 2020) by k-NN balls.

Each sample x of a set gets the ball B(x, r_k(x)), r_k = distance to its k-th nearest neighbour within the
set (itself excluded). With real features X (N) and generated features Y (M):

    precision = 1/M Σ_j 1[∃ i: Y_j ∈ B(X_i, r_k(X_i))]       (fake samples on the real manifold)
    recall    = 1/N Σ_i 1[∃ j: X_i ∈ B(Y_j, r_k(Y_j))]       (real samples on the fake manifold)
    density   = 1/(kM) Σ_j Σ_i 1[Y_j ∈ B(X_i, r_k(X_i))]    (can exceed 1)
    coverage  = 1/N Σ_i 1[∃ j: Y_j ∈ B(X_i, r_k(X_i))]

k = 5 by default (Naeem et al.'s choice for 10k samples; Kynkäänniemi et al. use k = 3). Distances are
Euclidean, computed in chunks so that 10k × 10k sets fit in memory; the real–fake distances once for all four.
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


CHUNK_BYTES = 64 * 2**20  # the most one chunk of float32 distances takes: PRDC's memory stays bounded at any N


def rows_per_chunk(columns: int, chunk: int) -> int:
    """Rows of a distance matrix of ``columns`` columns computed at once: ``chunk``, fewer if they would take
    more than ``CHUNK_BYTES`` (200,000 samples: 83 rows, not 2,048 rows of 1.6 GB)."""
    return max(1, min(chunk, CHUNK_BYTES // (4 * max(columns, 1))))


def kth_neighbour_radii(x: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest other row (topk: faster than kthvalue on CPUs)."""
    parts = x.split(rows_per_chunk(len(x), chunk))
    nearest = [torch.cdist(part, x).topk(k + 1, dim=1, largest=False).values for part in parts]
    radii = [values[:, -1] for values in nearest]  # the (k+1)-th: each row is its own nearest, at 0
    return torch.cat(radii)


def precision_recall_density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5, chunk: int = 2048) -> PRDC:
    """The four k-NN metrics of generated features ``fake`` (M, D) against real features ``real`` (N, D).

    The real–fake distances are computed once, a chunk of real rows at a time, and serve all four."""
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise MetricInputError(f"PRDC needs feature sets (N, D) of one D, got {tuple(real.shape)}, {tuple(fake.shape)}")
    if k < 1 or min(len(real), len(fake)) <= k:
        raise MetricInputError(f"PRDC with k={k} needs more than k samples per set, got {len(real)} and {len(fake)}")
    x, y = real.detach().cpu().float(), fake.detach().cpu().float()
    r_real, r_fake = kth_neighbour_radii(x, k, chunk), kth_neighbour_radii(y, k, chunk)
    fake_in_real = torch.zeros(len(y), dtype=torch.long)  # per fake sample: the real balls that hold it
    recalled, covered = [], []  # per real sample: inside some fake ball; its ball holds some fake sample
    rows = rows_per_chunk(len(y), chunk)
    for part, radii in zip(x.split(rows), r_real.split(rows), strict=True):
        distances = torch.cdist(part, y)
        in_real_ball = distances <= radii[:, None]
        fake_in_real += in_real_ball.sum(dim=0)
        covered.append(in_real_ball.any(dim=1))
        recalled.append((distances <= r_fake[None, :]).any(dim=1))
    return PRDC(
        precision=(fake_in_real > 0).float().mean().item(),
        recall=torch.cat(recalled).float().mean().item(),
        density=fake_in_real.float().sum().item() / (k * len(y)),
        coverage=torch.cat(covered).float().mean().item(),
    )
