"""What a run writes while it trains, after each step: ``metrics.jsonl`` (with TensorBoard and the progress bar),
sample grids, FID and checkpoints, each at its steps.

The trainer's loop (:mod:`gankit.training.trainer`) and the trials played together (``gankit.trials``) both drive
one :class:`RunWriters` per run, so a run's files are written one way whoever steps it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from gankit.metrics.monitor import FidMonitor
from gankit.store.layout import RunPaths
from gankit.store.logfile import RunLog
from gankit.training.metrics_log import MetricsWriter
from gankit.training.schedules import CheckpointSchedule, FidSchedule, GridSchedule
from gankit.training.state import Training
from gankit.training.watch import WatchSchedule, collapse_vote_due, last_before


class RunWriters:
    """The writers of one run (rank 0's). Use as a context manager: the progress bar and TensorBoard files are
    closed on leaving."""

    def __init__(
        self,
        training: Training,
        paths: RunPaths,
        log: RunLog,
        monitor: FidMonitor | None,
        resumed: bool,
        agree: Callable[[bool], bool] | None = None,
    ):
        """``agree``: turns rank 0's wish to stop a collapsed run into every rank's decision (``World.agreed``;
        called at each step where ``collapse_vote_due``); None: one process decides alone."""
        t = training.cfg.train
        self.paths, self.agree, self.vote_every = paths, agree, t.watch_every if t.watch_stop else 0
        self.checkpoints = CheckpointSchedule(paths, t, saved_at=training.step if resumed else None)
        self.metrics = MetricsWriter(paths, training, log, resumed=resumed)
        self.grids = GridSchedule(paths, t, self.metrics.tensorboard, log)
        if resumed:  # the checkpoint's step had its grid (if due) written before the checkpoint: not again at the end
            self.grids.written_at = training.step
        self.fid = FidSchedule(monitor, paths, t, log, self.metrics.tensorboard)
        self.watch = WatchSchedule(training, log)

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
        due = (self.metrics, self.grids, self.checkpoints, self.fid, self.watch)
        return any(schedule.due(step) for schedule in due)

    def after_step(self, training: Training, stats: dict) -> None:
        """Check for collapse, record the step's statistics (a non-finite record raises ``TrainingDiverged``), then
        write what is due; raise ``TrainingCollapsed`` (once the step's files are written) when the watch stops
        the run."""
        step = training.step
        watched = self.watch.check(training, self.paths.checkpoints) if self.watch.due(step) else None
        self.metrics.add(training, stats, force=self.checkpoints.due(step), extra=watched)
        if self.checkpoints.due(step):
            self.checkpoints.spare = last_before(self.paths.checkpoints, self.watch.state.onset)
        for schedule in (self.grids, self.fid, self.checkpoints):
            schedule.after_step(training)
        stop = self.watch.stop
        if collapse_vote_due(self.vote_every, step) and self.agree is not None:
            stop = stop if self.agree(stop is not None) else None
        if stop is not None:
            raise stop

    def finish(self, training: Training) -> Path:
        """The last record, grid and checkpoint (a time budget ends at any step); the final checkpoint's path."""
        self.metrics.finish(training)
        self.grids.finish(training)
        return self.checkpoints.finish(training)
