"""Layer-by-layer views of a convolutional net, for the tests that check nets against their papers' code."""

from __future__ import annotations

from torch import Tensor, nn


def convs(module: nn.Module) -> list[tuple[int, int, int, int]]:
    """(in, out, kernel, stride) of every convolution and transposed convolution, in order."""
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    return [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0]) for m in layers]


def upsampled_sizes(net: nn.Sequential, x: Tensor) -> tuple[list[int], Tensor]:
    """The map size after each transposed convolution of ``net`` on input ``x``, and ``net``'s output."""
    sizes = []
    for layer in net:
        x = layer(x)
        if isinstance(layer, nn.ConvTranspose2d):
            sizes.append(x.shape[-1])
    return sizes, x
