"""The classic MNIST convolutional GAN of the Stanford cs231n assignment (trained there with LSGAN).

Its G has the layer sizes of InfoGAN's MNIST G (Chen et al. 2016, app. C.1); ``norm_first`` gives the order
of the InfoGAN authors' code (openai/InfoGAN, ``infogan/models/regularized_gan.py``: batch norm *before* each
ReLU, no bias in the layers a norm follows), used by ``model.arch=infogan-authors-g``.
"""

from __future__ import annotations

from torch import Tensor, nn


def _block(layer: nn.Module, norm: nn.Module, norm_first: bool) -> list[nn.Module]:
    """layer → ReLU → norm (cs231n), or layer → norm → ReLU (``norm_first``)."""
    return [layer, norm, nn.ReLU()] if norm_first else [layer, nn.ReLU(), norm]


class MnistConvGenerator(nn.Module):
    """z → FC 1024, ReLU, BN → FC 7·7·128, ReLU, BN → reshape → convT 64 4×4 s2, ReLU, BN
    → convT 1 4×4 s2, tanh: a 1×28×28 image in [−1, 1]. Those are the sizes at ``width`` 64 (the default,
    ``model.g_width``); in general FC 16·w, 7·7·2w channels, convT w.

    With ``norm_first`` each hidden layer is layer (no bias: the norm's shift is one) → BN → ReLU, as the
    InfoGAN authors' G. Their last layer is a sigmoid (a Bernoulli mean on [0, 1] data); gankit's images are
    on [−1, 1], and tanh(a) = 2·sigmoid(2a) − 1 is the same family of outputs rescaled.
    """

    def __init__(self, latent_dim: int = 96, norm_first: bool = False, width: int = 64):
        super().__init__()
        self.latent_dim, self.norm_first = latent_dim, norm_first
        bias, hidden, maps = not norm_first, 16 * width, 2 * width
        self.net = nn.Sequential(
            *_block(nn.Linear(latent_dim, hidden, bias=bias), nn.BatchNorm1d(hidden), norm_first),
            *_block(nn.Linear(hidden, 7 * 7 * maps, bias=bias), nn.BatchNorm1d(7 * 7 * maps), norm_first),
            nn.Unflatten(1, (maps, 7, 7)),
            *_block(
                nn.ConvTranspose2d(maps, width, 4, stride=2, padding=1, bias=bias), nn.BatchNorm2d(width), norm_first
            ),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MnistConvDiscriminator(nn.Module):
    """x (1×28×28) → conv 32 5×5 s1, LeakyReLU(0.01), maxpool 2 → conv 64 5×5 s1, LeakyReLU(0.01),
    maxpool 2 → FC 4·4·64, LeakyReLU(0.01) → FC 1: one logit per image. Those are the sizes at ``width`` 64 (the
    default, ``model.d_width``); in general conv w/2, conv w, FC 4·4·w."""

    def __init__(self, channels: int = 1, width: int = 64) -> None:
        super().__init__()
        first, features = max(1, width // 2), 4 * 4 * width
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, first, 5),
            nn.LeakyReLU(0.01),
            nn.MaxPool2d(2),
            nn.Conv2d(first, width, 5),
            nn.LeakyReLU(0.01),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(features, features),
            nn.LeakyReLU(0.01),
        )
        self.head = nn.Linear(features, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
