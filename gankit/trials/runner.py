"""Train the trials of a trials run (``train.trials`` > 1 or ``train.seeds``), one after another.

A trials run is a folder of ordinary runs (``gankit.store.layout``): trial k is trained by the ordinary trainer
in ``RUN/trial-KK`` with the config :meth:`Config.trial` gives it (the run's config with seed
``train.trial_seeds[k]``), so it is exactly the run ``gankit train --seed S`` makes, every command reads it as
any run, and it resumes as any run does. Trials share nothing but the folder and the log: one that diverges is
recorded (its last good checkpoint kept) and the others train on; the job fails only when every trial diverged.

Resuming the trials run resumes each trial from its own newest checkpoint (trials already at ``train.steps``
finish at once; trials a kill left unstarted start), and skips trials that diverged (``RUN/trials.jsonl``).
``train.time_budget`` is each trial's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gankit.config import Config
from gankit.errors import ConfigError, TrainingDiverged
from gankit.store.layout import RunPaths, ended_trials
from gankit.store.logfile import RunLog
from gankit.training.distributed import launched_by_torchrun
from gankit.training.rundir import RunDir
from gankit.training.trainer import train


@dataclass(frozen=True)
class Outcome:
    """How one trial ended: ``done`` (reached its budget) or ``diverged`` (at ``step``)."""

    trial: int
    seed: int
    status: str
    step: int
    message: str = ""

    def record(self) -> dict[str, object]:
        return {"step": self.step, "trial": self.trial, "seed": self.seed, "status": self.status} | (
            {"message": self.message} if self.message else {}
        )


def diverged_trials(paths: RunPaths) -> dict[int, int]:
    """Trials recorded as diverged in ``RUN/trials.jsonl``: trial → the step it diverged at."""
    return {k: r["step"] for k, r in ended_trials(paths).items() if r["status"] == "diverged"}


def train_trials(
    cfg: Config,
    run_dir: str | Path,
    resume: bool = False,
    echo: bool = True,
    train_one: Callable[..., object] = train,
) -> list[Outcome]:
    """Train (or, with ``resume``, continue) every trial of ``cfg`` in ``run_dir``, one after another.

    Returns each trial's :class:`Outcome` (trials skipped as diverged earlier included). Raises
    ``TrainingDiverged`` when every trial diverged. ``train_one`` is the trainer (tests replace it).
    """
    if not cfg.has_trials:
        raise ConfigError("train_trials trains a trials run: set train.trials > 1 or train.seeds")
    if launched_by_torchrun():
        raise ConfigError(
            "trials are not split over torchrun's processes yet: run `gankit train --trials N` without torchrun"
        )
    paths, log = RunPaths(Path(run_dir)), RunLog(echo)
    seeds = cfg.train.trial_seeds
    with RunDir(paths, resume) as run:
        earlier = diverged_trials(paths) if resume else {}
        run.open(cfg, log)
        log(f"{len(seeds)} trials of {cfg.recipe}, seeds {_seed_list(seeds)}, one after another, in {paths.root}")
        outcomes = []
        for k, seed in enumerate(seeds):
            if k in earlier:
                log(
                    f"trial {k} (seed {seed}) diverged at step {earlier[k]} earlier: skipped; "
                    f"`gankit train --resume {paths.trial(k)}` continues it alone"
                )
                outcomes.append(Outcome(k, seed, "diverged", earlier[k]))
                continue
            outcomes.append(_train_trial(cfg, paths, k, resume, echo, log, train_one))
        _summarise(outcomes, log)
    return outcomes


def _train_trial(
    cfg: Config, paths: RunPaths, k: int, resume: bool, echo: bool, log: RunLog, train_one: Callable[..., object]
) -> Outcome:
    folder, seed = paths.trial(k), cfg.train.trial_seeds[k]
    again = resume and RunPaths(folder).config.is_file()
    log(f"trial {k} (seed {seed}): {'resumed' if again else 'started'} in {folder}")
    try:
        training = train_one(cfg.trial(k), folder, resume=again, echo=echo)
    except TrainingDiverged as e:
        outcome = Outcome(k, seed, "diverged", e.step if e.step is not None else 0, str(e))
        log(f"trial {k} (seed {seed}) diverged at step {outcome.step}; the other trials train on")
    else:
        outcome = Outcome(k, seed, "done", training.step)
    with open(paths.trials, "a") as f:
        f.write(json.dumps(outcome.record()) + "\n")
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
