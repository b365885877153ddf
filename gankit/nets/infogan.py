"""InfoGAN's MNIST networks (Chen et al. 2016, app. C.1, Table 1).

* :class:`InfoGANDiscriminator`, the paper's D; Q's layers sit on its 1024 features
  (``gankit.nets.discriminator.QHead``). Both InfoGAN architectures use it.
* :class:`InfoGANGenerator`, the G of the authors' code (openai/InfoGAN, ``infogan/models/regularized_gan.py``,
  network_type "mnist"): batch norm *before* each ReLU; ``model.arch=infogan-authors-g``.

``model.arch=infogan`` (the ``infogan`` recipe) pairs the D with the cs231n MNIST G instead
(``gankit.nets.mnist_conv``: the same layer sizes, ReLU *then* batch norm), which scored higher on the
categorical code (``gankit.recipes``, the ``infogan`` recipe's docstring).
"""

from __future__ import annotations

from torch import Tensor, nn


class InfoGANGenerator(nn.Module):
    """z → FC 1024, BN, ReLU → FC 7·7·128, BN, ReLU → reshape → convT 64 4×4 s2, BN, ReLU
    → convT 1 4×4 s2, tanh: a 1×28×28 image in [−1, 1].

    The authors' last layer is a sigmoid (a Bernoulli mean on [0, 1] data); gankit's images are on [−1, 1],
    and tanh(a) = 2·sigmoid(2a) − 1 is the same family of outputs rescaled. The layers before a batch norm
    have no bias (the norm's shift replaces it).
    """

    def __init__(self, latent_dim: int = 74) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 1024, bias=False),
            nn.BatchNorm1d(1024),
            nn.ReLU(),
            nn.Linear(1024, 7 * 7 * 128, bias=False),
            nn.BatchNorm1d(7 * 7 * 128),
            nn.ReLU(),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class InfoGANDiscriminator(nn.Module):
    """x (C×28×28) → conv 64 4×4 s2, LeakyReLU(0.1) → conv 128 4×4 s2, BN, LeakyReLU(0.1)
    → FC 1024, BN, LeakyReLU(0.1) → FC 1: one logit per image. Q's layers sit on the 1024 features
    (``gankit.nets.discriminator.QHead``). The leaky rate is the paper's (app. C.1); the authors' code's
    ``leaky_rectify`` defaults to 0.01."""

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, 64, 4, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.1),
            nn.Flatten(),
            nn.Linear(7 * 7 * 128, 1024, bias=False),
            nn.BatchNorm1d(1024),
            nn.LeakyReLU(0.1),
        )
        self.head = nn.Linear(1024, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
