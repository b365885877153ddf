"""Cheap health signals of the game, read at log steps only (they sync with the device)."""

from __future__ import annotations

import torch
from torch import nn

from gankit.training.step import GAN


def gradient_norm(module: nn.Module) -> float:
    """The L2 norm of all of a module's current ``.grad`` tensors together (0 if none)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])).item()


def gradient_norms(gan: GAN) -> dict[str, float]:
    """G's and D's gradient norms of their latest update (the gradients stay in ``.grad`` after each step)."""
    return {"g_grad_norm": gradient_norm(gan.generator), "d_grad_norm": gradient_norm(gan.discriminator)}


SATURATION_LEVEL = 0.99  # |x| above this: tanh's flat tails, where G's gradients vanish
SATURATED_FRACTION = 0.98  # G's samples count as saturated with at least this fraction of values there …
SATURATION_MARGIN = 0.1  # … and this much more than the real images have (binary data is saturated too)


def saturated_fraction(images: torch.Tensor) -> float:
    """The fraction of values of images in [−1, 1] that lie at tanh's limits (|x| > ``SATURATION_LEVEL``)."""
    return (images.float().abs() > SATURATION_LEVEL).float().mean().item()


def saturation_warning(fake: torch.Tensor, real_fraction: float, step: int) -> str | None:
    """A warning if G's images ``fake`` (in [−1, 1]) are saturated: nearly all values at ±1 where the real
    images (``real_fraction`` of theirs) are not. Such a G (e.g. after a far too large learning rate) draws
    images of two values, learns no more, and does not produce NaN, so the divergence check misses it."""
    fraction = saturated_fraction(fake)
    if fraction < SATURATED_FRACTION or fraction < real_fraction + SATURATION_MARGIN:
        return None
    same = " and all samples alike" if fake.float().std(0).mean().item() < 1e-3 else ""
    return (
        f"warning: step {step}: G's samples are saturated: {fraction:.1%} of their values at ±1 (real images: "
        f"{real_fraction:.1%}){same}. G has stopped learning; lower the learning rates (g_optim.lr, d_optim.lr)"
    )
