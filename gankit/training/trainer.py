"""The training loop: build the run, open its folder, step the game until the budget is spent.

Who does what: ``state`` builds the complete state (:class:`~gankit.training.state.Training`) and plays
one game step; ``rundir`` checks, locks (one writer per run), resumes and opens the run directory;
``gankit.store.logfile`` writes the log lines; ``writers`` writes what is due after each step: ``metrics.jsonl``
and TensorBoard (``metrics_log``, which also stops a diverging run), and sample grids, FID and checkpoints at
their steps (``schedules``). The parameters change only in ``gankit.training.step``.

Under torchrun every rank runs :func:`train` (``gankit.training.distributed``): all of them play the same
steps, and rank 0 alone locks the run and writes its files (:func:`_lead`); the others only play (:func:`_follow`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from gankit.config import Config
from gankit.metrics.monitor import FidMonitor
from gankit.signals import Stopped
from gankit.store.checkpoint import list_checkpoints, remove_leftovers
from gankit.store.layout import RunPaths
from gankit.store.logfile import RunLog
from gankit.training.choices import check_choices
from gankit.training.distributed import World, elastic_store_warning, joined, launched_by_torchrun
from gankit.training.rundir import RunDir
from gankit.training.schedules import Budget, ConsistencyCheck, fid_monitor, nothing_to_do
from gankit.training.state import Training, build_training
from gankit.training.watch import follower_vote
from gankit.training.writers import RunWriters
from gankit.version import __version__


def train(
    cfg: Config,
    run_dir: str | Path,
    resume: bool = False,
    echo: bool = True,
    restart: bool = False,
    solo: bool = False,
) -> Training:
    """Train (or, with ``resume``, continue) the run in ``run_dir`` for ``cfg.train.steps`` game steps
    (or ``cfg.train.time_budget`` seconds).

    With ``resume`` the latest checkpoint is loaded and ``cfg`` should come from
    :func:`~gankit.store.resume.resume_config`; ``restart`` (torchrun restarted the processes) also
    accepts a run that died before its first checkpoint. Under torchrun this process joins the run's
    process group for the duration of the call. Returns the final :class:`Training`. Raises
    ``TrainingDiverged`` if the losses become NaN/inf (the last good checkpoint is kept). ``solo``: this process
    trains the run alone even under torchrun (a trial of a trials run split over the ranks, ``gankit.trials``).
    """
    resume = resume or restart
    with contextlib.nullcontext(World()) if solo else joined(cfg.train) as world:
        paths, log = RunPaths(Path(run_dir)), RunLog(echo and world.is_main)
        run = RunDir(paths, resume, writer=world.is_main)
        training: Training | None = None
        try:
            training, monitor = _start(cfg, run, log, world)
            play = _lead if world.is_main else _follow
            with world.watching_peers(lambda: training.step):
                play(training, run, log, monitor, world)
        except Stopped as stop:
            _stopped(stop, run, log, world, training)
            raise
        finally:
            run.release()
    return training


def _stopped(stop: Stopped, run: RunDir, log: RunLog, world: World, training: Training | None) -> None:
    """A SIGTERM or Ctrl-C (``gankit.signals``): the process that holds the run's lock removes the temporary
    checkpoint folders and logs the line; ``stop.detail`` says at which step, and which checkpoint the run keeps."""
    paths, root = run.paths, run.paths.root
    if run.lock.held:
        remove_leftovers(paths.checkpoints)
    kept = list_checkpoints(paths.checkpoints)
    rank = f"rank {world.rank} of {world.world_size} " if world.distributed else ""
    at = f"{rank}at step {training.step}" if training is not None else f"{rank}before the first step"
    if kept:
        keeps = f"the run keeps its last checkpoint, {kept[-1]}; `gankit train --resume {root}` continues from it"
    elif paths.config.is_file():
        keeps = f"{root} has no checkpoint yet; `gankit train --resume {root}` starts it again from step 0"
    else:
        keeps = "nothing was written"
    restarts = "; under `torchrun --max-restarts K` the group restarts and resumes by itself" if kept and rank else ""
    stop.detail = f"{at}; {keeps}{restarts}"
    if run.lock.held and log.path is not None:
        log.echo = False  # the CLI prints the line
        log(stop.line(launched_by_torchrun()))


def _start(cfg: Config, run: RunDir, log: RunLog, world: World) -> tuple[Training, FidMonitor | None]:
    """Check the ranks agree and the run folder, build the state, load the checkpoint and FID's reference:
    everything that can fail, before anything is written (an error on one rank is raised on all)."""
    world.check_same_config(cfg)
    world.check_shared_folder(run.paths.root)
    world.settle(run.check)
    training = build_training(check_choices(cfg), log, world)
    if run.resume:
        world.settle(lambda: run.resume_training(training, log))
    monitor = world.settle(lambda: fid_monitor(training, log) if world.is_main else None)
    return training, monitor


def _lead(training: Training, run: RunDir, log: RunLog, monitor: FidMonitor | None, world: World) -> None:
    """Rank 0 (or the only process): lock and open the run folder, play the steps and write the run's files."""
    cfg, paths, resume = training.cfg, run.paths, run.resume
    if resume and (idle := nothing_to_do(training, paths.root)) is not None:
        if run.crash_left():  # e.g. killed while pruning after its last checkpoint: cleared, nothing trained
            run.open(cfg, log)
        log(idle)  # else the run folder is left as it was
        return
    run.open(cfg, log)
    processes = f", {world.world_size} processes" if world.distributed else ""
    log(
        f"gankit {__version__}: recipe {cfg.recipe}, {cfg.loss.objective} loss, {cfg.model.arch} nets, "
        f"{len(training.data):,} examples from {training.data.source}, device {training.device}{processes}"
    )
    if (warning := elastic_store_warning()) is not None:
        log(warning)
    agree = world.agreed if world.distributed else None
    with RunWriters(training, paths, log, monitor, resumed=resume, agree=agree) as writers:
        writers.start(training)
        budget, check = Budget(training, world), ConsistencyCheck(world, cfg.train)
        while not budget.spent(training):
            writers.after_step(training, training.train_step())
            check.after_step(training)
        final = writers.finish(training)
    log(
        f"done: step {training.step}, {training.images_seen:,} images in {training.elapsed_s:.1f} s; "
        f"samples in {paths.samples}, checkpoint in {final}"
    )


def _follow(training: Training, run: RunDir, log: RunLog, monitor: FidMonitor | None, world: World) -> None:
    """Ranks other than 0: play the same steps (and the same collectives) as rank 0, writing nothing."""
    t = training.cfg.train
    budget, check = Budget(training, world), ConsistencyCheck(world, t)
    vote_every = t.watch_every if t.watch_stop else 0
    while not budget.spent(training):
        training.train_step()
        follower_vote(vote_every, training.step, world.agreed)
        check.after_step(training)
