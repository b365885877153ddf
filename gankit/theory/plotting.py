"""Figures for the demos (matplotlib, headless)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from gankit.store.outputs import write_atomic


def figure(cols: int = 1, rows: int = 1, size: float = 4.0) -> tuple[Figure, list]:
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    return fig, [ax for row in axes for ax in row]


def save(fig: Figure, path: str | Path) -> Path:
    """Write the figure as PNG atomically and close it."""
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, dpi=110, format="png")
    plt.close(fig)
    return write_atomic(path, buffer.getvalue(), fsync=True)
