"""The small CNN gankit trains as its evaluation network for 28×28 grey images (MNIST, Fashion-MNIST).

Inception-v3 (Szegedy et al. 2016), the network behind FID (Heusel et al. 2017), is trained on ImageNet
photographs and its weights cannot be fetched offline; for digits and clothes a classifier trained on the
data set itself is the usual substitute (e.g. the LeNet features of Bińkowski et al. 2018 or the MNIST
classifier of the VEEGAN/PacGAN Stacked-MNIST protocol). Architecture, with batch-norm and ReLU after
every convolution::

    1×28×28 → conv3 32 → maxpool 2 → conv3 64 → conv3 64 → maxpool 2 → conv3 128 → global mean
    → 128 features (FID/KID/PRDC space) → linear 10 (class logits)

About 131k parameters and 15M multiply-adds per image.
"""

from __future__ import annotations

from torch import Tensor, nn

FEATURE_DIM = 128
IMAGE_SHAPE = (1, 28, 28)


def _conv(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class DigitClassifier(nn.Module):
    """``features(x)`` → (N, 128); ``forward(x)`` → class logits (N, num_classes). ``x``: (N, 1, 28, 28) in [−1, 1]."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.trunk = nn.Sequential(
            *_conv(1, 32),
            nn.MaxPool2d(2),
            *_conv(32, 64),
            *_conv(64, 64),
            nn.MaxPool2d(2),
            *_conv(64, FEATURE_DIM),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.trunk(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x))
