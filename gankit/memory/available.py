"""How much memory there is, and the check made before anything large is allocated.

An estimate that does not fit raises :class:`~gankit.errors.ConfigError` saying how much would be needed,
how much is available and which fields to lower, instead of an allocator traceback (or the OOM killer)
later. The available memory is the kernel's ``MemAvailable`` (``/proc/meminfo``), else the free physical
pages (``os.sysconf``); on a CUDA device, the free device memory. Estimates are deliberately simple and
documented where they are made; they refuse only what cannot fit, they do not promise that the rest will.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from gankit.errors import ConfigError


def format_bytes(n: float) -> str:
    """``1536`` → ``"1.5 KiB"``; any size up to exbibytes and beyond."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"


def host_memory() -> int | None:
    """Bytes of RAM available to a new allocation now (None if this system does not say)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def device_memory(device: torch.device) -> int | None:
    """Free bytes on ``device``: the GPU's free memory for CUDA, the host's RAM otherwise."""
    if device.type == "cuda":
        try:
            return torch.cuda.mem_get_info(device)[0]
        except (RuntimeError, AssertionError):
            return None
    return host_memory()


def check_fits(needed: int, available: int | None, what: str, fix: str) -> None:
    """Raise ConfigError if ``needed`` bytes exceed ``available`` (unknown availability passes)."""
    if available is not None and needed > available:
        raise ConfigError(
            f"{what} would need about {format_bytes(needed)}, but only {format_bytes(available)} is available; {fix}"
        )
