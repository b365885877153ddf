"""DCGAN generator and discriminator (Radford et al. 2015, sec. 3) for 28, 32, 64 (…) pixel images.

All-convolutional: strided transposed convolutions upsample in G, strided convolutions downsample in D,
no pooling and no fully connected hidden layers; batch-norm everywhere except G's output and D's input
layer; ReLU in G with tanh at the output; LeakyReLU(0.2) in D.

Sizes: the feature maps start at a base of 4×4 (image sizes 4·2ⁿ: 32, 64, 128) or 7×7 (7·2ⁿ: 28, 56)
and double at each stage. ``width`` is the channel count next to the image (ngf / ndf in the paper's
code); it doubles at every stage away from the image.
"""

from __future__ import annotations

from torch import Tensor, nn

from gankit.errors import ConfigError
from gankit.nets.norms import LayerNorm2d


def dcgan_stages(image_size: int) -> tuple[int, int]:
    """(base, n): the image is base·2ⁿ pixels wide with base 4 or 7 and n ≥ 1."""
    for base in (4, 7):
        n, size = 0, image_size
        while size > base and size % 2 == 0:
            size //= 2
            n += 1
        if size == base and n >= 1:
            return base, n
    raise ConfigError(
        f"DCGAN needs an image size of 4·2ⁿ or 7·2ⁿ pixels (28, 32, 56, 64, 128…), got {image_size}: "
        "set data.image_size"
    )


def _d_norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # layer norm over (C, H, W), as in the WGAN-GP critic
        return LayerNorm2d(channels)
    return nn.Identity()


class Project(nn.ConvTranspose2d):
    """G's first layer: z (N, C, 1, 1) → (N, C', k, k), a transposed convolution of a 1×1 map ("project and
    reshape", Radford et al. 2015, fig. 1).

    On a 1×1 input it is exactly a matrix product, z · W.view(C, C'·k·k), and is computed as one: the generic
    transposed convolution of a 1×1 map ran at about a tenth of the matrix product's speed in bf16 on the
    CPU measured. Parameters and state dict are those of ``nn.ConvTranspose2d``.
    """

    def forward(self, z: Tensor, output_size: list[int] | None = None) -> Tensor:
        if z.shape[-2:] != (1, 1) or output_size is not None or self.padding != (0, 0) or self.groups != 1:
            return super().forward(z, output_size)
        n, (kh, kw) = z.shape[0], self.kernel_size
        if self.weight.is_contiguous():  # W: (C, C', kh, kw) → a (N, C', kh, kw) map
            out = (z.flatten(1) @ self.weight.flatten(1)).view(n, self.out_channels, kh, kw)
        else:  # channels_last W, stored as (C, kh, kw, C'): the product is a channels_last map, no copies
            w = self.weight.permute(0, 2, 3, 1).flatten(1)
            out = (z.flatten(1) @ w).view(n, kh, kw, self.out_channels).permute(0, 3, 1, 2)
        return out if self.bias is None else out + self.bias.view(1, -1, 1, 1)


class DCGANGenerator(nn.Module):
    """z → convT (base×base) → [convT 4×4 s2, BN, ReLU]·(n−1) → convT 4×4 s2 → tanh."""

    def __init__(self, latent_dim: int = 100, channels: int = 1, image_size: int = 64, width: int = 64):
        super().__init__()
        self.latent_dim = latent_dim
        base, n = dcgan_stages(image_size)
        ch = width * 2 ** (n - 1)
        layers: list[nn.Module] = [
            nn.Unflatten(1, (latent_dim, 1, 1)),
            Project(latent_dim, ch, base, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(True),
        ]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """x → conv 4×4 s2, LeakyReLU(0.2) → [conv 4×4 s2, norm, LeakyReLU(0.2)]·(n−1) → conv base×base → logit.

    ``norm`` is "batch" (DCGAN), "layer" (the WGAN-GP critic, Gulrajani et al. 2017, sec. 4) or "none".
    """

    def __init__(self, channels: int = 1, image_size: int = 64, width: int = 64, norm: str = "batch"):
        super().__init__()
        base, n = dcgan_stages(image_size)
        ch = width
        layers: list[nn.Module] = [nn.Conv2d(channels, ch, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for _ in range(n - 1):
            layers += [
                nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm != "batch"),
                _d_norm(norm, ch * 2),
                nn.LeakyReLU(0.2, True),
            ]
            ch *= 2
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Conv2d(ch, 1, base, 1, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x)).flatten()
