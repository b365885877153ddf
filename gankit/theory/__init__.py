"""Runnable GAN theory: the bilinear game, the optimal discriminator, divergences, mode collapse.

Each demo is a function that returns its numbers and writes a figure; ``gankit demo NAME`` runs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def one_thread() -> Iterator[None]:
    """Run tiny-tensor work on one thread: extra threads only add synchronisation cost (and on a loaded
    machine, OpenMP spinning can make it fifty times slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
