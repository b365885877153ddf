"""The vectorised game step with its random inputs drawn ahead into static tensors (what a CUDA graph replays).

A CUDA graph replays recorded kernels on fixed memory, so every random draw and data read must happen outside it
and the replayed arithmetic must read its inputs from tensors that stay put. :class:`StaticTrials` is
:class:`~gankit.trials.vectorised.VectorisedTrials` split that way:

* its first step (after it is built, and after a trial is dropped) is the eager vectorised step, which records the
  kind of each random input in the order the scheme draws it — a real batch, G's noise, the penalty's ε, each of
  k D steps drawing its own — as the step's *plan*: the scheme's own code says the order, so it cannot drift;
* every later step draws the plan's inputs ahead (:meth:`StaticTrials.draw`: each trial's batches from its
  sampler, its noise and ε under its own RNG state, :meth:`~VectorisedTrials.trial_rng`, in the plan's order),
  copies them into the static tensors (:meth:`StaticTrials.load`) and runs the step's arithmetic
  (:meth:`StaticTrials.compute`: D and G phases, optimiser steps, clipping), whose draws now read the static
  tensors in turn. The EMA and the step counts follow outside it, as in the eager step.

The arithmetic is the eager step's, on the same values, so a static step equals it bit for bit
(tests/trials/test_static.py). Covered: the schemes whose step keeps no Python-side state from one step to the next
(:data:`STATIC_SCHEMES`); :func:`static_refusal` names the reason for the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import Tensor

from gankit.config import Config
from gankit.latent import Latent
from gankit.training.engine import Engine
from gankit.training.state import Training
from gankit.training.step import Batch
from gankit.trials.vectorised import RngState, VectorisedTrials, build_vectorised, vectorised_refusal

STATIC_SCHEMES = ("alternating", "simultaneous")  # the schemes whose step is the same arithmetic every time
Input = Batch | Latent | Tensor  # one random input of a step: a real batch, G's input, the penalty's ε
Entry = tuple[str, Tensor | None]  # one input of the plan: its kind (real, noise, eps) and, for ε, a tensor shaped
# like the batch it weighs (stride 0: no memory)


def static_refusal(cfg: Config, engine: Engine | None = None) -> str | None:
    """None if trials of ``cfg`` can take static steps, else the reason why not, in one line."""
    reason = vectorised_refusal(cfg, engine)
    if reason is None and cfg.train.scheme not in STATIC_SCHEMES:
        return (
            f"scheme {cfg.train.scheme}: its step keeps state between steps or restores snapshots, which a replayed "
            f"graph would freeze; the {' and '.join(STATIC_SCHEMES)} schemes take static steps"
        )
    return reason


def _tensors(value: Input) -> list[Tensor | None]:
    if isinstance(value, Tensor):
        return [value]
    return [getattr(value, f.name) for f in dataclasses.fields(value)]


def _cloned(value: Input) -> Input:
    if isinstance(value, Tensor):
        return value.clone()
    return dataclasses.replace(
        value, **{f.name: t if (t := getattr(value, f.name)) is None else t.clone() for f in dataclasses.fields(value)}
    )


class StaticTrials(VectorisedTrials):
    """N Trainings stepped as :class:`VectorisedTrials` steps them, each step's random inputs drawn ahead into
    static tensors (see the module docstring). ``plan`` is None until the first step has recorded it."""

    def __init__(self, trainings: list[Training], rng_states: list[RngState], compiled: bool = False) -> None:
        super().__init__(trainings, rng_states, compiled)
        reason = static_refusal(self.cfg, trainings[0].engine)
        if reason is not None:
            raise ValueError(f"these trials cannot take static steps: {reason}")

    def _stack(self) -> None:
        super()._stack()
        self.plan: list[Entry] | None = None  # recorded again after a drop: the static tensors hold N trials
        self.static: list[Input] = []
        self._recording: list[tuple[Entry, Input]] | None = None
        self._slots: list[Input] | None = None  # while compute() runs: the inputs its draws read, in order
        self._cursor = 0

    # -- the draws: recorded, read from the static tensors, or made ahead -----------------------------------
    def _take(self, kind: str, like: Tensor | None = None) -> Input:
        if self._slots is not None:
            i = self._cursor
            if i >= len(self.plan) or self.plan[i][0] != kind:
                planned = self.plan[i][0] if i < len(self.plan) else "nothing"
                raise RuntimeError(f"draw {i} of the static step is {kind}, its plan has {planned}")
            self._cursor += 1
            return self._slots[i]
        value = self._draw(kind, like)
        if self._recording is not None:
            shape = None if like is None else like.new_empty(()).expand(like.shape)
            self._recording.append(((kind, shape), value))
        return value

    def _real(self) -> Batch:
        return self._take("real")

    def _noise(self) -> Latent:
        return self._take("noise")

    def _interpolation_weights(self, real: Tensor) -> Tensor:
        return self._take("eps", real)

    def draw(self) -> list[Input]:
        """One step's random inputs, drawn in the plan's order as the eager step draws them."""
        return [self._draw(kind, like) for kind, like in self.plan]

    def _draw(self, kind: str, like: Tensor | None) -> Input:
        """One random input of ``kind``, drawn as the eager step draws it (``like``: the batch ε weighs)."""
        if kind == "real":
            return VectorisedTrials._real(self)
        if kind == "noise":
            return VectorisedTrials._noise(self)
        return VectorisedTrials._interpolation_weights(self, like)

    @torch.no_grad()
    def load(self, drawn: list[Input]) -> None:
        """Copy one step's drawn inputs into the static tensors."""
        for static, value in zip(self.static, drawn, strict=True):
            for mine, new in zip(_tensors(static), _tensors(value), strict=True):
                if mine is not None:
                    mine.copy_(new)

    # -- the step ---------------------------------------------------------------------------------------------
    def compute(self) -> dict[str, Tensor]:
        """The step's arithmetic on the static inputs (no draw, no data read): the stacked statistics."""
        self._slots, self._cursor = self.static, 0
        try:
            stats = self._play()
        finally:
            self._slots = None
        if self._cursor != len(self.plan):
            raise RuntimeError(f"the static step read {self._cursor} of its plan's {len(self.plan)} inputs")
        return stats

    def _record(self) -> dict[str, Tensor]:
        """The eager step, recording its plan and keeping copies of its inputs as the static tensors."""
        self._recording = []
        try:
            stats = self._play()
        finally:
            recorded, self._recording = self._recording, None
        self.plan = [entry for entry, _ in recorded]
        self.static = [_cloned(value) for _, value in recorded]
        return stats

    def step(self) -> list[dict[str, Tensor]]:
        if self.plan is None:
            return self._finish(self._record())
        self.load(self.draw())
        return self._finish(self.compute())


def build_static(cfgs: list[Config], log: Callable[[str], None] = print) -> StaticTrials:
    """:func:`~gankit.trials.vectorised.build_vectorised`, stepped static."""
    return build_vectorised(cfgs, log, kind=StaticTrials)
