"""Update schemes: how the two players' gradient steps are ordered and combined in one game step.

A scheme never knows the objective (that is ``GameLosses``) nor the optimiser (Adam, SGD, … come from the
config); it only decides where gradients are evaluated and how the optimisers' steps are applied:

* ``alternating``   k D steps, then one G step (Goodfellow et al. 2014, Alg. 1). The default.
* ``simultaneous``  k − 1 D steps, then both players' gradients at the same point, applied together.
* ``extragradient`` both players step to a look-ahead point, gradients are taken there and applied from
                    the original point (Korpelevich 1976; Gidel et al. 2019, Alg. 2; with Adam this is
                    their Extra-Adam, Alg. 4).
* ``optimistic``    alternating steps in which each update Δ_t of the optimiser becomes 2Δ_t − Δ_{t−1}:
                    optimistic gradient descent θ ← θ − 2η∇_t + η∇_{t−1} with SGD, Optimistic Adam with
                    Adam (Daskalakis et al. 2018, eq. 6 and Alg. 1).
* ``lookahead``     alternating fast steps; every k game steps both players' slow weights move α of the
                    way to the fast weights and the fast weights restart from them (Chavdarova et al.
                    2021, Alg. 1, "lookahead-minmax").

With ``n_critic`` = k > 1, the simultaneous and extragradient schemes first take k − 1 steps of D alone
(each extragradient itself for ``extragradient``), then one joint step. ``train.g_steps`` G steps per game
step are for the alternating schemes; ``train.g_noise=shared`` gives each G gradient the noise of the D
gradient before it (as PacGAN's and VEEGAN's code do) in every scheme. Every scheme keeps its extra state
in ``state_dict`` so that checkpoints resume exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from gankit.config import TrainConfig
from gankit.registry import Registry
from gankit.store.state_schema import layout_problem
from gankit.training.step import (
    GAN,
    GameLosses,
    UpdateRule,
    alternating_step,
    discriminator_gradients,
    discriminator_step,
    generator_batch,
    generator_gradients,
    project_discriminator,
)

Batches = Callable[[], Any]  # a fresh real Batch (or tensor) / a fresh Latent (or z) per call


def _params(module: nn.Module) -> list[nn.Parameter]:
    return [p for p in module.parameters() if p.requires_grad]


def _snapshot(module: nn.Module) -> list[Tensor]:
    return [p.detach().clone() for p in _params(module)]


@torch.no_grad()
def _restore(module: nn.Module, values: list[Tensor]) -> None:
    for p, v in zip(_params(module), values, strict=True):
        p.copy_(v)


class UpdateScheme:
    """One game step: ``step`` updates both players; ``state_dict`` holds any state beyond the optimisers'.

    ``g_steps``: G updates per game step (alternating schemes only). ``shared_noise``: G's gradients are
    taken on the noise of the D gradient just before them instead of fresh noise.
    """

    name = "scheme"

    def __init__(self, g_steps: int = 1, shared_noise: bool = False) -> None:
        self.g_steps, self.shared_noise = g_steps, shared_noise

    def _joint_gradients(self, gan: GAN, losses: GameLosses, next_real: Batches, sample_z: Batches) -> dict:
        """Both players' gradients at the current point (D's first; G's on D's noise if shared), not applied."""
        real, z = next_real(), sample_z()
        stats = discriminator_gradients(gan, losses, real, z)
        g_z = z if self.shared_noise else sample_z()
        stats.update(generator_gradients(gan, losses, g_z, generator_batch(losses, next_real)))
        return stats

    def _alternating(
        self, gan: GAN, losses: GameLosses, n_critic: int, next_real: Batches, sample_z: Batches, **updates: UpdateRule
    ) -> dict:
        return alternating_step(
            gan, losses, n_critic, next_real, sample_z, **updates, g_steps=self.g_steps, shared_noise=self.shared_noise
        )

    def step(self, gan: GAN, losses: GameLosses, n_critic: int, next_real: Batches, sample_z: Batches) -> dict:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def state_problem(self, state: dict[str, Any], gan: GAN) -> str | None:
        """What keeps ``state`` (read from a checkpoint) from being this scheme's state, or None."""
        return layout_problem(self.state_dict(), state)


class Alternating(UpdateScheme):
    """k = n_critic D steps, then one G step (Goodfellow et al. 2014, Alg. 1)."""

    name = "alternating"

    def step(self, gan: GAN, losses: GameLosses, n_critic: int, next_real: Batches, sample_z: Batches) -> dict:
        return self._alternating(gan, losses, n_critic, next_real, sample_z)


class Simultaneous(UpdateScheme):
    """Simultaneous gradient descent–ascent: both gradients at (θ_G, θ_D), then both updates."""

    name = "simultaneous"

    def step(self, gan: GAN, losses: GameLosses, n_critic: int, next_real: Batches, sample_z: Batches) -> dict:
        for _ in range(n_critic - 1):
            discriminator_step(gan, losses, next_real(), sample_z())
        stats = self._joint_gradients(gan, losses, next_real, sample_z)
        gan.apply(gan.d_optimizer)
        gan.apply(gan.g_optimizer)
        project_discriminator(gan, losses)
        return stats


class Extragradient(UpdateScheme):
    """θ' = θ + step(∇(θ)), then θ ← θ + step(∇(θ')), for both players at once.

    Every gradient evaluation draws a fresh batch (stochastic extragradient, Gidel et al. 2019, Alg. 2).
    The optimiser steps twice per game step, so Adam's moments see both gradients, as in Extra-Adam. A
    game step costs two gradient evaluations per player.
    """

    name = "extragradient"

    def step(self, gan: GAN, losses: GameLosses, n_critic: int, next_real: Batches, sample_z: Batches) -> dict:
        for _ in range(n_critic - 1):
            start = _snapshot(gan.discriminator)
            discriminator_step(gan, losses, next_real(), sample_z())  # extrapolate D
            discriminator_gradients(gan, losses, next_real(), sample_z())
            _restore(gan.discriminator, start)
            gan.apply(gan.d_optimizer)
            project_discriminator(gan, losses)
        start_g, start_d = _snapshot(gan.generator_side), _snapshot(gan.discriminator)
        stats = self._joint_gradients(gan, losses, next_real, sample_z)
        gan.apply(gan.d_optimizer)  # extrapolation to the look-ahead point
        gan.apply(gan.g_optimizer)
        project_discriminator(gan, losses)
        self._joint_gradients(gan, losses, next_real, sample_z)  # gradients there
        _restore(gan.generator_side, start_g)  # applied from the original point
        _restore(gan.discriminator, start_d)
        gan.apply(gan.d_optimizer)
        gan.apply(gan.g_optimizer)
        project_discriminator(gan, losses)
        return stats


class Optimistic(UpdateScheme):
    """Alternating steps with the optimistic correction θ_{t+1} = θ_t + 2Δ_t − Δ_{t−1}.

    Δ_t is the step the player's optimiser would take now (−η∇_t for SGD, −η m̂_t/(√v̂_t + ε) for Adam).
    The first step of each player has no Δ_{t−1} and is taken as it is.
    """

    name = "optimistic"

    def __init__(self, g_steps: int = 1, shared_noise: bool = False) -> None:
        super().__init__(g_steps, shared_noise)
        self.previous: dict[str, list[Tensor] | None] = {"generator": None, "discriminator": None}

    def _update(self, player: str) -> UpdateRule:
        @torch.no_grad()
        def update(apply: Callable[[], bool], module: nn.Module) -> None:
            before = _snapshot(module)
            if not apply():  # an fp16 step skipped after an overflow: no Δ_t
                return
            deltas = [p - b for p, b in zip(_params(module), before, strict=True)]
            last = self.previous[player] or deltas
            for p, b, d, d_last in zip(_params(module), before, deltas, last, strict=True):
                p.copy_(b + 2 * d - d_last)
            self.previous[player] = deltas

        return update

    def step(self, gan: GAN, losses: GameLosses, n_critic: int, next_real: Batches, sample_z: Batches) -> dict:
        return self._alternating(
            gan,
            losses,
            n_critic,
            next_real,
            sample_z,
            update_d=self._update("discriminator"),
            update_g=self._update("generator"),
        )

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.previous.items() if v is not None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.previous = {"generator": None, "discriminator": None} | {k: list(v) for k, v in state.items()}

    def state_problem(self, state: dict[str, Any], gan: GAN) -> str | None:
        players = {"generator": gan.generator_side, "discriminator": gan.discriminator}
        for name, deltas in state.items():
            if name not in players:
                return f"names {name!r}, which is not a player"
            problem = layout_problem(list(_params(players[name])), deltas, name)
            if problem:
                return problem
        return None


class Lookahead(UpdateScheme):
    """Lookahead-minmax: k alternating fast steps, then φ ← φ + α(θ − φ) and θ ← φ for both players."""

    name = "lookahead"

    def __init__(self, gan: GAN, k: int = 5, alpha: float = 0.5, g_steps: int = 1, shared_noise: bool = False):
        super().__init__(g_steps, shared_noise)
        self.k, self.alpha = k, alpha
        self.slow = {"generator": _snapshot(gan.generator_side), "discriminator": _snapshot(gan.discriminator)}
        self.fast_steps = 0

    @torch.no_grad()
    def _synchronise(self, gan: GAN) -> None:
        for name in ("generator", "discriminator"):
            module = gan.generator_side if name == "generator" else gan.discriminator
            for p, slow in zip(_params(module), self.slow[name], strict=True):
                slow.add_(p - slow, alpha=self.alpha)
                p.copy_(slow)

    def step(self, gan: GAN, losses: GameLosses, n_critic: int, next_real: Batches, sample_z: Batches) -> dict:
        stats = self._alternating(gan, losses, n_critic, next_real, sample_z)
        self.fast_steps += 1
        if self.fast_steps == self.k:
            self._synchronise(gan)
            project_discriminator(gan, losses)
            self.fast_steps = 0
        return stats

    def state_dict(self) -> dict[str, Any]:
        return {"fast_steps": self.fast_steps, "slow": self.slow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.fast_steps = int(state["fast_steps"])
        for name, values in state["slow"].items():
            for slow, v in zip(self.slow[name], values, strict=True):
                slow.copy_(v)


JOINT_SCHEMES = ("simultaneous", "extragradient")  # one joint update of both players: no room for g_steps > 1

SCHEMES: Registry[Callable[[GAN, TrainConfig], UpdateScheme]] = Registry(
    "update scheme",
    {
        "alternating": lambda gan, t: Alternating(t.g_steps, t.g_noise == "shared"),
        "simultaneous": lambda gan, t: Simultaneous(shared_noise=t.g_noise == "shared"),
        "extragradient": lambda gan, t: Extragradient(shared_noise=t.g_noise == "shared"),
        "optimistic": lambda gan, t: Optimistic(t.g_steps, t.g_noise == "shared"),
        "lookahead": lambda gan, t: Lookahead(gan, t.lookahead_k, t.lookahead_alpha, t.g_steps, t.g_noise == "shared"),
    },
)


def build_scheme(gan: GAN, cfg: TrainConfig) -> UpdateScheme:
    """The update scheme named by ``cfg.scheme`` (see ``SCHEMES``)."""
    return SCHEMES.lookup(cfg.scheme)(gan, cfg)
