"""Features that let D look at a whole minibatch, against mode collapse.

Both layers map per-sample features h (N, A) to [h, o] (N, A + B): o says how a sample relates to the
other samples of its batch, so a collapsed generator (all samples alike) is easy to tell from data.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from gankit.registry import Registry


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016, sec. 3.2).

    M_i = h_i·T ∈ ℝ^{B×C} with a learned tensor T ∈ ℝ^{A×B×C};
    c_b(x_i, x_j) = exp(−‖M_{i,b} − M_{j,b}‖_{L1}) and o(x_i)_b = Σ_{j≠i} c_b(x_i, x_j).
    The output [h_i, o(x_i)] is permutation-equivariant: permuting the batch permutes the rows.
    """

    def __init__(self, in_features: int, kernels: int = 100, kernel_dim: int = 5):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)
        self.out_features = in_features + kernels

    def forward(self, h: Tensor) -> Tensor:
        m = (h @ self.T).view(h.shape[0], self.kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        closeness = torch.exp(-torch.cdist(m, m, p=1))  # (B, N, N), c_b(x_i, x_j); 1 on the diagonal
        o = closeness.sum(dim=2).T - 1  # (N, B): leave out j = i, whose c_b is exp(0) = 1
        return torch.cat([h, o], dim=1)


class MinibatchStdDev(nn.Module):
    """The minibatch standard deviation feature (Karras et al. 2018, sec. 3): the standard deviation of
    every feature over the batch, averaged over features, appended to every sample as one more feature."""

    def __init__(self, in_features: int):
        super().__init__()
        self.out_features = in_features + 1

    def forward(self, h: Tensor) -> Tensor:
        std = (h.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        return torch.cat([h, std.expand(h.shape[0], 1)], dim=1)


# name → layer(feature_dim, kernels, kernel_dim); "none" (no layer) is accepted by model.minibatch too
MINIBATCH_LAYERS: Registry[Callable[[int, int, int], nn.Module]] = Registry(
    "minibatch layer",
    {
        "discrimination": lambda features, kernels, kernel_dim: MinibatchDiscrimination(features, kernels, kernel_dim),
        "stddev": lambda features, kernels, kernel_dim: MinibatchStdDev(features),
    },
    extra=("none",),
)
