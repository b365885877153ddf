"""Ways to keep a Wasserstein critic (roughly) 1-Lipschitz: weight clipping and the gradient penalty."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from gankit.shard import ONE_PROCESS, Shard


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    generator: torch.Generator | None = None,
    loss_scale: Tensor | float = 1.0,
    shard: Shard = ONE_PROCESS,
) -> Tensor:
    """WGAN-GP penalty E[(‖∇D(x̂)‖₂ − 1)²] on random interpolates (Gulrajani et al. 2017, eq. 3).

    x̂ = ε·x + (1 − ε)·x̃ with one ε ~ U[0, 1] per sample. The norm is taken over *all* non-batch
    dimensions of the gradient (channels, height and width together), one norm per sample, in fp32.
    Multiply by λ (10 in the paper) and add it to the critic's loss.

    Under fp16 loss scaling, ``loss_scale`` is the scale S of the critic's loss: S·D(x̂) is differentiated
    (so that small gradients do not underflow) and ∇ is divided by S before the norm.

    In a data-parallel run, ``shard`` says which block of the global batch ``real`` is: the ε of the whole
    global batch are drawn and this block's kept (:mod:`gankit.shard`).
    """
    fake = fake.detach()
    n = real.shape[0]
    shape = (n * shard.world_size,) + (1,) * (real.dim() - 1)
    eps = shard.take(torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator), n)
    interpolates = (eps * real.detach() + (1 - eps) * fake).requires_grad_(True)
    scores = critic(interpolates)
    (grad,) = torch.autograd.grad(scores.sum() * loss_scale, interpolates, create_graph=True)
    norms = (grad.float() / loss_scale).flatten(start_dim=1).norm(2, dim=1)
    return (norms - 1).pow(2).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to [−c, c] (Arjovsky et al. 2017, Alg. 1; c = 0.01)."""
    for p in module.parameters():
        p.clamp_(-c, c)
