"""Which part of each global batch a data-parallel process holds (one process: all of it).

Every per-sample random draw of a training step (noise z, InfoGAN codes, CGAN labels, the gradient penalty's
ε) is made for the *global* batch from the run's seeded stream, identically on every process, and each process
keeps its own block of rows. Block r of the global batch is rows [r·n, (r+1)·n), the same block the real-data
sampler (:class:`~gankit.training.batches.EpochSampler`) gives rank r, so W processes × n rows see exactly
the samples one process × W·n rows sees: a run's trajectory does not depend on how many processes play it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar


class _Rows(Protocol):
    def __getitem__(self, index: slice) -> _Rows: ...


BatchT = TypeVar("BatchT", bound=_Rows)


@dataclass(frozen=True)
class Shard:
    """Rank ``rank`` of ``world_size`` processes: its block of every global batch."""

    rank: int = 0
    world_size: int = 1

    @property
    def whole(self) -> bool:
        """Whether this process holds the whole batch (a single process)."""
        return self.world_size == 1

    def rows(self, n_local: int) -> slice:
        """This rank's rows of a global batch of ``world_size · n_local`` rows."""
        return slice(self.rank * n_local, (self.rank + 1) * n_local)

    def take(self, draw: BatchT, n_local: int) -> BatchT:
        """This rank's rows of ``draw`` (a tensor or latent batch of the global batch; itself for a single
        process)."""
        return draw if self.whole else draw[self.rows(n_local)]


ONE_PROCESS = Shard()
