"""Weight initialisations."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from gankit.registry import Registry

_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)


def dcgan_init(module: nn.Module) -> None:
    """Weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0  (Radford et al. 2015, sec. 4)."""
    for m in module.modules():
        if isinstance(m, _LAYERS):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def xavier_init(module: nn.Module) -> None:
    """Glorot-uniform weights, zero biases (Glorot & Bengio 2010), as in the cs231n GAN notebook."""
    for m in module.modules():
        if isinstance(m, _LAYERS):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def default_init(module: nn.Module) -> None:
    """PyTorch's own initialisation, as the layers were built."""


INITS: Registry[Callable[[nn.Module], None]] = Registry(
    "initialisation", {"dcgan": dcgan_init, "xavier": xavier_init, "default": default_init}
)
