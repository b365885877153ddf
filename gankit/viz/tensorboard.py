"""TensorBoard mirror of a run's log: every scalar of ``metrics.jsonl`` and every sample grid.

``metrics.jsonl`` stays the source of truth; the event files in the run directory are for watching a
run live (``tensorboard --logdir runs``). The logger does nothing when it is disabled
(``train.tensorboard=false``) or when the ``tensorboard`` package is not installed; the latter it says in
one line of the run's log, with the command that installs it.

A resumed run writes again the steps after its checkpoint, which the run that died may already have logged:
before it starts, :func:`purge_events` removes those events from the event files themselves (as the log tail
of ``metrics.jsonl`` is cut), so that no (tag, step) is stored twice. (``SummaryWriter``'s ``purge_step`` only
asks TensorBoard's reader to hide them; the files, and any other reader, kept both.)
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from gankit.extras import install_command
from gankit.store.outputs import write_atomic
from gankit.store.tempfiles import remove_stale

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
EVENT_FILES = "events.out.tfevents.*"
COLORSPACES = {"L": 1, "RGB": 3}  # PIL mode of a PNG -> its colorspace in TensorBoard's Summary.Image


def tensorboard_available() -> bool:
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def scalar_tag(name: str) -> str:
    """``d_loss`` → ``loss/d_loss``; the collapse watch's ``watch_*`` fields go to ``watch/``, other fields not
    listed in ``SECTIONS`` (e.g. FID) to ``metrics/``."""
    return f"{SECTIONS.get(name, 'watch' if name.startswith('watch_') else 'metrics')}/{name}"


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
        """``purge_step`` (a resumed run: the first step it logs): the events at that step and later are first
        removed from the event files already in ``log_dir`` (:func:`purge_events`)."""
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

        if purge_step is not None:
            purge_events(log_dir, purge_step)
        self.writer = SummaryWriter(log_dir=str(log_dir))

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

    def histogram(self, tag: str, counts: list[int], step: int) -> None:
        """Log per-bin ``counts`` (e.g. the collapse watch's samples per mode) as a histogram over bins 0..K−1."""
        if self.writer is None or not counts:
            return
        array = np.asarray(counts, dtype=np.float64)
        k = len(counts)
        limits = np.arange(k, dtype=np.float64) + 0.5  # bin i covers (i − 0.5, i + 0.5]
        self.writer.add_histogram_raw(
            tag,
            min=0.0,
            max=float(k - 1),
            num=float(array.sum()),
            sum=float((np.arange(k) * array).sum()),
            sum_squares=float((np.arange(k) ** 2 * array).sum()),
            bucket_limits=limits.tolist(),
            bucket_counts=array.tolist(),
            global_step=step,
        )

    def image(self, step: int, png: str | Path, tag: str = "samples") -> None:
        """Log a PNG (e.g. the sample grid just written) at ``step``.

        A grey or RGB PNG is logged as its own bytes, with TensorBoard's colorspace 1 (grey) or 3 (RGB):
        ``add_image`` would decode and encode it again (10-60 ms a grid on a 2-core AVX2 AMD EPYC). Any other PNG (a
        palette, an alpha channel) is converted to RGB and encoded by ``add_image``."""
        if self.writer is None:
            return
        data = Path(png).read_bytes()
        with Image.open(io.BytesIO(data)) as picture:
            colorspace = COLORSPACES.get(picture.mode) if picture.format == "PNG" else None
            if colorspace is not None:
                from tensorboard.compat.proto.summary_pb2 import Summary

                image = Summary.Image(
                    height=picture.height, width=picture.width, colorspace=colorspace, encoded_image_string=data
                )
                self.writer.file_writer.add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)
                return
            array = np.asarray(picture.convert("RGB"))
        self.writer.add_image(tag, array, step, dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def purge_events(log_dir: str | Path, from_step: int) -> list[Path]:
    """Remove every event at ``from_step`` or later from the event files in ``log_dir`` (a torn last record too);
    the files changed. Each is rewritten atomically; a file left with no step
    is deleted. Only the process that holds the run's lock may call this."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.summary.writer.record_writer import RecordWriter

    log_dir = Path(log_dir)
    remove_stale(log_dir)  # what a purge killed mid-write left
    for leftover in log_dir.glob(f".{EVENT_FILES}.tmp-*"):  # the same, as gankit named it before store.tempfiles
        leftover.unlink(missing_ok=True)
    changed = []
    for path in sorted(log_dir.glob(EVENT_FILES)):
        records = list(RawEventFileLoader(str(path)).Load())
        kept = [
            r for r in records if (e := Event.FromString(r)).WhichOneof("what") == "file_version" or e.step < from_step
        ]
        framing = 16  # bytes around each record: its length, and two checksums
        if len(kept) == len(records) and sum(len(r) + framing for r in records) == path.stat().st_size:
            continue
        changed.append(path)
        if not any(Event.FromString(r).WhichOneof("what") != "file_version" for r in kept):
            path.unlink()
            continue
        data = io.BytesIO()
        for record in kept:
            RecordWriter(data).write(record)
        write_atomic(path, data.getvalue(), fsync=True)
    return changed
