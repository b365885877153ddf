"""Fully connected generator and discriminator, for images (flattened) and for 2-D toy data."""

from __future__ import annotations

import itertools
import math

from torch import Tensor, nn


class MLPGenerator(nn.Module):
    """z → [Linear, (BatchNorm), ReLU]·L → Linear → tanh (images) or identity (points), reshaped to ``out_shape``.

    Hidden widths grow by ``growth`` from ``width``: width, growth·width, growth²·width, … (1: all ``width``).
    With ``batch_norm`` each hidden layer is Linear → BatchNorm → ReLU: as the MLP GAN of the PyTorch-GAN
    examples (eriklindernoren/PyTorch-GAN, ``implementations/gan/gan.py``: batch norm in G, none in D; without
    it the MNIST MLP G, z → 256 → 512 → 1024 → 784, collapsed onto one noisy digit with the non-saturating loss
    and stayed noise with the saturating one, docs/results.md), and, with ``bias=False`` (batch norm's shift is
    the bias), as the 2-D generators of ALI and PacGAN (Dumoulin et al. 2017; Lin et al. 2018, sec. 5.1).
    """

    def __init__(
        self,
        latent_dim: int,
        out_shape: tuple[int, ...],
        width: int = 256,
        layers: int = 3,
        tanh: bool = True,
        growth: int = 2,
        batch_norm: bool = False,
        bias: bool = True,
    ):
        super().__init__()
        self.latent_dim = latent_dim
        widths = [latent_dim] + [width * growth**i for i in range(layers)]
        body: list[nn.Module] = []
        for a, b in itertools.pairwise(widths):
            body += [nn.Linear(a, b, bias=bias or not batch_norm)]
            body += [nn.BatchNorm1d(b)] if batch_norm else []
            body += [nn.ReLU(True)]
        body += [nn.Linear(widths[-1], math.prod(out_shape))]
        if tanh:
            body.append(nn.Tanh())
        body.append(nn.Unflatten(1, out_shape))
        self.net = nn.Sequential(*body)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """x (flattened) → [Linear, LeakyReLU(0.2)]·L → Linear → logit. Hidden widths halve down to ``width``."""

    def __init__(self, in_shape: tuple[int, ...], width: int = 256, layers: int = 3):
        super().__init__()
        widths = [math.prod(in_shape)] + [width * 2**i for i in reversed(range(layers))]
        body: list[nn.Module] = [nn.Flatten()]
        for a, b in itertools.pairwise(widths):
            body += [nn.Linear(a, b), nn.LeakyReLU(0.2, True)]
        self.trunk = nn.Sequential(*body)
        self.head = nn.Linear(widths[-1], 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
