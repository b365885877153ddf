"""An encoder E: x → z, for the reconstruction and mode regularisers (Che et al. 2017, sec. 3.1)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Encoder(nn.Module):
    """E(x) = squash(W·trunk(x)): a discriminator body's trunk with a linear map to G's input width.

    ``squash`` is tanh for a uniform prior (E's codes then lie in U(−1, 1)'s support) and the identity for a
    normal prior.
    """

    def __init__(self, trunk: nn.Module, input_shape: tuple[int, ...], out_dim: int, tanh: bool):
        super().__init__()
        self.trunk = trunk
        with torch.no_grad():
            was_training = trunk.training
            trunk.eval()
            width = trunk(torch.zeros(1, *input_shape)).flatten(1).shape[1]
            trunk.train(was_training)
        self.out = nn.Linear(width, out_dim)
        self.squash = nn.Tanh() if tanh else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.squash(self.out(self.trunk(x).flatten(1)))
