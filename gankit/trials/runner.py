"""Train the trials of a trials run (``train.trials`` > 1 or ``train.seeds``).

A trials run is a folder of ordinary runs (``gankit.store.layout``): trial k is trained in ``RUN/trial-KK`` with
the config :meth:`Config.trial` gives it (the run's config with seed ``train.trial_seeds[k]``), so it is the run
``gankit train --seed S`` makes, every command reads it as any run, and it resumes as any run does. The trials
train one after another, each by the ordinary trainer (bit for bit the one-trial run), or together as one
vectorised model (:mod:`gankit.trials.lockstep`; equal to the one-trial runs up to float rounding) where
``train.trials_mode`` says so (:mod:`gankit.trials.mode`). One trial that diverges is recorded (its last good
checkpoint kept) and the others train on; the job fails only when every trial diverged.

Resuming the trials run resumes each trial from its own newest checkpoint (trials already at ``train.steps``
finish at once; trials a kill left unstarted start), and skips trials that diverged (``RUN/trials.jsonl``).
``train.time_budget`` is each trial's. Under torchrun the trials are split over the processes (rank r trains trials
r, r + W, …, each on its own device and alone: no gradient is exchanged) and rank 0 keeps the run's files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gankit.config import Config
from gankit.device import resolve_device
from gankit.errors import ConfigError, TrainingDiverged
from gankit.store.layout import RunPaths
from gankit.store.logfile import RunLog
from gankit.training.distributed import World, joined
from gankit.training.rundir import RunDir
from gankit.training.trainer import train
from gankit.trials.lockstep import train_together
from gankit.trials.mode import HOW, check_mode, choose_mode
from gankit.trials.outcome import Outcome, diverged_trials, record_outcome


def train_trials(
    cfg: Config,
    run_dir: str | Path,
    resume: bool = False,
    echo: bool = True,
    train_one: Callable[..., object] = train,
) -> list[Outcome]:
    """Train (or, with ``resume``, continue) every trial of ``cfg`` in ``run_dir``, as ``train.trials_mode`` says.

    Returns each trial's :class:`Outcome` (trials skipped as diverged earlier included). Raises
    ``TrainingDiverged`` when every trial diverged. ``train_one`` is the trainer of one trial trained on its own
    (tests replace it).
    """
    if not cfg.has_trials:
        raise ConfigError("train_trials trains a trials run: set train.trials > 1 or train.seeds")
    check_mode(cfg)
    with joined(cfg.train) as world:
        return _train_trials(cfg, RunPaths(Path(run_dir)), resume, echo, train_one, world)


def _train_trials(
    cfg: Config, paths: RunPaths, resume: bool, echo: bool, train_one: Callable[..., object], world: World
) -> list[Outcome]:
    """:func:`train_trials` in ``world``: under torchrun rank r trains trials r, r + W, … on its own device, each
    alone (no gradient is exchanged), and rank 0 keeps the run's own files."""
    log, seeds = RunLog(echo and world.is_main), cfg.train.trial_seeds
    run = RunDir(paths, resume, writer=world.is_main)
    try:
        world.settle(run.check)
        earlier = diverged_trials(paths) if resume else {}
        world.settle(lambda: run.open(cfg, log) if world.is_main else None)
        if not world.is_main:
            log.attach(paths.log)  # its trials' lines go into the run's log too
        todo = [k for k in range(len(seeds)) if k not in earlier]
        shared = log if world.is_main else RunLog(echo=False)  # the run's lines: once, by rank 0
        for k in earlier:
            shared(
                f"trial {k} (seed {seeds[k]}) diverged at step {earlier[k]} earlier: skipped; "
                f"`gankit train --resume {paths.trial(k)}` continues it alone"
            )
        mine, own = todo[world.rank :: world.world_size], _on_this_rank(cfg, world)
        mode = choose_mode(own, mine, log)
        ranks = f" on {world.world_size} processes (rank r trains trials r, r + {world.world_size}, …)"
        shared(
            f"{len(seeds)} trials of {cfg.recipe}, seeds {_seed_list(seeds)}, {HOW[mode]}, in {paths.root}"
            + (ranks if world.distributed else "")
        )
        together = mode != "sequential"
        played = train_together(own, paths, mine, resume, log, echo, mode == "graphed") if together else None
        if played is None:
            played = [_train_trial(own, paths, k, resume, echo, log, train_one, world.distributed) for k in mine]
        gathered = [o for block in world.gather(played) for o in block]
        skipped = {k: Outcome(k, seeds[k], "diverged", step) for k, step in earlier.items()}
        ended = {o.trial: o for o in gathered} | skipped
        outcomes = [ended[k] for k in range(len(seeds))]
        world.settle(lambda: _summarise(outcomes, shared))
    finally:
        run.release()
    return outcomes


def _on_this_rank(cfg: Config, world: World) -> Config:
    """``cfg`` as this rank trains its trials: on its own GPU (``cuda:LOCAL_RANK``) under torchrun."""
    if world.distributed and resolve_device(cfg.train.device).type == "cuda":
        return cfg.override({"train.device": f"cuda:{world.local_rank}"})
    return cfg


def _train_trial(
    cfg: Config,
    paths: RunPaths,
    k: int,
    resume: bool,
    echo: bool,
    log: RunLog,
    train_one: Callable[..., object],
    solo: bool = False,
) -> Outcome:
    folder, seed = paths.trial(k), cfg.train.trial_seeds[k]
    again = resume and RunPaths(folder).config.is_file()
    log(f"trial {k} (seed {seed}): {'resumed' if again else 'started'} in {folder}")
    try:
        alone = {"solo": True} if solo else {}  # under torchrun: this rank trains the trial by itself
        training = train_one(cfg.trial(k), folder, resume=again, echo=echo, **alone)
    except TrainingDiverged as e:
        outcome = Outcome(k, seed, "diverged", e.step if e.step is not None else 0, str(e), mode="sequential")
        log(f"trial {k} (seed {seed}) diverged at step {outcome.step}; the other trials train on")
    else:
        outcome = Outcome(k, seed, "done", training.step, mode="sequential")
    record_outcome(paths, outcome)
    return outcome


def _summarise(outcomes: list[Outcome], log: RunLog) -> None:
    bad = [o for o in outcomes if o.status == "diverged"]
    where = ", ".join(f"trial {o.trial} at step {o.step}" for o in bad)
    log(f"trials: {len(outcomes) - len(bad)} done, {len(bad)} diverged" + (f" ({where})" if bad else ""))
    if len(bad) == len(outcomes):
        raise TrainingDiverged(
            f"every trial diverged ({where}); each trial's log says why. Lower the learning rates "
            "(g_optim.lr, d_optim.lr) or use a more stable objective (e.g. --recipe wgan-gp)",
            step=max(o.step for o in bad),
        )


def _seed_list(seeds: tuple[int, ...]) -> str:
    if seeds == tuple(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))
