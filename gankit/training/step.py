"""One training step of the GAN game: where the players' parameters change.

``discriminator_gradients`` / ``generator_gradients`` compute one player's gradients;
``discriminator_step`` and ``generator_step`` also apply them (through an update rule, the optimiser's
step by default); ``alternating_step`` composes them into Goodfellow et al. (2014)'s Algorithm 1:
k = ``n_critic`` discriminator steps, each on a fresh real minibatch and fresh noise, then one generator
step on fresh noise. Other ways to play the game (simultaneous, extragradient, optimistic, lookahead)
are built from the same pieces in ``gankit.training.schemes``. The losses come in as pure functions
(``gankit.losses``); nothing here knows which objective it is running. Every function returns detached
scalar tensors (no GPU sync): the caller decides when to read them.

Real data comes as a :class:`Batch` (images or points, with class labels for a conditional model) and
G's input as a :class:`~gankit.latent.Latent`; plain tensors are accepted for unlabelled data and
unconditional G. What each player minimises:

* D: l_D(D(x), D(G(z))) + λ_GP·GP − λ·L_I (InfoGAN: Q shares D's trunk and is trained with D)
* G: w·l_G(D(x), D(G(z))) + λ_FM·FM − λ·L_I + λ₁·‖x − G(E(x))‖² + λ₂·l_G(D(x), D(G(E(x))))   (E is trained with G)

l_G reads D(x) only for the relativistic objectives (``Objective.g_reads_real``); D is frozen in G's step, so
those logits are constants for G and are computed without a graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from gankit.config import LossConfig
from gankit.latent import Latent, LatentSpace, generate
from gankit.losses import (
    Objective,
    categorical_information,
    continuous_information,
    feature_matching,
    get_objective,
    reconstruction,
)
from gankit.nets.discriminator import Discriminator, DiscriminatorOutput
from gankit.regularizers import clip_weights, gradient_penalty
from gankit.shard import Shard
from gankit.training.precision import Precision


@dataclass
class Batch:
    """A minibatch of real data: ``x`` (N, …) and, for conditional models, class labels ``y`` (N,)."""

    x: Tensor
    y: Tensor | None = None


@dataclass
class GAN:
    """The two players and their optimisers. G and D may be wrapped (e.g. by torch.compile).

    ``encoder`` is the mode-regularised GAN's E (Che et al. 2017); it is G's ally: ``g_optimizer`` holds
    its parameters too. ``precision`` says how the forward passes compute and how gradients are scaled
    (:mod:`gankit.training.precision`); every backward pass goes through :meth:`backward` and every optimiser
    step through :meth:`apply`. In a data-parallel run ``shard`` is this process's block of each global batch
    and ``sync`` averages a player's gradients over the processes (:mod:`gankit.training.distributed`).
    """

    generator: nn.Module
    discriminator: nn.Module
    g_optimizer: Optimizer
    d_optimizer: Optimizer
    encoder: nn.Module | None = None
    precision: Precision = field(default_factory=Precision)
    shard: Shard = field(default_factory=Shard)
    sync: Callable[[Optimizer], None] | None = None

    def backward(self, loss: Tensor, optimizer: Optimizer) -> None:
        """Fill the ``.grad`` of ``optimizer``'s parameters with ∇loss (averaged over the processes, if many)."""
        self.precision.backward(loss, optimizer, self.sync)

    def apply(self, optimizer: Optimizer) -> bool:
        """Apply one player's optimiser step (skipped, returning False, if fp16 gradients overflowed)."""
        return self.precision.step(optimizer)

    @property
    def generator_side(self) -> nn.Module:
        """The modules ``g_optimizer`` updates: G, and E when there is one."""
        return self.generator if self.encoder is None else nn.ModuleList([self.generator, self.encoder])


@dataclass(frozen=True)
class GameLosses:
    """What each player minimises: the objective, and the extra terms whose weights ``terms`` holds.

    ``terms`` is the run's ``LossConfig`` (its ``objective`` name is resolved into ``objective`` by
    :meth:`from_config`); which terms are active is read from it, in one place each (e.g.
    ``LossConfig.uses_encoder``). ``latent`` says where InfoGAN's codes sit in z (needed when it has codes).
    """

    objective: Objective
    terms: LossConfig = field(default_factory=LossConfig)
    latent: LatentSpace | None = None

    @classmethod
    def from_config(cls, cfg: LossConfig, latent: LatentSpace | None = None) -> GameLosses:
        """The losses a config describes: its registered objective and its weights."""
        return cls(get_objective(cfg.objective), cfg, latent)

    @property
    def generator_reads_data(self) -> bool:
        """Whether G's step needs a real batch (a relativistic G loss, feature matching, the reconstruction/mode
        regularisers)."""
        return self.objective.g_reads_real or self.terms.feature_matching > 0 or self.terms.uses_encoder


def as_batch(real: Tensor | Batch) -> Batch:
    return real if isinstance(real, Batch) else Batch(real)


def as_latent(z: Tensor | Latent) -> Latent:
    return z if isinstance(z, Latent) else Latent(z)


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside wrappers that keep it as ``.module`` (DistributedDataParallel, AveragedModel) or
    ``._orig_mod`` (torch.compile)."""
    while True:
        inner = getattr(module, "module", None)
        inner = inner if isinstance(inner, nn.Module) else getattr(module, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return module
        module = inner


def judge(discriminator: nn.Module, x: Tensor, y: Tensor | None = None, q: bool = False) -> DiscriminatorOutput:
    """D's logits on x (with labels y), plus its features and, with ``q``, Q's output where D has them.

    A gankit :class:`~gankit.nets.Discriminator`, bare or wrapped, is called through the outermost module
    with ``full=True``, so that a wrapper sees the forward pass (DistributedDataParallel must, to reduce
    the gradients) and the whole output comes back; any other module D(x) gives the logits alone. The
    outputs are fp32 whatever precision D computed in, so that losses are always computed in fp32.
    """
    if isinstance(unwrap(discriminator), Discriminator):
        out = discriminator(x, y, q=q, full=True)
    else:
        out = DiscriminatorOutput(discriminator(x) if y is None else discriminator(x, y), None, None)
    if out.logits.dtype == torch.float32:
        return out
    q_out = out.q if out.q is None else type(out.q)(*(t.float() for t in out.q))
    return DiscriminatorOutput(out.logits.float(), out.hidden, q_out)  # .features is fp32 when read


def judge_both(
    discriminator: nn.Module, real: Batch, fake: Tensor, fake_y: Tensor | None
) -> tuple[DiscriminatorOutput, DiscriminatorOutput]:
    """D on the real batch and on G's samples (with Q's output for the samples).

    When D judges each sample on its own (:attr:`Discriminator.per_sample`: no batch norm, minibatch layer,
    packing or spectral norm) both batches go through one forward pass, which gives the same logits with half
    the calls (and half the 16-bit weight casts under autocast).
    """
    inner = unwrap(discriminator)
    if not (isinstance(inner, Discriminator) and inner.per_sample):
        return judge(discriminator, real.x, real.y), judge(discriminator, fake, fake_y, q=True)
    n = real.x.shape[0]
    y = None if real.y is None else torch.cat([real.y, fake_y])
    out = judge(discriminator, torch.cat([real.x, fake]), y)
    halves = [DiscriminatorOutput(out.logits[part], out.hidden[part], None) for part in (slice(n), slice(n, None))]
    return halves[0], halves[1]


def information(losses: GameLosses, out: DiscriminatorOutput, latent: Latent) -> dict[str, Tensor]:
    """InfoGAN's L_I terms for G(z, c) judged by Q, one per kind of code (empty without codes)."""
    space = losses.latent
    if space is None or not space.has_codes or out.q is None:
        return {}
    codes = space.codes(latent.z)
    terms = {}
    if codes.category is not None:
        terms["info_categorical"] = categorical_information(out.q.logits, codes.category)
    if space.continuous:
        terms["info_continuous"] = continuous_information(out.q.mean, out.q.log_var, codes.continuous)
    return terms


def _information_loss(losses: GameLosses, terms: dict[str, Tensor]) -> Tensor | float:
    """−λ·L_I: the players maximise the bound, so it enters their losses with a minus sign."""
    w = losses.terms
    return -w.info_weight * terms.get("info_categorical", 0.0) - w.info_continuous_weight * terms.get(
        "info_continuous", 0.0
    )


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def plain_update(apply: Callable[[], bool], module: nn.Module) -> None:
    """Apply the optimiser's step to ``module``'s parameters (the update rule of every classic recipe).

    An update rule gets ``apply`` (the player's optimiser step, through the precision's loss scaler; it
    returns False when the step was skipped) and the module it changes.
    """
    apply()


UpdateRule = Callable[[Callable[[], bool], nn.Module], None]


def discriminator_gradients(
    gan: GAN, losses: GameLosses, real: Tensor | Batch, z: Tensor | Latent
) -> dict[str, Tensor]:
    """Fill D's ``.grad`` with ∇l_D (+ λ·∇GP − λ·∇L_I) on a real batch and G(z); nothing is updated."""
    real, latent = as_batch(real), as_latent(z)
    with gan.precision.autocast():
        stats, loss, fake, info = discriminator_terms(gan, losses, real, latent)
        if losses.terms.gp_weight > 0:
            critic = unwrap(gan.discriminator)  # the eager D: double backward does not run through compiled modules
            penalty = gradient_penalty(
                lambda x: judge(critic, x, real.y).logits,
                real.x,
                fake,
                loss_scale=gan.precision.loss_scale(gan.d_optimizer),
                shard=gan.shard,
            )
            loss = loss + losses.terms.gp_weight * penalty
            stats["gp"] = penalty.detach()
        if info is not None:
            loss = loss + info
    gan.d_optimizer.zero_grad(set_to_none=True)
    gan.backward(loss, gan.d_optimizer)
    return stats


def discriminator_terms(
    gan: GAN, losses: GameLosses, real: Batch, latent: Latent
) -> tuple[dict[str, Tensor], Tensor, Tensor, Tensor | None]:
    """Every term of D's loss but the gradient penalty (which differentiates D, so its caller adds it): the
    statistics, l_D on a real batch and G(z), G(z) itself and InfoGAN's −λ·L_I (None without codes)."""
    with torch.no_grad():
        fake = generate(gan.generator, latent)
    on_real, on_fake = judge_both(gan.discriminator, real, fake, latent.y)
    loss = losses.objective.d_loss(on_real.logits, on_fake.logits)
    stats = {
        "d_loss": loss.detach(),
        "d_real": on_real.logits.detach().mean(),
        "d_fake": on_fake.logits.detach().mean(),
    }
    info = information(losses, on_fake, latent)
    return stats, loss, fake, _information_loss(losses, info) if info else None


def generator_gradients(
    gan: GAN, losses: GameLosses, z: Tensor | Latent, real: Tensor | Batch | None = None
) -> dict[str, Tensor]:
    """Fill G's (and E's) ``.grad`` with the gradient of G's loss (see the module docstring).

    D's weights are frozen, so no gradient is computed for them. ``real`` is needed when
    ``losses.generator_reads_data`` (relativistic G loss, feature matching, reconstruction and mode regularisers).
    """
    D = gan.discriminator
    latent = as_latent(z)
    if losses.generator_reads_data and real is None:
        raise ValueError(
            "this G loss reads real data (relativistic, feature matching or reconstruction): pass a real batch"
        )
    set_requires_grad(D, False)
    try:
        with gan.precision.autocast():
            stats, loss = generator_loss(gan, losses, latent, real)
        gan.g_optimizer.zero_grad(set_to_none=True)
        gan.backward(loss, gan.g_optimizer)
    finally:
        set_requires_grad(D, True)
    return stats


def generator_loss(
    gan: GAN, losses: GameLosses, latent: Latent, real: Tensor | Batch | None
) -> tuple[dict[str, Tensor], Tensor]:
    """G's loss (with D frozen) and its statistics; see :func:`generator_gradients`."""
    G, D = gan.generator, gan.discriminator
    on_fake = judge(D, generate(G, latent), latent.y, q=True)
    w = losses.terms
    batch = as_batch(real) if real is not None else None
    on_real = None
    if losses.objective.g_reads_real or w.feature_matching > 0:
        with torch.no_grad():  # D is frozen and D(x) does not depend on G: constants for G's loss
            on_real = judge(D, batch.x, batch.y)
    real_logits = on_real.logits if losses.objective.g_reads_real else None
    adversarial = losses.objective.g_loss(real_logits, on_fake.logits)
    stats = {"g_loss": adversarial.detach()}
    # not 1.0 * adversarial: under vmap, inductor (torch 2.13) returned that product without its gradient when
    # its operand is also returned detached (the g_loss statistic)
    loss = adversarial if w.g_adversarial == 1 else w.g_adversarial * adversarial
    if w.feature_matching > 0:
        fm = feature_matching(on_real.features, on_fake.features)
        loss = loss + w.feature_matching * fm
        stats["feature_matching"] = fm.detach()
    info = information(losses, on_fake, latent)
    if info:
        loss = loss + _information_loss(losses, info)
        stats.update({k: v.detach() for k, v in info.items()})
    if w.uses_encoder:
        rebuilt = generate(G, Latent(gan.encoder(batch.x), batch.y))
        rec = reconstruction(batch.x, rebuilt)
        mode = losses.objective.g_loss(real_logits, judge(D, rebuilt, batch.y).logits)  # x paired with G(E(x))
        loss = loss + w.reconstruction_weight * rec + w.mode_weight * mode
        stats["reconstruction"], stats["mode_regularizer"] = rec.detach(), mode.detach()
    return stats, loss


def project_discriminator(gan: GAN, losses: GameLosses) -> None:
    """Keep D in its constraint set after an update: WGAN weight clipping, if the recipe asks for it."""
    if losses.terms.clip_value is not None:
        clip_weights(gan.discriminator, losses.terms.clip_value)


def discriminator_step(
    gan: GAN, losses: GameLosses, real: Tensor | Batch, z: Tensor | Latent, update: UpdateRule = plain_update
) -> dict[str, Tensor]:
    """One update of D on a real batch and G(z): minimise l_D (+ λ·GP), then clip if asked."""
    stats = discriminator_gradients(gan, losses, real, z)
    update(lambda: gan.apply(gan.d_optimizer), gan.discriminator)
    project_discriminator(gan, losses)
    return stats


def generator_step(
    gan: GAN,
    losses: GameLosses,
    z: Tensor | Latent,
    update: UpdateRule = plain_update,
    real: Tensor | Batch | None = None,
) -> dict[str, Tensor]:
    """One update of G (and E): minimise G's loss on G(z) (and on the real batch, if the loss reads one)."""
    stats = generator_gradients(gan, losses, z, real)
    update(lambda: gan.apply(gan.g_optimizer), gan.generator_side)
    return stats


def alternating_step(
    gan: GAN,
    losses: GameLosses,
    n_critic: int,
    next_real: Callable[[], Tensor | Batch],
    sample_z: Callable[[], Tensor | Latent],
    update_d: UpdateRule = plain_update,
    update_g: UpdateRule = plain_update,
    *,
    g_steps: int = 1,
    shared_noise: bool = False,
) -> dict[str, Tensor]:
    """k = ``n_critic`` D steps, then ``g_steps`` G steps (Goodfellow et al. 2014, Alg. 1, has one G step).

    Each D step draws a fresh real batch and fresh noise. Each G step draws fresh noise (and a fresh real
    batch if its loss reads data), or with ``shared_noise`` reuses the last D step's noise, as the DCGAN code
    behind VEEGAN's and PacGAN's experiments does (Kim's DCGAN-tensorflow: one D step, then two G steps, all
    on one z). Returns the last D step's statistics and the last G step's.
    """
    stats: dict[str, Tensor] = {}
    z: Tensor | Latent | None = None
    for _ in range(n_critic):
        real = next_real()
        z = sample_z()
        stats = discriminator_step(gan, losses, real, z, update_d)
    for _ in range(g_steps):
        g_z = z if shared_noise and z is not None else sample_z()
        stats.update(generator_step(gan, losses, g_z, update_g, generator_batch(losses, next_real)))
    return stats


def generator_batch(losses: GameLosses, next_real: Callable[[], Tensor | Batch]) -> Tensor | Batch | None:
    """A fresh real batch for G's step if its loss reads data, else None (no batch is drawn)."""
    return next_real() if losses.generator_reads_data else None
