"""Trials played together: one vectorised model steps them all (:mod:`gankit.trials.vectorised`), and each trial
writes its own run folder exactly as the trainer would (:class:`~gankit.training.writers.RunWriters`).

Each trial's folder is locked, built and (on resume) loaded as a one-trial run is; the trials must stand at one
step to move together (else the caller trains them one after another). While the vectorised model steps them,
each trial's Training is brought up to date (:meth:`VectorisedTrials.write_back`) before anything reads it — a
log record's gradient norms, a grid, a checkpoint — and its files are written under its own random-number state,
so its checkpoint is the one its one-trial run would write. A trial whose record is non-finite is dropped (its
last good checkpoint kept) and the others step on. ``elapsed_s`` and images/s are those of the whole set of
trials (they share the clock).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from tqdm import tqdm

from gankit.config import Config
from gankit.errors import TrainingDiverged
from gankit.store.layout import RunPaths
from gankit.store.logfile import RunLog
from gankit.training.choices import check_choices
from gankit.training.rundir import RunDir
from gankit.training.state import Training, build_training
from gankit.training.writers import RunWriters
from gankit.trials.graphed import GraphedTrials
from gankit.trials.outcome import Outcome, record_outcome
from gankit.trials.vectorised import RngState, VectorisedTrials
from gankit.version import __version__


@dataclass
class _Member:
    """One trial played together: its index, folder, log, state and writers."""

    trial: int
    run: RunDir
    log: RunLog
    training: Training
    rng: RngState
    resumed: bool
    writers: RunWriters | None = None


def train_together(
    cfg: Config,
    paths: RunPaths,
    trials: list[int],
    resume: bool,
    log: RunLog,
    echo: bool = True,
    graphed: bool = False,
) -> list[Outcome] | None:
    """Train ``trials`` of ``cfg`` (in ``paths``) together to ``train.steps``; their outcomes in order, or None
    with nothing written when they stand at different steps (a resume after a kill between two trials' checkpoints).
    ``graphed``: their step replayed from a CUDA graph (:class:`~gankit.trials.graphed.GraphedTrials`)."""
    with contextlib.ExitStack() as stack:
        members = [_join(cfg, paths, k, resume, stack) for k in trials]
        steps = sorted({m.training.step for m in members})
        if len(steps) > 1:
            log(f"trials {', '.join(str(m.trial) for m in members)} stand at steps {steps}: not played together")
            return None
        for m in members:
            m.run.open(m.training.cfg, m.log)
            m.log(
                f"gankit {__version__}: trial {m.trial} of {paths.root}, played together with {len(members) - 1} "
                f"other trial(s) as one vectorised model{', its step replayed from a CUDA graph' if graphed else ''}, "
                f"device {m.training.device}"
            )
            m.writers = stack.enter_context(RunWriters(m.training, m.run.paths, m.log, None, resumed=m.resumed))
        return _play(members, paths, log, echo, GraphedTrials if graphed else VectorisedTrials)


def _join(cfg: Config, paths: RunPaths, k: int, resume: bool, stack: contextlib.ExitStack) -> _Member:
    """Check, lock (on resume), build and load trial ``k``, writing nothing yet."""
    folder = RunPaths(paths.trial(k))
    again = resume and folder.config.is_file()
    run = stack.enter_context(RunDir(folder, again))
    trial_log = RunLog(echo=False)
    training = build_training(check_choices(cfg.trial(k)), trial_log, vmapped=True)
    if again:
        run.resume_training(training, trial_log)
    return _Member(k, run, trial_log, training, RngState.capture(training.device), again)


def _play(
    members: list[_Member], paths: RunPaths, log: RunLog, echo: bool, kind: type[VectorisedTrials]
) -> list[Outcome]:
    vec = kind([m.training for m in members], [m.rng for m in members])
    for j, m in enumerate(members):
        with vec.trial_rng(j):
            m.writers.start(m.training)
    active, outcomes = list(members), {}
    total, start = members[0].training.cfg.train.steps, members[0].training.step
    show = echo and members[0].training.cfg.train.progress
    with tqdm(total=total, initial=start, disable=not show, unit="step", dynamic_ncols=True) as bar:
        while active and active[0].training.step < total:
            stats = vec.step()
            step = active[0].training.step
            if any(m.writers.reads_weights(step) for m in active):
                vec.write_back()
            lost = []
            for j, m in enumerate(active):
                try:
                    with vec.trial_rng(j):
                        m.writers.after_step(m.training, stats[j])
                except TrainingDiverged as e:
                    lost.append((j, e))
            for j, e in reversed(lost):
                m = active.pop(j)
                if active:
                    vec.drop(j)
                outcomes[m.trial] = _ended(m, "diverged", e.step if e.step is not None else step, str(e), paths, log)
            bar.update(1)
    if active:
        vec.write_back()
    for j, m in enumerate(active):
        with vec.trial_rng(j):
            final = m.writers.finish(m.training)
        m.log(f"done: step {m.training.step}, {m.training.images_seen:,} images; checkpoint in {final}")
        outcomes[m.trial] = _ended(m, "done", m.training.step, "", paths, log)
    return [outcomes[m.trial] for m in members]


def _ended(m: _Member, status: str, step: int, message: str, paths: RunPaths, log: RunLog) -> Outcome:
    outcome = Outcome(m.trial, m.training.cfg.train.seed, status, step, message, mode="vectorised")
    if status == "diverged":
        m.log(message)
        log(f"trial {m.trial} (seed {outcome.seed}) diverged at step {step}; the other trials train on")
    record_outcome(paths, outcome)
    return outcome
