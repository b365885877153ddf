"""Minibatches drawn from a data set held on the device as one tensor: no per-step Python pipeline."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from gankit.errors import DataError


class EpochSampler:
    """Indices of minibatches: every example once per epoch, in a fresh random order each epoch.

    The last incomplete batch of an epoch is dropped. For data-parallel training every rank draws the
    same permutation (same seed) and takes its own slice of each global batch of
    ``batch_size · world_size`` indices. The state (permutation, position, RNG) is saved with checkpoints,
    so a resumed run sees exactly the batches it would have seen.
    """

    def __init__(
        self, n: int, batch_size: int, seed: int, device: torch.device | str = "cpu", rank: int = 0, world_size: int = 1
    ):
        if n < batch_size * world_size:
            raise DataError(
                f"the data set has {n} examples, fewer than one batch of {batch_size * world_size}; "
                "lower train.batch_size or use more data"
            )
        self.n, self.batch_size, self.rank, self.world_size = n, batch_size, rank, world_size
        self.device = torch.device(device)
        self.rng = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.position = 0
        self.perm = torch.randperm(n, generator=self.rng).to(self.device)

    def next(self) -> Tensor:
        """The indices of this rank's next batch, on the data's device."""
        global_batch = self.batch_size * self.world_size
        if self.position + global_batch > self.n:
            self.perm = torch.randperm(self.n, generator=self.rng).to(self.device)
            self.position = 0
            self.epoch += 1
        start = self.position + self.rank * self.batch_size
        self.position += global_batch
        return self.perm[start : start + self.batch_size]

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "position": self.position, "perm": self.perm, "rng": self.rng.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["perm"].numel() != self.n:
            raise DataError(
                f"the checkpoint was trained on {state['perm'].numel()} examples but the data set "
                f"now has {self.n}; resume with the same data"
            )
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self.perm = state["perm"].to(self.device)
        self.rng.set_state(state["rng"].cpu())  # a generator state is a CPU byte tensor, even for a CUDA generator
