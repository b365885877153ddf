"""The DCGAN of Kim's DCGAN-tensorflow, as VEEGAN's and PacGAN's Stacked-MNIST experiments (Table 2) train it.

Radford et al. (2015)'s layout with the code's sizes: 5×5 kernels, stride 2, four stages whose maps halve with
rounding up (28 → 14 → 7 → 4 → 2 for MNIST), ``w`` = 64 channels next to the image, doubling away from it:

    G: z → FC 8w·s·s → BN, ReLU → 4 × convT 5×5 s2 (8w → 4w → 2w → w → C), BN and ReLU after all but the
       last, tanh                                                                  (s: the image size / 16, up)
    D: x → conv 5×5 s2 w, LeakyReLU(0.2) → 3 × [conv 5×5 s2, BN, LeakyReLU(0.2)] (2w, 4w, 8w) → FC 1

(``stacked_MNIST_experiments/VEEGAN_experiment/model.py`` of github.com/fjxmlzn/PacGAN.) TensorFlow's "SAME"
padding is PyTorch's padding 2 here, with the output padding that gives each transposed convolution the
size the code asks for; on even sizes TensorFlow pads 1 pixel before and 2 after, PyTorch 2 on both sides,
which shifts each map by at most a pixel.
"""

from __future__ import annotations

from torch import Tensor, nn

STAGES = 4
KERNEL = 5


def stage_sizes(image_size: int) -> list[int]:
    """Map sizes from the image down: [image_size, ⌈/2⌉, …], ``STAGES`` + 1 of them (28: 28, 14, 7, 4, 2)."""
    sizes = [image_size]
    for _ in range(STAGES):
        sizes.append(-(-sizes[-1] // 2))
    return sizes


def _up(c_in: int, c_out: int, size_in: int, size_out: int) -> nn.ConvTranspose2d:
    """A 5×5 stride-2 transposed convolution from ``size_in`` to ``size_out`` (= 2·size_in or one less)."""
    return nn.ConvTranspose2d(c_in, c_out, KERNEL, stride=2, padding=2, output_padding=size_out - (2 * size_in - 1))


class DCGANTFGenerator(nn.Module):
    """z → FC to 8w × s × s → BN, ReLU → four 5×5 stride-2 transposed convolutions to C channels → tanh."""

    def __init__(self, latent_dim: int, channels: int = 3, image_size: int = 28, width: int = 64) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        sizes = stage_sizes(image_size)[::-1]  # 2, 4, 7, 14, 28
        widths = [8 * width, 4 * width, 2 * width, width, channels]
        layers: list[nn.Module] = [
            nn.Linear(latent_dim, widths[0] * sizes[0] * sizes[0]),
            nn.Unflatten(1, (widths[0], sizes[0], sizes[0])),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for i in range(STAGES):
            layers.append(_up(widths[i], widths[i + 1], sizes[i], sizes[i + 1]))
            layers += [nn.BatchNorm2d(widths[i + 1]), nn.ReLU(True)] if i < STAGES - 1 else [nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class DCGANTFDiscriminator(nn.Module):
    """x → conv 5×5 s2 (w), LeakyReLU(0.2) → three [conv 5×5 s2, BN, LeakyReLU(0.2)] (2w, 4w, 8w) → FC 1."""

    def __init__(self, channels: int = 3, image_size: int = 28, width: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = channels
        for i, c_out in enumerate((width, 2 * width, 4 * width, 8 * width)):
            layers.append(nn.Conv2d(c_in, c_out, KERNEL, stride=2, padding=2))
            if i > 0:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2))
            c_in = c_out
        self.trunk = nn.Sequential(*layers, nn.Flatten())
        last = stage_sizes(image_size)[-1]
        self.head = nn.Linear(8 * width * last * last, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
