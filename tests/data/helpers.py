"""Tiny IDX files for the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.data.idx import write_idx


def tiny_images(n: int = 12, h: int = 5, w: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w), dtype=np.uint8)


def write_idx_set(
    folder: Path,
    prefix: str = "train",
    n: int = 12,
    num_classes: int = 10,
    h: int = 5,
    w: int = 5,
    suffix: str = ".gz",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Write ``<prefix>-images-idx3-ubyte<suffix>`` and the labels file; return (images, labels)."""
    folder.mkdir(parents=True, exist_ok=True)
    x = tiny_images(n, h, w, seed)
    y = (np.arange(n) % num_classes).astype(np.uint8)
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", x)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y)
    return x, y
