"""One training step of the GAN game: where the players' parameters change.

``discriminator_gradients`` / ``generator_gradients`` compute one player's gradients;
``discriminator_step`` and ``generator_step`` also apply them (through an update rule, the optimiser's
step by default); ``alternating_step`` composes them into Goodfellow et al. (2014)'s Algorithm 1:
k = ``n_critic`` discriminator steps, each on a fresh real minibatch and fresh noise, then one generator
step on fresh noise. Other ways to play the game (simultaneous, extragradient, optimistic, lookahead)
are built from the same pieces in ``gankit.training.schemes``. The losses come in as pure functions
(``gankit.losses``); nothing here knows which objective it is running. Every function returns detached
scalar tensors (no GPU sync): the caller decides when to read them.
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


def plain_update(optimizer: Optimizer, module: nn.Module) -> None:
    """Apply the optimiser's step to ``module``'s parameters (the update rule of every classic recipe)."""
    optimizer.step()


UpdateRule = Callable[[Optimizer, nn.Module], None]


def discriminator_gradients(gan: GAN, losses: GameLosses, real: Tensor, z: Tensor) -> dict[str, Tensor]:
    """Fill D's ``.grad`` with ∇l_D (+ λ·∇GP) on a real batch and G(z); nothing is updated."""
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
    return stats


def generator_gradients(gan: GAN, losses: GameLosses, z: Tensor) -> dict[str, Tensor]:
    """Fill G's ``.grad`` with ∇l_G(D(G(z))). D's weights are frozen, so no gradient is computed for them."""
    G, D = gan.generator, gan.discriminator
    set_requires_grad(D, False)
    try:
        loss = losses.objective.g_loss(D(G(z)))
        gan.g_optimizer.zero_grad(set_to_none=True)
        loss.backward()
    finally:
        set_requires_grad(D, True)
    return {"g_loss": loss.detach()}


def project_discriminator(gan: GAN, losses: GameLosses) -> None:
    """Keep D in its constraint set after an update: WGAN weight clipping, if the recipe asks for it."""
    if losses.clip_value is not None:
        clip_weights(gan.discriminator, losses.clip_value)


def discriminator_step(
    gan: GAN, losses: GameLosses, real: Tensor, z: Tensor, update: UpdateRule = plain_update
) -> dict[str, Tensor]:
    """One update of D on a real batch and G(z): minimise l_D (+ λ·GP), then clip if asked."""
    stats = discriminator_gradients(gan, losses, real, z)
    update(gan.d_optimizer, gan.discriminator)
    project_discriminator(gan, losses)
    return stats


def generator_step(gan: GAN, losses: GameLosses, z: Tensor, update: UpdateRule = plain_update) -> dict[str, Tensor]:
    """One update of G: minimise l_G(D(G(z)))."""
    stats = generator_gradients(gan, losses, z)
    update(gan.g_optimizer, gan.generator)
    return stats


def alternating_step(
    gan: GAN,
    losses: GameLosses,
    n_critic: int,
    next_real: Callable[[], Tensor],
    sample_z: Callable[[], Tensor],
    update_d: UpdateRule = plain_update,
    update_g: UpdateRule = plain_update,
) -> dict[str, Tensor]:
    """k = ``n_critic`` D steps, then one G step (Goodfellow et al. 2014, Alg. 1; Arjovsky et al. 2017, Alg. 1).

    Each D step draws a fresh real batch and fresh noise; the G step draws fresh noise. Returns the last
    D step's statistics and the G step's loss.
    """
    stats: dict[str, Tensor] = {}
    for _ in range(n_critic):
        stats = discriminator_step(gan, losses, next_real(), sample_z(), update_d)
    stats.update(generator_step(gan, losses, sample_z(), update_g))
    return stats
