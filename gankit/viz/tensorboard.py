"""TensorBoard mirror of a run's log: every scalar of ``metrics.jsonl`` and every sample grid.

``metrics.jsonl`` stays the source of truth; the event files in the run directory are for watching a
run live (``tensorboard --logdir runs``). The logger does nothing when it is disabled
(``train.tensorboard=false``) or when the ``tensorboard`` package is not installed; the latter it says in
one line of the run's log, with the command that installs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from gankit.extras import install_command

# Scalar tags are grouped into TensorBoard sections by the record's field names.
SECTIONS = {
    "d_loss": "loss",
    "g_loss": "loss",
    "gp": "loss",
    "d_real": "D_output",  # mean raw output (logit) of D on real and generated batches
    "d_fake": "D_output",
    "g_grad_norm": "grad_norm",
    "d_grad_norm": "grad_norm",
    "images_per_s": "speed",
    "elapsed_s": "speed",
    "epoch": "progress",
    "images_seen": "progress",
}


def tensorboard_available() -> bool:
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def scalar_tag(name: str) -> str:
    """``d_loss`` → ``loss/d_loss``; fields not listed in ``SECTIONS`` (e.g. FID) go to ``metrics/``."""
    return f"{SECTIONS.get(name, 'metrics')}/{name}"


class TensorBoardLogger:
    """Writes scalars and images to TensorBoard event files in ``log_dir``, or nothing if unavailable (said to
    ``log``, when given)."""

    def __init__(
        self,
        log_dir: str | Path,
        enabled: bool = True,
        purge_step: int | None = None,
        log: Callable[[str], None] | None = None,
    ):
        self.writer = None
        if not enabled:
            return
        if not tensorboard_available():
            if log is not None:
                log(
                    "tensorboard: not installed, so this run writes no event files (metrics.jsonl has every "
                    f"value); to get them: {install_command('tensorboard')} (train.tensorboard=false hides this line)"
                )
            return
        from torch.utils.tensorboard import SummaryWriter

        # purge_step (a resumed run: its checkpoint step + 1) hides events from later steps of the run that died
        self.writer = SummaryWriter(log_dir=str(log_dir), purge_step=purge_step)

    @property
    def active(self) -> bool:
        return self.writer is not None

    def scalars(self, record: Mapping[str, Any]) -> None:
        """Log every numeric field of one ``metrics.jsonl`` record at its ``step``."""
        if self.writer is None:
            return
        step = int(record["step"])
        for name, value in record.items():
            if name != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(scalar_tag(name), value, step)

    def image(self, step: int, png: str | Path, tag: str = "samples") -> None:
        """Log a PNG (e.g. the sample grid just written) at ``step``."""
        if self.writer is None:
            return
        array = np.asarray(Image.open(png).convert("RGB"))
        self.writer.add_image(tag, array, step, dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
