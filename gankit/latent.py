"""The generator's prior p(z)."""

from __future__ import annotations

import torch
from torch import Tensor


def sample_latent(
    n: int, dim: int, dist: str, device: torch.device | str = "cpu", generator: torch.Generator | None = None
) -> Tensor:
    """n draws of z: "uniform" is U(−1, 1)^dim (Radford et al. 2015; cs231n), "normal" is N(0, I)."""
    if dist == "uniform":
        return torch.rand(n, dim, device=device, generator=generator) * 2 - 1
    if dist == "normal":
        return torch.randn(n, dim, device=device, generator=generator)
    raise ValueError(f"unknown latent distribution {dist!r}; choose 'uniform' or 'normal'")
