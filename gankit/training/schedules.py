"""What the loop does every so many steps besides logging: checkpoints, sample grids, FID.

Each schedule has ``after_step(training)``, called once after every game step; none of them draws from the
global random stream, so they never change the run's trajectory (resume stays bit-exact).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from gankit.config import TrainConfig
from gankit.data import to_model_input, to_uint8_images
from gankit.images import save_grid, scatter_png
from gankit.latent import generate
from gankit.metrics.monitor import FidMonitor
from gankit.signals import deferred
from gankit.store.checkpoint import prune_checkpoints, save_checkpoint, step_dir_name
from gankit.store.layout import RunPaths
from gankit.store.logfile import RunLog
from gankit.training.diagnostics import saturated_fraction, saturation_warning
from gankit.training.distributed import World
from gankit.training.state import Training
from gankit.viz.tensorboard import TensorBoardLogger


class Budget:
    """When this invocation stops training: at step ``train.steps`` or, with ``train.time_budget``, once it has
    trained that many seconds (``train.steps`` is then ignored). The budget is each invocation's: a resumed run
    gets it afresh. The clock is read once per step, with no device sync; in a data-parallel run rank 0's clock
    decides for every rank."""

    def __init__(self, training: Training, world: World | None = None):
        t = training.cfg.train
        self.steps, self.seconds, self.world = t.steps, t.time_budget, world or World()
        self.start = time.perf_counter()

    def spent(self, training: Training) -> bool:
        if self.seconds is None:
            return training.step >= self.steps
        return self.world.agreed(time.perf_counter() - self.start >= self.seconds)


def nothing_to_do(training: Training, run: Path) -> str | None:
    """Why a resumed run has no step to train, and how to go on (None if it has)."""
    t = training.cfg.train
    if t.time_budget is not None or training.step < t.steps:
        return None
    return (
        f"{run} is at step {training.step} of {t.steps} (train.steps): nothing to train. Pass --steps N "
        f"(N > {training.step}) or --time-budget SECONDS to train further"
    )


class ConsistencyCheck:
    """Every ``train.ddp_check_every`` steps, check that all ranks hold the same weights and the same random and
    data-order state (data-parallel runs)."""

    def __init__(self, world: World, t: TrainConfig):
        self.world, self.every = world, t.ddp_check_every

    def after_step(self, training: Training) -> None:
        if self.every and self.world.distributed and training.step % self.every == 0:
            self.world.check_consistency(training.players(), training.step)
            self.world.check_same_streams(training.stream_digest(), training.step)


class CheckpointSchedule:
    """Saves the complete state every ``train.checkpoint_every`` steps and at the end, keeping the newest few."""

    def __init__(self, paths: RunPaths, t: TrainConfig, saved_at: int | None = None):
        self.paths, self.every, self.keep, self.saved_at = paths, t.checkpoint_every, t.keep_checkpoints, saved_at
        self.spare: Path | None = None  # a checkpoint kept beyond the newest few (the last before a collapse)

    def due(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def save(self, training: Training) -> Path:
        """Save, then prune; a SIGTERM or Ctrl-C meanwhile stops the run once both are done (``gankit.signals``)."""
        path = self.paths.checkpoints / step_dir_name(training.step)
        with deferred():
            save_checkpoint(path, training.state_dict())
            prune_checkpoints(self.paths.checkpoints, self.keep, self.spare)
        self.saved_at = training.step
        return path

    def after_step(self, training: Training) -> None:
        if self.due(training.step):
            self.save(training)

    def finish(self, training: Training) -> Path:
        """The final checkpoint (unless the last step was just saved)."""
        if self.saved_at != training.step:
            self.save(training)
        return self.paths.checkpoints / step_dir_name(training.step)


@torch.no_grad()
def grid_samples(training: Training) -> torch.Tensor:
    """G's output for the fixed grid inputs, G in eval mode (EMA weights if kept)."""
    g = training.sampling_generator()
    was_training = g.training
    g.eval()
    try:
        return generate(g, training.grid_latent)
    finally:
        g.train(was_training)


def write_sample_grid(training: Training, path: Path, out: torch.Tensor | None = None) -> Path:
    """Save G's samples of the fixed grid inputs (``out``, or generated now) as a PNG."""
    out = grid_samples(training) if out is None else out
    if training.data.is_image:
        columns = max(training.space.num_classes, training.space.categorical) or None
        return save_grid(to_uint8_images(out), path, nrow=columns, scale=2 if out.shape[-1] <= 32 else 1)
    return scatter_png(out, path, reference=training.data.x[:2000])


class GridSchedule:
    """A sample grid at the steps of ``train.sample_at``, every ``train.sample_every`` steps and at the end.

    Each grid of images is also checked for a saturated G (``diagnostics.saturation_warning``), which is
    logged as a warning: the run goes on, since it is not broken beyond doubt as a NaN is, and a warning at
    the grid steps (the last one included) costs no extra G pass.
    """

    def __init__(
        self, paths: RunPaths, t: TrainConfig, tensorboard: TensorBoardLogger, log: Callable[[str], None] | None = None
    ):
        self.paths, self.every, self.tensorboard, self.log = paths, t.sample_every, tensorboard, log
        self.steps = set(t.sample_at) | {t.steps}
        self.written_at: int | None = None
        self.real_saturation: float | None = None

    def due(self, step: int) -> bool:
        return step in self.steps or (self.every > 0 and step % self.every == 0)

    def after_step(self, training: Training) -> None:
        if self.due(training.step):
            self.write(training)

    def write(self, training: Training) -> None:
        out = grid_samples(training)
        self.tensorboard.image(training.step, write_sample_grid(training, self.paths.sample_grid(training.step), out))
        self.written_at = training.step
        if self.log is not None and training.data.is_image:
            self.check_saturation(training, out)

    def check_saturation(self, training: Training, out: torch.Tensor) -> None:
        if self.real_saturation is None:
            self.real_saturation = saturated_fraction(to_model_input(training.data.x[: len(out)]))
        warning = saturation_warning(out, self.real_saturation, training.step)
        if warning is not None:
            self.log(warning)

    def finish(self, training: Training) -> None:
        """The final grid (unless the last step already has one): a time budget ends at any step."""
        if self.written_at != training.step:
            self.write(training)


def fid_monitor(training: Training, log: RunLog) -> FidMonitor | None:
    """The FID monitor of a run that asks for one (``train.fid_every`` > 0). Its reference features are
    computed here, before the run's folder is made, so that a run it cannot serve leaves nothing behind."""
    return FidMonitor(training.cfg, training.space, log) if training.cfg.train.fid_every > 0 else None


class FidSchedule:
    """FID of G's samples every ``train.fid_every`` steps, to ``RUN/fid.jsonl`` (``gankit.metrics.monitor``)."""

    def __init__(
        self, monitor: FidMonitor | None, paths: RunPaths, t: TrainConfig, log: RunLog, tensorboard: TensorBoardLogger
    ):
        self.monitor, self.every, self.samples = monitor, t.fid_every, t.fid_samples
        self.paths, self.log, self.tensorboard = paths, log, tensorboard

    def due(self, step: int) -> bool:
        return self.monitor is not None and step % self.every == 0

    def after_step(self, training: Training) -> None:
        if not self.due(training.step):
            return
        fid = self.monitor.record(training.sampling_generator(), training.step, self.paths.fid_curve)
        self.log(f"step {training.step}: FID {fid:.3f} ({self.samples} samples)")
        self.tensorboard.scalars({"step": training.step, "fid": fid})
