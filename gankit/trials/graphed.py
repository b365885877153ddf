"""The static trials step captured once in a CUDA graph by hand and replayed every step (``train.trials_mode=graphed``).

N tiny trials stepped as one vectorised model still launch hundreds of small kernels per game step: on a GPU the
step is bound by launches, not arithmetic. :class:`GraphedTrials` captures the whole step of
:class:`~gankit.trials.static.StaticTrials` — D phase(s), G phase, the optimisers' steps, weight clipping — in one
``torch.cuda.CUDAGraph`` and replays it, so a step costs one launch plus its random draws. By hand
(``torch.cuda.graph``), not through torch.compile's CUDA-graph trees, which gave wrong or overwritten gradients
for a D called twice in a step (pytorch issues 96693, 169545).

How the capture keeps to the rules of CUDA graphs:

* **Inputs outside.** Each step's real batches, noise and ε are drawn ahead, trial by trial under each trial's RNG
  state, and copied into the static tensors the graph reads (:meth:`StaticTrials.draw`, :meth:`StaticTrials.load`);
  nothing inside the graph draws, reads data or syncs with the CPU.
* **Warm-up on a side stream.** The first :data:`WARMUP_STEPS` steps are static steps run eagerly on a side stream
  (they are real training steps; the first records the plan): they create the optimisers' state and the
  libraries' handles and workspaces before the capture, which uses the same stream.
* **Optimisers.** The stacked optimisers are made ``capturable`` at the capture (their step counts on the GPU):
  the same arithmetic as the one-trial runs' fused Adam, foreach RMSprop and fused SGD.
* **Memory.** Gradients are set to None before the capture, so ``backward`` creates them in the graph's private
  memory pool; every tensor the step makes stays there at a fixed address, and the step's statistics are copied out
  after each replay (the next replay overwrites them).
* **Outside the graph.** The EMA of G and the step counts, after each replay (the EMA's first update is a copy).

A dropped trial changes every stacked shape: the remaining trials warm up and are captured again.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.optim import Optimizer

from gankit.config import Config
from gankit.device import resolve_device
from gankit.training.engine import Engine
from gankit.training.state import Training
from gankit.trials.static import StaticTrials, static_refusal
from gankit.trials.vectorised import RngState, build_vectorised

WARMUP_STEPS = 3  # eager static steps on the side stream before the capture (PyTorch's examples take 3)


def graphed_refusal(cfg: Config, engine: Engine | None = None) -> str | None:
    """None if trials of ``cfg`` can be replayed from a CUDA graph, else the reason why not, in one line."""
    device = resolve_device(cfg.train.device)
    if device.type != "cuda":
        return f"CUDA graphs need a CUDA GPU, and this run's device is {device.type}"
    return static_refusal(cfg, engine)


def _capturable(optimizer: Optimizer) -> None:
    """Let ``optimizer`` be captured: ``capturable`` where it has the setting (Adam, RMSprop), step counts on the
    parameters' device. SGD has no step count and captures as it is."""
    for group in optimizer.param_groups:
        if "capturable" in group:
            group["capturable"] = True
    for p, state in optimizer.state.items():
        if isinstance(state.get("step"), Tensor):
            state["step"] = state["step"].to(p.device)


def _steps_where_kept(optimizer: Optimizer) -> None:
    """A one-trial optimiser's step counts where it keeps them itself: on the device when fused or capturable, else
    on the CPU (``Optimizer.load_state_dict``'s rule)."""
    for group in optimizer.param_groups:
        on_device = group.get("fused") or group.get("capturable")
        for p in group["params"]:
            state = optimizer.state.get(p, {})
            if isinstance(state.get("step"), Tensor):
                state["step"] = state["step"].to(p.device if on_device else "cpu")


class GraphedTrials(StaticTrials):
    """N Trainings stepped as :class:`StaticTrials` steps them, the step captured in a CUDA graph after
    :data:`WARMUP_STEPS` eager steps and replayed from then on (see the module docstring)."""

    def __init__(self, trainings: list[Training], rng_states: list[RngState], compiled: bool = False) -> None:
        super().__init__(trainings, rng_states, compiled)
        reason = graphed_refusal(self.cfg, trainings[0].engine)
        if reason is not None:
            raise ValueError(f"these trials cannot be replayed from a CUDA graph: {reason}")
        self.stream = torch.cuda.Stream(self.device)  # the warm-up's and the capture's

    def _stack(self) -> None:
        super()._stack()
        self.graph: torch.cuda.CUDAGraph | None = None
        self.outputs: dict[str, Tensor] = {}  # the captured step's statistics (overwritten by each replay)
        self.warm_steps = 0

    def step(self) -> list[dict[str, Tensor]]:
        if self.graph is None and self.warm_steps < WARMUP_STEPS:
            return self._warm_up()
        self.load(self.draw())
        if self.graph is None:
            self._capture()
        self.graph.replay()
        return self._finish({name: value.clone() for name, value in self.outputs.items()})

    def _warm_up(self) -> list[dict[str, Tensor]]:
        """One eager static step on the side stream."""
        main = torch.cuda.current_stream(self.device)
        self.stream.wait_stream(main)
        with torch.cuda.stream(self.stream):
            stats = super().step()
        main.wait_stream(self.stream)
        self.warm_steps += 1
        return stats

    def _capture(self) -> None:
        """Record the step's arithmetic on the static inputs (nothing runs: the first replay makes this step)."""
        for optimizer in self.optimizers.values():
            _capturable(optimizer)  # from now on they step only inside the graph
        for p in (*self.params.values(), *self.stepped.values()):
            p.grad = None  # backward creates them in the graph's pool
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, stream=self.stream):
            self.outputs = self.compute()

    def _write(self, k: int) -> None:
        super()._write(k)
        for optimizer in self.trainings[k].optimizers.values():
            _steps_where_kept(optimizer)


def build_graphed(cfgs: list[Config], log: Callable[[str], None] = print) -> GraphedTrials:
    """:func:`~gankit.trials.vectorised.build_vectorised`, its step replayed from a CUDA graph."""
    return build_vectorised(cfgs, log, kind=GraphedTrials)
