"""The generator every recipe trains: an architecture's body, with a class embedding for a conditional G."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Generator(nn.Module):
    """G(z, y): the body reads z, or [z, embed(y)] for a class-conditional G (Mirza & Osindero 2014).

    ``z`` is ``gankit.latent.Latent.z`` (noise and any InfoGAN codes); the body was built for its width plus
    ``embed_dim`` when ``num_classes`` > 0.
    """

    def __init__(self, body: nn.Module, num_classes: int = 0, embed_dim: int = 0):
        super().__init__()
        self.body = body
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.embed is None:
            if y is not None:
                raise ValueError("this generator is not class-conditional; call it without labels")
            return self.body(z)
        if y is None:
            raise ValueError(f"this generator is conditioned on a class: pass labels y in 0..{self.num_classes - 1}")
        return self.body(torch.cat([z, self.embed(y)], dim=1))
