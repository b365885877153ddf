"""2-D mixtures of Gaussians for measuring mode collapse (the PacGAN protocol, Lin et al. 2018).

``ring8``: 8 modes equally spaced on the unit circle, σ = 0.01.
``grid25``: 25 modes at {-4, -2, 0, 2, 4}², σ = 0.05.
Each point's label is the index of the mode it was drawn from (uniformly over modes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gankit.config import DataConfig
from gankit.data.tensors import TensorData
from gankit.memory.available import check_fits, host_memory

BYTES_PER_POINT = 32  # float32 (x, y), an int64 label and the float32 temporaries of drawing them
SEEDS = {"train": 0, "test": 1}  # fixed: the same points in every run; the test split is an independent draw


@dataclass(frozen=True)
class ToyModes:
    """The mixture: mode centres (K, 2) and the standard deviation σ shared by all modes."""

    name: str
    centers: torch.Tensor
    sigma: float

    @property
    def num_modes(self) -> int:
        return self.centers.shape[0]


def ring8_modes() -> ToyModes:
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    centers = torch.stack([angles.cos(), angles.sin()], dim=1).float()
    return ToyModes("ring8", centers, 0.01)


def grid25_modes() -> ToyModes:
    axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    centers = torch.cartesian_prod(axis, axis)
    return ToyModes("grid25", centers, 0.05)


TOY_MODES: dict[str, Callable[[], ToyModes]] = {"ring8": ring8_modes, "grid25": grid25_modes}


def sample_toy(modes: ToyModes, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points (float32, (n, 2)) and their mode indices (int64), reproducible from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(modes.num_modes, (n,), generator=g)
    x = modes.centers[y] + modes.sigma * torch.randn(n, 2, generator=g)
    return x, y


@dataclass(frozen=True)
class ToyDataset:
    name: str
    description: str
    modes: Callable[[], ToyModes]

    @property
    def num_classes(self) -> int:
        return self.modes().num_modes

    def load(self, cfg: DataConfig, log: Callable[[str], None] = print) -> TensorData:
        check_fits(
            cfg.toy_points * BYTES_PER_POINT,
            host_memory(),
            f"data.toy_points={cfg.toy_points:,}",
            "lower data.toy_points (default 100,000)",
        )
        modes = self.modes()
        seed = SEEDS[cfg.split]
        x, y = sample_toy(modes, cfg.toy_points, seed)
        source = f"{self.description}: {cfg.toy_points:,} points, seed {seed}"
        return TensorData(x, y, self.name, source, modes.num_modes)


TOY_DATASETS = {
    "ring8": ToyDataset("ring8", "8 Gaussians on the unit circle, σ=0.01", ring8_modes),
    "grid25": ToyDataset("grid25", "25 Gaussians on a 5x5 grid {-4,-2,0,2,4}², σ=0.05", grid25_modes),
}
