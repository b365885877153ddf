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
