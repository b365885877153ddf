"""InfoGAN's MNIST discriminator (Chen et al. 2016, app. C.1, Table 1); Q's layers sit on its 1024 features
(``gankit.nets.discriminator.QHead``).

Its G is ``gankit.nets.mnist_conv.MnistConvGenerator``, InfoGAN's layer sizes: ``model.arch=infogan`` (the
``infogan`` recipe) uses it in the cs231n order (ReLU, then batch norm), which scored higher on the categorical
code (the ``infogan`` recipe's docstring) than the authors' code's order (batch norm, then ReLU), which
``model.arch=infogan-authors-g`` uses.
"""

from __future__ import annotations

from torch import Tensor, nn


class InfoGANDiscriminator(nn.Module):
    """x (C×28×28) → conv 64 4×4 s2, LeakyReLU(0.1) → conv 128 4×4 s2, BN, LeakyReLU(0.1)
    → FC 1024, BN, LeakyReLU(0.1) → FC 1: one logit per image. Q's layers sit on the 1024 features
    (``gankit.nets.discriminator.QHead``). The leaky rate is the paper's (app. C.1); the authors' code's
    ``leaky_rectify`` defaults to 0.01. Those are the sizes at ``width`` 64 (the default, ``model.d_width``); in
    general conv w, conv 2w, FC 16·w."""

    def __init__(self, channels: int = 1, width: int = 64) -> None:
        super().__init__()
        maps, features = 2 * width, 16 * width
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(width, maps, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(maps),
            nn.LeakyReLU(0.1),
            nn.Flatten(),
            nn.Linear(7 * 7 * maps, features, bias=False),
            nn.BatchNorm1d(features),
            nn.LeakyReLU(0.1),
        )
        self.head = nn.Linear(features, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
