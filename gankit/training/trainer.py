"""The training loop: build the run, open its folder, step the game until the budget is spent.

Who does what: ``state`` builds the complete state (:class:`~gankit.training.state.Training`) and plays
one game step; ``rundir`` checks, locks (one writer per run), resumes and opens the run directory;
``runlog`` writes the log lines, ``metrics.jsonl``, TensorBoard and stops a diverging run; ``schedules``
writes checkpoints, sample grids and FID at their steps. The parameters change only in ``gankit.training.step``.
"""

from __future__ import annotations

from pathlib import Path

from gankit.config import Config
from gankit.run import RunPaths
from gankit.training.choices import check_choices
from gankit.training.rundir import RunDir
from gankit.training.runlog import MetricsWriter, RunLog
from gankit.training.schedules import Budget, CheckpointSchedule, FidSchedule, GridSchedule, fid_monitor
from gankit.training.state import Training, build_training
from gankit.version import __version__


def train(cfg: Config, run_dir: str | Path, resume: bool = False, echo: bool = True) -> Training:
    """Train (or, with ``resume``, continue) the run in ``run_dir`` for ``cfg.train.steps`` generator steps
    (or ``cfg.train.time_budget`` seconds).

    With ``resume`` the latest checkpoint is loaded and ``cfg`` should come from
    :func:`~gankit.training.rundir.resume_config`. Returns the final :class:`Training`. Raises
    ``TrainingDiverged`` if the losses become NaN/inf (the last good checkpoint is kept).
    """
    paths, log = RunPaths(Path(run_dir)), RunLog(echo)
    with RunDir(paths, resume) as run:
        training = build_training(check_choices(cfg), log)
        if resume:
            run.resume_training(training, log)
        monitor = fid_monitor(training, log)
        run.open(cfg, log)
        log(
            f"gankit {__version__}: recipe {cfg.recipe}, {cfg.loss.objective} loss, {cfg.model.arch} nets, "
            f"{len(training.data):,} examples from {training.data.source}, device {training.device}"
        )
        checkpoints = CheckpointSchedule(paths, cfg.train, saved_at=training.step if resume else None)
        with MetricsWriter(paths, training, log, resumed=resume) as metrics:
            grids = GridSchedule(paths, cfg.train, metrics.tensorboard, log)
            fid = FidSchedule(monitor, paths, cfg.train, log, metrics.tensorboard)
            if training.step == 0:
                grids.after_step(training)
            budget = Budget(training)
            while not budget.spent(training):
                stats = training.train_step()
                metrics.add(training, stats, force=checkpoints.due(training.step))
                for schedule in (grids, fid, checkpoints):
                    schedule.after_step(training)
            metrics.finish(training)
            grids.finish(training)
        final = checkpoints.finish(training)
    log(
        f"done: step {training.step}, {training.images_seen:,} images in {training.elapsed_s:.1f} s; "
        f"samples in {paths.samples}, checkpoint in {final}"
    )
    return training
