"""Stacked MNIST: three MNIST digits drawn at random, one per colour channel, so 10³ = 1,000 modes.

The mode-collapse benchmark of VEEGAN (Srivastava et al. 2017, sec. 5.2) and PacGAN (Lin et al. 2018,
Tables 2 and 3). ``stacked-mnist``: a split has as many stacked images as the MNIST split has digits
(60,000 train, 10,000 test; 5,000 / 1,000 from the embedded sample). ``stacked-mnist-128k``: VEEGAN's and
PacGAN's Table 2 training set, 128,000 stacks drawn from all 70,000 MNIST digits (train and test; the
embedded sample's 6,000), with the same test split as ``stacked-mnist``. Each channel is an independent
uniform draw of an MNIST image, with a fixed seed per split so every run sees the same set. Label:
100·c₀ + 10·c₁ + c₂.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from gankit.config import DataConfig
from gankit.data.datasets import IDX_DATASETS
from gankit.data.tensors import TensorData

SEEDS = {"train": 0, "test": 1}
NUM_MODES = 1000


def stack_digits(
    digits: torch.Tensor, labels: torch.Tensor, n: int, seed: int, limit: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (n, 3, H, W) whose channels are random picks from ``digits`` (N, 1, H, W); their modes. With
    ``limit``, only the first ``limit`` of the ``n`` stacks (the same stacks, without building the rest)."""
    g = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(digits), (n, 3), generator=g)[:limit]
    images = digits[picks, 0]  # (n, 3, H, W)
    modes = 100 * labels[picks[:, 0]] + 10 * labels[picks[:, 1]] + labels[picks[:, 2]]
    return images, modes


@dataclass(frozen=True)
class StackedMnistDataset:
    """Stacks of one MNIST split's digits, as many as it has; with ``train_stacks`` the training split is that
    many stacks of the digits of both splits (VEEGAN's setting)."""

    name: str = "stacked-mnist"
    description: str = "Stacked MNIST (3 random digits as RGB channels, 1,000 modes)"
    num_classes: int = NUM_MODES
    train_stacks: int | None = None

    def load(self, cfg: DataConfig, log: Callable[[str], None] = print) -> TensorData:
        mnist = IDX_DATASETS["mnist"].load(cfg, log)
        seed = SEEDS[cfg.split]
        digits, labels, n, source = mnist.x, mnist.y, len(mnist), mnist.source
        if self.train_stacks is not None and cfg.split == "train":
            test = IDX_DATASETS["mnist"].load(replace(cfg, split="test"), log)
            digits, labels = torch.cat([digits, test.x]), torch.cat([labels, test.y])
            n, source = self.train_stacks, f"{source} and {test.source}"
        images, modes = stack_digits(digits, labels, n, seed, cfg.limit)  # load_data keeps the first data.limit
        source = f"{n:,} stacks of {source} (seed {seed})"
        return TensorData(images, modes, self.name, source, NUM_MODES)


STACKED_DATASETS = {
    "stacked-mnist": StackedMnistDataset(),
    "stacked-mnist-128k": StackedMnistDataset(
        "stacked-mnist-128k",
        "Stacked MNIST, VEEGAN's training set: 128,000 stacks of all 70,000 digits (PacGAN Table 2)",
        train_stacks=128_000,
    ),
}
