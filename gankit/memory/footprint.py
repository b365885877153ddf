"""The memory a run's networks will take, estimated before they are built (the check is ``gankit.memory.available``).

G, D (and the encoder) are built on PyTorch's ``meta`` device, which records shapes without allocating,
and one training batch is passed through them there. The estimate, in float32 bytes, is

- state: 4 · parameters · (weights + gradients + the optimiser's slots: Adam 2, RMSProp 1, momentum 1),
  plus G's parameters once more for an EMA;
- activations: 4 · 2 · (G's + 2 × D's outputs of every layer for one batch): kept for the backward pass and
  their gradients; D sees a real and a fake batch;
- the sample grid: its G inputs and images.

It is a lower bound of what training takes (no allocator slack, no compiled kernels' buffers), so what it
refuses surely cannot run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from gankit.config import Config, OptimizerConfig
from gankit.errors import ConfigError
from gankit.latent import LatentSpace, generate
from gankit.memory.available import check_fits, device_memory, format_bytes
from gankit.nets import build_encoder, build_networks

FLOAT = 4  # bytes of a float32


@dataclass(frozen=True)
class Footprint:
    """Parameters (G, D, encoder) and activation elements of one step, and the bytes they take."""

    g_params: int
    d_params: int
    e_params: int
    activations: int
    grid: int
    state_bytes: int

    @property
    def total(self) -> int:
        return self.state_bytes + FLOAT * 2 * self.activations + FLOAT * self.grid

    @property
    def parameters(self) -> str:
        """The parameter counts, in words."""
        return f"G {self.g_params:,}, D {self.d_params:,}" + (f", E {self.e_params:,}" if self.e_params else "")

    def describe(self) -> str:
        return f"parameters {self.parameters}; about {format_bytes(self.total)} for one training step"


def optimizer_slots(cfg: OptimizerConfig) -> int:
    """Per-parameter state tensors the optimiser keeps."""
    slots = {"adam": 2, "rmsprop": 1, "sgd": 0}.get(cfg.name, 2)
    return slots + (1 if cfg.name != "adam" and cfg.momentum > 0 else 0)


def _count(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def _layer_outputs(modules: list[nn.Module]) -> tuple[list[int], list[torch.utils.hooks.RemovableHandle]]:
    """A counter of the elements every leaf layer of ``modules`` outputs, and the hooks that feed it."""
    total = [0]

    def hook(_module: nn.Module, _inputs: object, output: object) -> None:
        if isinstance(output, torch.Tensor):
            total[0] += output.numel()

    handles = [m.register_forward_hook(hook) for root in modules for m in root.modules() if not list(m.children())]
    return total, handles


# the sizes ``_sizes`` found, by what they depend on (G's and D's config, whether there is an encoder, the data's
# shape, the latent space, the batch): the meta pass takes 20-50 ms on a 2-core AVX2 AMD EPYC, and a process builds
# one config many times
_SIZES: dict[tuple, tuple[int, int, int, int, int]] = {}


def _sizes(cfg: Config, data_shape: tuple[int, ...], space: LatentSpace) -> tuple[int, int, int, int, int]:
    """G's, D's and the encoder's parameters and G's and D's layer outputs for one batch, counted on the meta
    device."""
    try:
        with torch.device("meta"):
            g, d = build_networks(cfg.model, data_shape, space)
            encoder = build_encoder(cfg.model, data_shape) if cfg.loss.uses_encoder else None
    except (RuntimeError, OverflowError, MemoryError) as e:
        raise ConfigError(f"the networks of this config cannot be built: {' '.join(str(e).split())[:200]}") from None
    g_act, d_act = _activations(g, d, space, cfg.train.batch_size, cfg.model.pack)
    return _count(g), _count(d), _count(encoder), g_act, d_act


def footprint(cfg: Config, data_shape: tuple[int, ...], space: LatentSpace) -> Footprint:
    """The estimate for ``cfg`` on data of ``data_shape`` (see the module's docstring); ConfigError if the
    networks cannot even be described (a size PyTorch cannot represent)."""
    batch = cfg.train.batch_size
    key = (repr(cfg.model), cfg.loss.uses_encoder, tuple(data_shape), space, batch)
    if key not in _SIZES:
        _SIZES[key] = _sizes(cfg, data_shape, space)
        while len(_SIZES) > 256:
            del _SIZES[next(iter(_SIZES))]
    g_params, d_params, e_params, g_act, d_act = _SIZES[key]
    ema = g_params if cfg.train.ema is not None else 0
    state = FLOAT * (
        (g_params + e_params) * (2 + optimizer_slots(cfg.g_optim)) + d_params * (2 + optimizer_slots(cfg.d_optim)) + ema
    )
    grid = cfg.train.grid_size * (space.input_dim + math.prod(data_shape))
    return Footprint(g_params, d_params, e_params, g_act + 2 * d_act, grid, state)


def _batch_statistics_guards(player: str, net: nn.Module, pack: int) -> list[torch.utils.hooks.RemovableHandle]:
    """Hooks that refuse (ConfigError) a batch-norm layer seeing one value per channel, or a minibatch layer
    seeing one sample: batch statistics of one value are undefined (PyTorch raises), minibatch features of
    one sample are constant. ``pack``: samples per row of ``net``'s input (D's packs)."""
    from gankit.nets.minibatch import MinibatchDiscrimination, MinibatchStdDev

    def check(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        x = inputs[0]
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            alone, what = x.numel() // max(x.shape[1], 1) < 2, f"its batch norm ({type(module).__name__})"
        else:
            alone, what = x.shape[0] < 2, f"its minibatch features ({type(module).__name__})"
        if alone:
            packs = f" (packs of model.pack={pack})" if pack > 1 else ""
            raise ConfigError(
                f"train.batch_size={x.shape[0] * pack} gives {player} one sample per batch{packs}, and {what} "
                f"needs statistics over at least 2: set train.batch_size to at least {2 * pack}"
            )

    kinds = (nn.modules.batchnorm._BatchNorm, MinibatchDiscrimination, MinibatchStdDev)
    return [m.register_forward_pre_hook(check) for m in net.modules() if isinstance(m, kinds) and m.training]


def _activations(g: nn.Module, d: nn.Module, space: LatentSpace, batch: int, pack: int = 1) -> tuple[int, int]:
    """Elements output by G's and D's layers for one batch, counted on the meta device; ConfigError if a layer
    needs batch statistics that one batch cannot give (``_batch_statistics_guards``)."""
    g_count, g_hooks = _layer_outputs([g])
    d_count, d_hooks = _layer_outputs([d])
    g_hooks += _batch_statistics_guards("G", g, 1) + _batch_statistics_guards("D", d, pack)
    try:
        with torch.device("meta"), torch.no_grad():
            latent = space.sample(batch, "meta")
            fake = generate(g, latent)
            d(fake, latent.y)
    finally:
        for h in g_hooks + d_hooks:
            h.remove()
    return g_count[0], d_count[0]


def check_footprint(
    cfg: Config, data_shape: tuple[int, ...], space: LatentSpace, device: torch.device, data_bytes: int = 0
) -> Footprint:
    """The footprint of ``cfg``, or ConfigError if it (with ``data_bytes`` of data still to be moved onto the
    device) cannot fit in ``device``'s free memory."""
    estimate = footprint(cfg, data_shape, space)
    check_fits(
        estimate.total + data_bytes,
        device_memory(device),
        f"training this config on {device.type} (parameters {estimate.parameters})",
        "lower model.latent_dim, model.g_width, model.d_width, model.mlp_layers, model.pack, train.batch_size "
        "or train.grid_size",
    )
    return estimate
