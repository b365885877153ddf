"""The small DCGAN of the unrolled-GAN Stacked-MNIST experiment, with a D a fraction of G's size.

Metz et al. (2017, "Unrolled Generative Adversarial Networks", sec. 3.4 and app. E) made mode collapse on
Stacked MNIST (3 digits as channels, 1,000 modes) easy to provoke by shrinking D; PacGAN (Lin et al. 2018,
Table 3) repeats it with D at ¼ and ½ of G's size. The layers are those of the PacGAN authors' code
(``stacked_MNIST_experiments/unrolled_GAN_experiment/D=0.25G`` and ``D=0.5G``, ``model.py``), 3×3 kernels
throughout:

    G: z → FC 4·4·8w → BN, ReLU → convT 4w (7×7) → BN, ReLU → convT 2w (14×14) → BN, ReLU
       → convT w (28×28) → BN, ReLU → conv C 3×3 s1 → tanh                    (w = ``g_width`` = 8 there)
    D: x → [conv 3×3 s2, BN, LeakyReLU(0.3)] with w, 2w, 4w channels (28 → 14 → 7 → 4) → FC 1
                                                        (w = ``d_width``: 2 for D = ¼G, 4 for D = ½G)

D normalises its first layer too, as their code does (unlike DCGAN). TensorFlow's "SAME" padding is
PyTorch's padding 1 here (with output padding where a transposed convolution doubles an even size).
"""

from __future__ import annotations

from torch import Tensor, nn

IMAGE_SIZE = 28


def _up(c_in: int, c_out: int, output_padding: int) -> list[nn.Module]:
    return [
        nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=output_padding),
        nn.BatchNorm2d(c_out),
        nn.ReLU(True),
    ]


class SmallDCGANGenerator(nn.Module):
    """z → FC to 8w×4×4 → three transposed 3×3 convolutions (4 → 7 → 14 → 28) → 3×3 conv to C channels, tanh."""

    def __init__(self, latent_dim: int, channels: int = 3, width: int = 8) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 8 * width * 4 * 4),
            nn.Unflatten(1, (8 * width, 4, 4)),
            nn.BatchNorm2d(8 * width),
            nn.ReLU(True),
            *_up(8 * width, 4 * width, 0),  # 4 → 7
            *_up(4 * width, 2 * width, 1),  # 7 → 14
            *_up(2 * width, width, 1),  # 14 → 28
            nn.Conv2d(width, channels, 3, stride=1, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class SmallDCGANDiscriminator(nn.Module):
    """x (C×28×28) → three [conv 3×3 s2, BN, LeakyReLU(0.3)] of w, 2w, 4w channels (28 → 14 → 7 → 4) → FC 1."""

    def __init__(self, channels: int = 3, width: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = channels
        for c_out in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.3)]
            c_in = c_out
        self.trunk = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(4 * width * 4 * 4, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
