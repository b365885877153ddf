"""What a run writes while it trains, after each step: ``metrics.jsonl`` (with TensorBoard and the progress bar),
sample grids, FID and checkpoints, each at its steps.

The trainer's loop (:mod:`gankit.training.trainer`) and the trials played together (``gankit.trials``) both drive
one :class:`RunWriters` per run, so a run's files are written one way whoever steps it.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from gankit.metrics.monitor import FidMonitor
from gankit.store.layout import RunPaths
from gankit.store.logfile import RunLog
from gankit.training.metrics_log import MetricsWriter
from gankit.training.schedules import CheckpointSchedule, FidSchedule, GridSchedule
from gankit.training.state import Training


class RunWriters:
    """The writers of one run (rank 0's). Use as a context manager: the progress bar and TensorBoard files are
    closed on leaving."""

    def __init__(self, training: Training, paths: RunPaths, log: RunLog, monitor: FidMonitor | None, resumed: bool):
        t = training.cfg.train
        self.checkpoints = CheckpointSchedule(paths, t, saved_at=training.step if resumed else None)
        self.metrics = MetricsWriter(paths, training, log, resumed=resumed)
        self.grids = GridSchedule(paths, t, self.metrics.tensorboard, log)
        if resumed:  # the checkpoint's step had its grid (if due) written before the checkpoint: not again at the end
            self.grids.written_at = training.step
        self.fid = FidSchedule(monitor, paths, t, log, self.metrics.tensorboard)

    def __enter__(self) -> RunWriters:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.metrics.__exit__(kind, error, tb)

    def start(self, training: Training) -> None:
        """Before the first step of a new run: the grid of step 0 (if asked for)."""
        if training.step == 0:
            self.grids.after_step(training)

    def reads_weights(self, step: int) -> bool:
        """Whether anything after ``step`` reads the networks or their gradients (a record's gradient norms, a grid,
        FID, a checkpoint)."""
        return self.metrics.due(step) or self.grids.due(step) or self.checkpoints.due(step) or self.fid.due(step)

    def after_step(self, training: Training, stats: dict) -> None:
        """Record the step's statistics (a non-finite record raises ``TrainingDiverged``), then write what is due."""
        self.metrics.add(training, stats, force=self.checkpoints.due(training.step))
        for schedule in (self.grids, self.fid, self.checkpoints):
            schedule.after_step(training)

    def finish(self, training: Training) -> Path:
        """The last record, grid and checkpoint (a time budget ends at any step); the final checkpoint's path."""
        self.metrics.finish(training)
        self.grids.finish(training)
        return self.checkpoints.finish(training)
