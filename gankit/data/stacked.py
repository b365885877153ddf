"""Stacked MNIST: three MNIST digits drawn at random, one per colour channel, so 10³ = 1,000 modes.

The mode-collapse benchmark of VEEGAN (Srivastava et al. 2017, sec. 5.2) and PacGAN (Lin et al. 2018,
Table 2). A split has as many stacked images as the MNIST split has digits (60,000 train, 10,000 test;
5,000 / 1,000 from the embedded sample), each channel an independent uniform draw of an MNIST image,
with a fixed seed per split so every run sees the same set. Label: 100·c₀ + 10·c₁ + c₂.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from gankit.config import DataConfig
from gankit.data.datasets import IDX_DATASETS
from gankit.data.tensors import TensorData

SEEDS = {"train": 0, "test": 1}
NUM_MODES = 1000


def stack_digits(digits: torch.Tensor, labels: torch.Tensor, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (n, 3, H, W) whose channels are random picks from ``digits`` (N, 1, H, W); their modes."""
    g = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(digits), (n, 3), generator=g)
    images = digits[picks, 0]  # (n, 3, H, W)
    modes = 100 * labels[picks[:, 0]] + 10 * labels[picks[:, 1]] + labels[picks[:, 2]]
    return images, modes


@dataclass(frozen=True)
class StackedMnistDataset:
    name: str = "stacked-mnist"
    description: str = "Stacked MNIST (3 random digits as RGB channels, 1,000 modes)"
    num_classes: int = NUM_MODES

    def load(self, cfg: DataConfig, log: Callable[[str], None] = print) -> TensorData:
        mnist = IDX_DATASETS["mnist"].load(cfg, log)
        seed = SEEDS[cfg.split]
        images, modes = stack_digits(mnist.x, mnist.y, len(mnist), seed)
        source = f"{len(images):,} stacks of {mnist.source} (seed {seed})"
        return TensorData(images, modes, self.name, source, NUM_MODES)


STACKED_DATASETS = {"stacked-mnist": StackedMnistDataset()}
