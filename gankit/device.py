"""The device gankit trains and samples on: ``train.device`` (or a command's ``--device``) resolved and checked."""

from __future__ import annotations

import os

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


def cpu_words(model: str, isa: str | None, units: list[str] | None) -> str:
    """A CPU in words: its model, the instruction set of PyTorch's kernels and its bf16 units, e.g. "Intel(R)
    Xeon(R) Processor (AVX512) with AMX and AVX512-BF16" (``isa`` or ``units`` empty: left out)."""
    return model + (f" ({isa})" if isa else "") + (f" with {' and '.join(units)}" if units else "")


def describe_machine(device: torch.device) -> str:
    """What a speed figure was measured on: the CPU model and the instruction set PyTorch's kernels use (AVX2,
    AVX512, …), the CPU's bf16 matrix units (:func:`bf16_units`), the threads, torch's version, and the GPU when
    ``device`` is one."""
    text = cpu_words(cpu_model(), torch.backends.cpu.get_cpu_capability(), bf16_units())
    text += f", {torch.get_num_threads()} threads"
    text += f", torch {torch.__version__}"
    if device.type == "cuda":
        text += f", {torch.cuda.get_device_name(device)}"
    return text


def native_bf16(device: torch.device) -> tuple[bool, str]:
    """Whether ``device`` computes bf16 matrix products natively, and what it has (for the log). On a CPU, units
    that ``ONEDNN_MAX_CPU_ISA`` keeps oneDNN from using (e.g. ``AVX2``, to test as on an AVX2 machine) count as
    absent: its bf16 products are then emulated."""
    if device.type == "cuda":
        ok = torch.cuda.is_bf16_supported(including_emulation=False)
        return ok, torch.cuda.get_device_name(device)
    if device.type == "cpu":
        present = bf16_units()
        usable = [name for name in present if _onednn_may_use(name)]
        what = "this CPU has " + (" and ".join(present) if present else "no bf16 matrix units")
        if usable != present:
            what += f" (oneDNN may use {' and '.join(usable) or 'none'}: ONEDNN_MAX_CPU_ISA={_onednn_cap()})"
        return bool(usable), what
    return False, f"{device.type} is not measured"


def _onednn_cap() -> str:
    """oneDNN's ISA cap from the environment (``ALL``: none)."""
    return (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "ALL").upper()


def _onednn_may_use(unit: str) -> bool:
    """Whether oneDNN's ISA cap admits ``unit`` (``AMX`` or ``AVX512-BF16``): its ISA names those with AMX admit
    both; AVX512_CORE_BF16, AVX512_CORE_FP16 and AVX10_1_512 admit AVX512-BF16."""
    cap = _onednn_cap()
    if cap in ("ALL", "DEFAULT") or "AMX" in cap:
        return True
    return unit == "AVX512-BF16" and cap in ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX10_1_512")
