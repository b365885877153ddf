"""Generators and discriminators. ``build_networks`` turns a ``ModelConfig`` into (G, D).

Every discriminator returns one logit per sample, shape (N,), and exposes ``trunk`` (features) and
``head`` (the last layer) so that heads such as InfoGAN's Q can share the trunk.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gankit.config import ModelConfig
from gankit.errors import ConfigError
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.nets.init import INITS
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator
from gankit.nets.mnist_conv import MnistConvDiscriminator, MnistConvGenerator

Shape = tuple[int, ...]


def _mlp(cfg: ModelConfig, shape: Shape) -> tuple[nn.Module, nn.Module]:
    is_image = len(shape) == 3
    return (
        MLPGenerator(cfg.latent_dim, shape, cfg.g_width, cfg.mlp_layers, tanh=is_image),
        MLPDiscriminator(shape, cfg.d_width, cfg.mlp_layers),
    )


def _dcgan(cfg: ModelConfig, shape: Shape) -> tuple[nn.Module, nn.Module]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(f"model.arch=dcgan needs square images, got data of shape {shape}")
    c, size, _ = shape
    return (DCGANGenerator(cfg.latent_dim, c, size, cfg.g_width), DCGANDiscriminator(c, size, cfg.d_width, cfg.d_norm))


def _mnist_conv(cfg: ModelConfig, shape: Shape) -> tuple[nn.Module, nn.Module]:
    if tuple(shape) != (1, 28, 28):
        raise ConfigError(
            f"model.arch=mnist-conv is built for 1×28×28 images, got data of shape {shape}; "
            "use model.arch=dcgan for other sizes"
        )
    return MnistConvGenerator(cfg.latent_dim), MnistConvDiscriminator()


ARCHITECTURES: dict[str, Callable[[ModelConfig, Shape], tuple[nn.Module, nn.Module]]] = {
    "mlp": _mlp,
    "dcgan": _dcgan,
    "mnist-conv": _mnist_conv,
}


def build_networks(cfg: ModelConfig, data_shape: Shape) -> tuple[nn.Module, nn.Module]:
    """Generator and discriminator for samples of ``data_shape`` ((C, H, W) images or (D,) points)."""
    if cfg.arch not in ARCHITECTURES:
        raise ConfigError(f"unknown model.arch {cfg.arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    g, d = ARCHITECTURES[cfg.arch](cfg, tuple(data_shape))
    INITS[cfg.init](g)
    INITS[cfg.init](d)
    if cfg.spectral_norm:
        add_spectral_norm(d)
    return g, d


def add_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalise every conv and linear layer of ``module`` in place (Miyato et al. 2018)."""
    for name, child in module.named_children():
        if isinstance(child, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            setattr(module, name, spectral_norm(child))
        else:
            add_spectral_norm(child)
    return module


__all__ = [
    "ARCHITECTURES",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "MnistConvDiscriminator",
    "MnistConvGenerator",
    "add_spectral_norm",
    "build_networks",
]
