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


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what the platform says."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def bf16_units() -> list[str]:
    """The CPU's bf16 matrix units (AMX, AVX512-BF16): without them bf16 is emulated, ~20× slower than fp32."""
    found = (("AMX", torch.cpu._is_amx_tile_supported()), ("AVX512-BF16", torch.cpu._is_avx512_bf16_supported()))
    return [name for name, has in found if has]


def describe_machine(device: torch.device) -> str:
    """What a speed figure was measured on: the CPU model and the instruction set PyTorch's kernels use (AVX2,
    AVX512, …), the CPU's bf16 matrix units (:func:`bf16_units`), the threads, torch's version, and the GPU when
    ``device`` is one."""
    units = bf16_units()
    text = f"{cpu_model()} ({torch.backends.cpu.get_cpu_capability()})"
    text += f" with {' and '.join(units)}" if units else ""
    text += f", {torch.get_num_threads()} threads"
    text += f", torch {torch.__version__}"
    if device.type == "cuda":
        text += f", {torch.cuda.get_device_name(device)}"
    return text
