"""One training step of the GAN game: where the players' parameters change.

``discriminator_step`` and ``generator_step`` each take one gradient step for one player;
``alternating_step`` composes them into Goodfellow et al. (2014)'s Algorithm 1: k = ``n_critic``
discriminator steps, each on a fresh real minibatch and fresh noise, then one generator step on fresh
noise. The losses come in as pure functions (``gankit.losses``); nothing here knows which objective
it is running. Every function returns detached scalar tensors (no GPU sync): the caller decides when
to read them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from gankit.losses import Objective
from gankit.regularizers import clip_weights, gradient_penalty


@dataclass
class GAN:
    """The two players and their optimisers. G and D may be wrapped (e.g. in DistributedDataParallel)."""

    generator: nn.Module
    discriminator: nn.Module
    g_optimizer: Optimizer
    d_optimizer: Optimizer


@dataclass(frozen=True)
class GameLosses:
    """What each player minimises: an objective plus the critic's Lipschitz regulariser, if any."""

    objective: Objective
    gp_weight: float = 0.0  # λ · E[(‖∇D(x̂)‖ − 1)²] added to D's loss (Gulrajani et al. 2017)
    clip_value: float | None = None  # clamp D's weights to [−c, c] after each D step (Arjovsky et al. 2017)


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def discriminator_step(gan: GAN, losses: GameLosses, real: Tensor, z: Tensor) -> dict[str, Tensor]:
    """One update of D on a real batch and G(z): minimise l_D (+ λ·GP), then clip if asked."""
    G, D = gan.generator, gan.discriminator
    with torch.no_grad():
        fake = G(z)
    real_logits, fake_logits = D(real), D(fake)
    loss = losses.objective.d_loss(real_logits, fake_logits)
    stats = {"d_loss": loss.detach(), "d_real": real_logits.detach().mean(), "d_fake": fake_logits.detach().mean()}
    if losses.gp_weight > 0:
        penalty = gradient_penalty(D, real, fake)
        loss = loss + losses.gp_weight * penalty
        stats["gp"] = penalty.detach()
    gan.d_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    gan.d_optimizer.step()
    if losses.clip_value is not None:
        clip_weights(D, losses.clip_value)
    return stats


def generator_step(gan: GAN, losses: GameLosses, z: Tensor) -> dict[str, Tensor]:
    """One update of G: minimise l_G(D(G(z))). D's weights are frozen so no gradient is computed for them."""
    G, D = gan.generator, gan.discriminator
    set_requires_grad(D, False)
    try:
        loss = losses.objective.g_loss(D(G(z)))
        gan.g_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        gan.g_optimizer.step()
    finally:
        set_requires_grad(D, True)
    return {"g_loss": loss.detach()}


def alternating_step(
    gan: GAN,
    losses: GameLosses,
    n_critic: int,
    next_real: Callable[[], Tensor],
    sample_z: Callable[[], Tensor],
) -> dict[str, Tensor]:
    """k = ``n_critic`` D steps, then one G step (Goodfellow et al. 2014, Alg. 1; Arjovsky et al. 2017, Alg. 1).

    Returns the last D step's statistics and the G step's loss.
    """
    stats: dict[str, Tensor] = {}
    for _ in range(n_critic):
        stats = discriminator_step(gan, losses, next_real(), sample_z())
    stats.update(generator_step(gan, losses, sample_z()))
    return stats
