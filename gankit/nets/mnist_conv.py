"""The classic MNIST convolutional GAN of the Stanford cs231n assignment (trained there with LSGAN)."""

from __future__ import annotations

from torch import Tensor, nn


class MnistConvGenerator(nn.Module):
    """z → FC 1024, ReLU, BN → FC 7·7·128, ReLU, BN → reshape → convT 64 4×4 s2, ReLU, BN
    → convT 1 4×4 s2, tanh: a 1×28×28 image in [−1, 1]."""

    def __init__(self, latent_dim: int = 96):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 1024),
            nn.ReLU(),
            nn.BatchNorm1d(1024),
            nn.Linear(1024, 7 * 7 * 128),
            nn.ReLU(),
            nn.BatchNorm1d(7 * 7 * 128),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.BatchNorm2d(64),
            nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MnistConvDiscriminator(nn.Module):
    """x (1×28×28) → conv 32 5×5 s1, LeakyReLU(0.01), maxpool 2 → conv 64 5×5 s1, LeakyReLU(0.01),
    maxpool 2 → FC 4·4·64, LeakyReLU(0.01) → FC 1: one logit per image."""

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, 32, 5),
            nn.LeakyReLU(0.01),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5),
            nn.LeakyReLU(0.01),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 4 * 64, 4 * 4 * 64),
            nn.LeakyReLU(0.01),
        )
        self.head = nn.Linear(4 * 4 * 64, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
