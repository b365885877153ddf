"""How a run's step is made fast: precision, memory layout, threads and compilation, each chosen with a reason.

:func:`choose_engine` resolves ``train.precision`` and ``train.compile`` for the run's device and networks
and returns an :class:`Engine` whose ``reasons`` go into the run's log. What was measured, on which
machine, is in docs/benchmarks.md (``benchmarks/train_step_speed.py``).

* **Precision** (:mod:`gankit.training.precision`): bf16 autocast on a CPU where a short probe of the run's nets
  measures it faster than fp32 (:mod:`gankit.training.precision_probe`, cached per machine); fp32 on a GPU.
* **Memory layout**: convolutional nets in channels_last (NHWC) when they compute in 16 bits: oneDNN's and
  cuDNN's bf16/fp16 convolutions run NHWC natively (measured on the CPU, bf16: 20–25% less time per step
  for dcgan and lsgan than NCHW nets, 13% for wgan-gp than an NCHW critic). In fp32 the default layout was
  as fast or faster on an AVX-512/AMX Xeon, but on an AVX2-only AMD EPYC channels_last fp32 was faster
  (oneDNN's NHWC convolutions, max pooling), so fp32 conv nets go channels_last on AVX2 CPUs unless they have a
  batch norm (:func:`has_batch_norm`: PyTorch's channels_last batch-norm kernels made InfoGAN's gradients 1–3% wrong
  against float64 with one thread), except in vectorised trials (``vmapped``): ``vmap`` cannot take channels_last
  tensors through the gradient penalty, so they and the one-trial runs they are compared with keep the default
  layout.
* **Optimisers**: fused Adam/SGD kernels, foreach RMSprop (``gankit.training.optim``).
* **Threads**: one inter-op thread (these small nets have no independent ops worth running in parallel);
  intra-op threads stay at torch's default, the number of physical cores.
* **Allocator** (CPU, glibc): freed memory is kept for the next step (:func:`keep_freed_memory`): by default glibc
  maps each large tensor fresh from the kernel and gives it back when freed, so every step page-faults its
  activations in again (lsgan on a 2-core AVX2 EPYC: ~20,000 faults and 40 ms of kernel time a step; without them
  the step took 0.8–0.9× the time).
* **TF32** (CUDA): off, so that fp32 is the exact reference (:func:`tf32_policy`).
* **Compilation**: ``torch.compile`` of G and D (not of the optimiser steps); on a GPU ``reduce-overhead``
  also captures CUDA graphs (one launch replays all of a network's kernels: these nets are launch-bound), and
  ``max-autotune`` captures them and autotunes the kernels too (minutes of compiling). ``cudagraphs`` replays
  the eager kernels from CUDA graphs with no code generation (torch.compile's ``cudagraphs`` backend). The
  gradient penalty always differentiates the uncompiled D twice (double backward does not run through
  compiled graphs: pytorch issues 91469, 183603); checkpoints, EMA and sample grids use the uncompiled modules too.
"""

from __future__ import annotations

import contextlib
import ctypes
import platform
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from gankit.config import Config
from gankit.training.precision import Precision, Timings, resolve_precision


@dataclass
class Engine:
    """The run's speed settings and, for the log, why each was chosen."""

    precision: Precision
    channels_last: bool
    compile_mode: str | None  # None: eager
    reasons: list[str] = field(default_factory=list)
    warning: str | None = None  # a forced precision measured far slower (a line of its own in the log)

    def describe(self) -> str:
        return "engine: " + "; ".join(self.reasons)


def choose_engine(
    cfg: Config,
    device: torch.device,
    images: bool,
    timings: Callable[[], Timings] | None = None,
    vmapped: bool = False,
) -> Engine:
    """Resolve ``train.precision`` and ``train.compile`` for ``device`` and the run's networks; ``timings``
    measures them in fp32 and bf16 when the choice needs it (:mod:`gankit.training.precision_probe`);
    ``vmapped``: the networks will be stepped inside ``torch.vmap`` (vectorised trials)."""
    threading = threads()  # before the probe's parallel work, after which the inter-op threads are fixed
    precision, why_precision, warning = resolve_precision(cfg.train.precision, device, images, timings, vmapped)
    channels_last, layout = memory_layout(precision, device, images, vmapped)
    mode, why_compile = _compile_mode(cfg)
    reasons = [why_precision, layout, threading, why_compile]
    if device.type == "cpu":
        reasons.append(keep_freed_memory())
    if device.type == "cuda":
        reasons.append(tf32_policy(precision))
    return Engine(precision, channels_last, mode, reasons, warning)


def memory_layout(precision: Precision, device: torch.device, images: bool, vmapped: bool = False) -> tuple[bool, str]:
    """Whether the convolutional nets go channels_last, and why: in 16 bits everywhere; in fp32 on CPUs whose
    kernels are AVX2 (no AVX-512), where oneDNN's NHWC fp32 convolutions and max pooling were measured faster,
    unless the nets are ``vmapped`` (``vmap`` cannot query a channels_last tensor's layout in the gradient penalty).
    fp32 nets with a batch norm keep the default layout (:func:`set_layout`; docs/benchmarks.md, "Training speed on
    an AVX2-only CPU")."""
    if not images:
        return False, "default memory layout"
    if vmapped:
        return False, "default memory layout (vectorised trials: vmap takes no channels_last through the penalty)"
    if precision.name != "fp32":
        return True, "channels_last (16-bit convolutions)"
    if device.type != "cpu" or torch.backends.cpu.get_cpu_capability() != "AVX2":
        return False, "default memory layout"
    return True, "channels_last for nets without batch norm (fp32 convolutions on an AVX2 CPU: measured faster)"


def tf32_policy(precision: Precision) -> str:
    """On CUDA, fp32 means IEEE fp32: TF32 (10-bit mantissa) is turned off for matrix products and cuDNN
    convolutions, so that ``train.precision=fp32`` is the exact reference and bf16 is the one fast path."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return "TF32 off (fp32 is IEEE fp32; bf16 is the fast path)" if precision.name == "fp32" else "TF32 off"


def _compile_mode(cfg: Config) -> tuple[str | None, str]:
    requested = cfg.train.compile
    if requested == "off":
        return None, "eager (train.compile=off)"
    if requested == "auto":
        return None, "eager (auto: torch.compile was not faster on the machines measured; train.compile=on to try)"
    return ("default" if requested == "on" else requested), f"torch.compile mode {requested}"


def threads() -> str:
    """One inter-op thread (settable once per process, before any parallel work); intra-op as torch chose."""
    with contextlib.suppress(RuntimeError):  # already set, or parallel work already ran in this process
        torch.set_num_interop_threads(1)
    return f"{torch.get_num_threads()} intra-op threads, {torch.get_num_interop_threads()} inter-op"


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (glibc's malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's largest: blocks below it come from the heap, not fresh maps
TRIM_THRESHOLD = 1 << 30  # free memory at the heap's top kept rather than given back to the kernel


def keep_freed_memory() -> str:
    """Make glibc's malloc reuse freed blocks up to 32 MiB and keep up to 1 GiB of free heap (``mallopt``), so a
    step's activations land in memory the previous step freed instead of pages faulted in afresh. Process-wide;
    nothing happens where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return "allocator as the C library keeps it (not glibc)"
    libc = ctypes.CDLL(None)
    if not (libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return "allocator as glibc keeps it (mallopt refused)"
    return "freed memory reused (glibc mmap threshold 32 MiB, trim threshold 1 GiB)"


def prepare_networks(engine: Engine, *modules: nn.Module | None) -> None:
    """Put the networks in the engine's memory layout (in place)."""
    set_layout(engine.channels_last, engine.precision, *modules)


def set_layout(channels_last: bool, precision: Precision, *modules: nn.Module | None) -> None:
    """Put the networks channels_last (in place) if ``channels_last``, except, in fp32, those with a 2-D batch norm
    (:func:`has_batch_norm`)."""
    if not channels_last:
        return
    for module in modules:
        if module is not None and not (precision.name == "fp32" and has_batch_norm(module)):
            module.to(memory_format=torch.channels_last)


def has_batch_norm(module: nn.Module) -> bool:
    """Whether ``module`` has a 2-D batch norm: fp32 nets with one keep the default layout. PyTorch's CPU batch-norm
    kernels for channels_last maps sum each channel's N·H·W values in one running fp32 sum (forward and backward;
    the default layout's sum in blocks): after a ReLU that made InfoGAN G's normalised map 3e-5 wrong (5e-7 in the
    default layout), and D's batch norms amplified it into gradients 1–3% wrong with one thread. Computing just the
    batch norms in the default layout (two layout copies each) made dcgan's and wgan-gp's steps slower than the
    default layout's (docs/benchmarks.md, "Training speed on an AVX2-only CPU")."""
    return any(isinstance(m, nn.BatchNorm2d) for m in module.modules())


def compiled(engine: Engine, module: nn.Module) -> nn.Module:
    """``module`` compiled as the engine says (or itself, eager). ``step.unwrap`` recovers the original.

    On a GPU, inductor keeps the layouts eager mode gives (``layout_optimization`` off): with its own switch of
    convolutions to channels_last, the compiled backward of a G whose last layer has one output channel met
    a gradient in the other layout (a stride assertion under CUDA graphs, torch 2.11 on an H200), and the
    engine already chooses the layout.
    """
    if engine.compile_mode is None:
        return module
    if engine.compile_mode == "cudagraphs":  # AOT-traced, eager kernels replayed from CUDA graphs (CPU: eager)
        return torch.compile(module, backend="cudagraphs")
    if next(module.parameters()).device.type == "cuda":
        import torch._inductor.config as inductor_config

        inductor_config.layout_optimization = False
    return torch.compile(module, mode=engine.compile_mode)
