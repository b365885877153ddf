"""Numeric precision of the training step: fp32, or mixed precision with bf16 or fp16 autocast.

Mixed precision (Micikevicius et al. 2018, "Mixed Precision Training") runs the networks' matrix products
and convolutions in a 16-bit type under ``torch.autocast`` and keeps in fp32 whatever the numerics need:

* the parameters, the optimisers' state and the EMA weights (autocast never changes them);
* the losses: D's outputs are cast to fp32 before an objective reads them (``step.judge``);
* batch-norm running statistics (fp32 buffers) and the gradient penalty's norm.

bf16 has fp32's exponent range, so its gradients need no scaling. fp16 (CUDA only) does: a player's loss is
multiplied by a scale S before ``backward`` and its gradients are divided by S right after
(``GradScaler.unscale_``), so that update rules and schemes always see true gradients; an update whose
gradients overflowed is skipped and S is lowered. The gradient penalty differentiates S·D(x̂) and divides
the input gradient by S *before* its norm (``loss_scale``; the torch.amp documentation's recipe — taking the
norm of the scaled gradient penalises S·‖∇D‖ instead of ‖∇D‖).

Each player has its own ``GradScaler``: ``update()`` must follow every optimiser step, and the simultaneous
and extragradient schemes unscale both players' gradients before either steps, which one shared scaler
cannot interleave.

The autocast region covers one player's forward passes and loss, never an optimiser step: autocast caches
the 16-bit copies of the weights until the region closes, and a region spanning an update would keep using
the weights from before it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.optim import Optimizer

from gankit.device import native_bf16
from gankit.errors import ConfigError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
MARGIN = 0.9  # auto picks bf16 on a CPU when its measured step takes at most this fraction of fp32's
SLOW = 1.5  # a forced bf16 whose measured step takes at least this multiple of fp32's gets a warning


@dataclass
class Precision:
    """How one training step computes: ``name`` fp32, bf16 or fp16 on a device of type ``device_type``."""

    name: str = "fp32"
    device_type: str = "cpu"
    scalers: dict[int, torch.amp.GradScaler] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.name not in DTYPES:
            raise ConfigError(f"unknown precision {self.name!r}; choose fp32, bf16 or fp16")

    @property
    def dtype(self) -> torch.dtype:
        return DTYPES[self.name]

    @property
    def scaled(self) -> bool:
        """Whether gradients go through a loss scaler (fp16)."""
        return self.name == "fp16"

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """The region of a player's forward passes and loss (see the module docstring)."""
        if self.name == "fp32":
            yield
            return
        with torch.autocast(self.device_type, dtype=self.dtype):
            yield

    def scaler(self, optimizer: Optimizer) -> torch.amp.GradScaler:
        """The loss scaler of the player that ``optimizer`` updates (fp16 only)."""
        key = id(optimizer)
        if key not in self.scalers:
            scaler = torch.amp.GradScaler(self.device_type)
            scaler.scale(torch.zeros((), device=self.device_type))  # creates the scale tensor (lazily made otherwise)
            self.scalers[key] = scaler
        return self.scalers[key]

    def loss_scale(self, optimizer: Optimizer) -> Tensor | float:
        """S, the factor the player's loss is multiplied by before differentiating (1 without scaling)."""
        if not self.scaled:
            return 1.0
        return self.scaler(optimizer)._get_scale_async()  # the scale tensor itself: no host sync

    def backward(self, loss: Tensor, optimizer: Optimizer, sync: Callable[[Optimizer], None] | None = None) -> None:
        """Fill the ``.grad`` of ``optimizer``'s parameters with ∇loss: true (unscaled) gradients.

        ``sync`` (data-parallel runs) averages them over the processes before fp16's unscale, so that the
        overflow check reads the averaged gradients and every process skips the same steps.
        """
        if not self.scaled:
            loss.backward()
            if sync is not None:
                sync(optimizer)
            return
        scaler = self.scaler(optimizer)
        scaler.scale(loss).backward()
        if sync is not None:
            sync(optimizer)
        scaler.unscale_(optimizer)

    def step(self, optimizer: Optimizer) -> bool:
        """Apply ``optimizer``'s step; False when fp16 gradients overflowed and the step was skipped."""
        if not self.scaled:
            optimizer.step()
            return True
        scaler = self.scaler(optimizer)
        scale = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        return scaler.get_scale() >= scale  # the scale only falls after an overflow

    def state_dict(self, optimizers: dict[str, Optimizer]) -> dict[str, dict]:
        """The loss scalers' states by player name (empty unless fp16)."""
        return {name: self.scaler(opt).state_dict() for name, opt in optimizers.items()} if self.scaled else {}

    def load_state_dict(self, state: dict[str, dict], optimizers: dict[str, Optimizer]) -> None:
        for name, opt in optimizers.items():
            if self.scaled and name in state:
                self.scaler(opt).load_state_dict(state[name])


@dataclass(frozen=True)
class Timings:
    """Seconds per game step of the run's nets in fp32 and in bf16 autocast; ``cached``: read from the cache."""

    fp32_s: float
    bf16_s: float
    cached: bool = False

    @property
    def ratio(self) -> float:
        """bf16's time over fp32's (below 1: bf16 is faster)."""
        return self.bf16_s / self.fp32_s

    def describe(self) -> str:
        where = ", cached" if self.cached else ""
        return (
            f"a step of these nets took {self.fp32_s * 1e3:.1f} ms in fp32 and {self.bf16_s * 1e3:.1f} ms in bf16 "
            f"({self.ratio:.2f}×{where})"
        )


def resolve_precision(
    requested: str,
    device: torch.device,
    images: bool,
    timings: Callable[[], Timings] | None = None,
    vmapped: bool = False,
) -> tuple[Precision, str, str | None]:
    """The precision a run uses, why (a line for the log), and a warning when a forced bf16 measured far slower.

    On a CPU, ``auto`` picks bf16 for image models where ``timings`` (a short probe of the run's nets,
    :mod:`gankit.training.precision_probe`) measures its step at most ``MARGIN`` × fp32's, and fp32 elsewhere:
    without bf16 matrix units (AMX, AVX-512 BF16) bf16 is emulated, ~20× slower (an AVX2 EPYC, lsgan). Without a
    probe (``timings`` None) the rule is the CPU's bf16 units. The 2-D toy nets are too small for bf16 to pay for
    its casts. On a GPU these small nets are bound by kernel launches, not arithmetic, so autocast's extra cast
    kernels cost more than its faster matrix products save (an H200: bf16 at 0.55–0.90× gankit's fp32 step,
    every recipe, docs/benchmarks.md): fp32. Vectorised trials (``vmapped``) are fp32 only, so there ``auto`` is
    fp32 on every machine (an explicit bf16 is refused by :func:`gankit.trials.vectorised.vectorised_refusal`).
    """
    if requested == "fp16" and device.type != "cuda":
        raise ConfigError(f"train.precision=fp16 needs a CUDA device (this run is on {device.type}): use bf16 or fp32")
    probed = device.type == "cpu" and timings is not None
    if requested != "auto":
        warning = None
        if requested == "bf16" and probed:
            t = timings()
            if t.ratio >= SLOW:
                warning = (
                    f"warning: train.precision=bf16 measured {t.ratio:.1f}× slower than fp32 on this machine "
                    f"({t.bf16_s * 1e3:.0f} vs {t.fp32_s * 1e3:.0f} ms a step: bf16 is emulated or slow here); "
                    "train.precision=auto picks the faster"
                )
        return Precision(requested, device.type), f"precision {requested} (train.precision)", warning
    if vmapped:
        return Precision("fp32", device.type), "precision fp32 (auto: vectorised trials are fp32 only)", None
    native, what = native_bf16(device)
    if device.type == "cuda":
        reason = f"{what}: these nets are launch-bound on a GPU, where bf16 measured slower than fp32"
        return Precision("fp32", device.type), f"precision fp32 (auto: {reason})", None
    if not images:
        return (
            Precision("fp32", device.type),
            "precision fp32 (auto: 2-D points: nets too small to gain from bf16)",
            None,
        )
    if probed:
        t = timings()
        name = "bf16" if t.bf16_s <= MARGIN * t.fp32_s else "fp32"
        return Precision(name, device.type), f"precision {name} (auto: {t.describe()}; {what})", None
    name = "bf16" if native else "fp32"
    return Precision(name, device.type), f"precision {name} (auto: {what})", None
