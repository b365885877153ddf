"""Maxout units and the maxout MLP discriminator of PacGAN's 2-D experiments.

A maxout unit (Goodfellow et al. 2013, "Maxout Networks", eq. 1) is the largest of k affine pieces:

    h_i(x) = max_{j ∈ 1..k} (x·W_{·ij} + b_ij)

PacGAN's 2-D discriminator (Lin et al. 2018, sec. 5.1, after ALI's; the authors' code
``synthetic_data_experiments``) is three maxout layers of 200 units with 5 pieces each, then a linear logit.
"""

from __future__ import annotations

import itertools
import math

from torch import Tensor, nn


class Maxout(nn.Module):
    """``out_features`` maxout units of ``pieces`` affine pieces each: one Linear(in, out·k), then a max over k."""

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        # unit i's pieces are the k consecutive outputs i·k … i·k + k − 1
        return self.linear(x).unflatten(-1, (self.out_features, self.pieces)).amax(-1)


class MaxoutDiscriminator(nn.Module):
    """x (flattened) → [Maxout(width, pieces)]·L → Linear → logit (a ``trunk`` and a ``head``)."""

    def __init__(self, in_shape: tuple[int, ...], width: int = 200, layers: int = 3, pieces: int = 5):
        super().__init__()
        widths = [math.prod(in_shape)] + [width] * layers
        body: list[nn.Module] = [nn.Flatten()]
        body += [Maxout(a, b, pieces) for a, b in itertools.pairwise(widths)]
        self.trunk = nn.Sequential(*body)
        self.head = nn.Linear(width, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
