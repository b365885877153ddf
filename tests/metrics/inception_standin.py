"""A randomly initialised stand-in with the calling convention of the TorchScript FID Inception file."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InceptionStandIn(nn.Module):
    """uint8 RGB of any size → resized to 299×299 → conv → 2048 pooled features."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2048, 8, stride=8)

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        assert x.shape[1] == 3 and x.dtype == torch.uint8
        x = F.interpolate(x.float() / 127.5 - 1, size=(299, 299), mode="bilinear", align_corners=False)
        features = self.conv(x).mean(dim=(2, 3))
        return features if return_features else features[:, :1008]


def write_standin(path: str) -> str:
    torch.manual_seed(0)
    torch.jit.script(InceptionStandIn()).save(path)
    return path
