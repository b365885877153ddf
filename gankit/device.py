"""The device gankit trains and samples on: ``train.device`` (or a command's ``--device``) resolved and checked."""

from __future__ import annotations

import torch

from gankit.errors import ConfigError

DEVICE_TYPES = ("cpu", "cuda", "mps")  # what gankit trains and samples on (not meta, xla, …)


def resolve_device(name: str) -> torch.device:
    """ "auto" picks CUDA, then Apple's MPS, then the CPU; anything else must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in DEVICE_TYPES:
        raise ConfigError(f"train.device {name!r} is not a device gankit trains on; use auto, cpu, cuda, cuda:N or mps")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"train.device={name} but this PyTorch sees no CUDA GPU; use train.device=cpu (or auto)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"train.device={name} but MPS is not available; use train.device=cpu (or auto)")
    return device
