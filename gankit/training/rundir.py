"""The run directory's lifecycle: check it, lock it, resume from it, open it (checkpoints: ``schedules``).

A run that fails to start leaves nothing behind: the folder is made (and ``config.json`` written) only
after the data, the networks and any checkpoint have loaded and been checked. While a process trains a
run it holds the run's lock (``gankit.store.lock``): a second writer stops with an error. A start killed before
``config.json`` was written leaves a folder that the next start with the same ``--run-dir`` takes over; a
run with a config but no checkpoint resumes from step 0. A resumed run keeps its config, except the fields
in ``gankit.store.resume.RESUMABLE_FIELDS`` (and optimiser settings edited in ``config.json``, applied and
logged), loads its newest checkpoint that passes every check (skipping damaged ones, with the reason in the
log) and drops log records written after it, and a last line that a crash cut off.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from gankit.config import OPTIMIZER_SECTIONS, Config
from gankit.errors import CheckpointError
from gankit.store import faults
from gankit.store.checkpoint import LEFTOVER_PREFIXES, list_checkpoints, remove_leftovers
from gankit.store.layout import RunPaths, check_run_dir, is_config_temp, read_config
from gankit.store.lock import RunLock
from gankit.store.logfile import RunLog
from gankit.store.outputs import write_atomic
from gankit.store.resume import LogTail, config_changes
from gankit.store.state_schema import check_fits, read_state
from gankit.training.optim import hyperparameters, restore_hyperparameters
from gankit.training.state import Training


@dataclass
class RunDir:
    """The folder of the run a process trains: checked at the start, locked while it trains, opened (made or
    taken over) once everything has loaded. Use as a context manager (or :meth:`check`, then :meth:`release`):
    the lock is released on any exit. Under torchrun only rank 0 is the ``writer``: it alone locks and opens
    the folder; the other ranks check and read it."""

    paths: RunPaths
    resume: bool
    writer: bool = True
    lock: RunLock = field(init=False)
    skipped: list[Path] = field(default_factory=list)
    tails: list[LogTail] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = RunLock(self.paths.root)

    def __enter__(self) -> RunDir:
        self.check()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def check(self) -> None:
        """Check the folder (fast, before anything loads); a writer resuming takes the lock and checks again."""
        check_run_dir(self.paths, self.resume)
        if self.resume and self.writer:
            self.lock.acquire()
            check_run_dir(self.paths, self.resume)

    def release(self) -> None:
        self.lock.release()

    def resume_training(self, training: Training, log: RunLog) -> None:
        """Load the newest checkpoint that passes every check into ``training`` (none yet: step 0), apply
        optimiser settings edited in config.json, log each field that changed (``resume: g_optim.lr 0.0002 →
        0.0001``) and read the logs to cut back (nothing is written here)."""
        ckpts = list_checkpoints(self.paths.checkpoints)
        problems: list[str] = []
        own, scheme_problem = training.state_dict(), partial(training.scheme.state_problem, gan=training.gan)
        for ckpt in reversed(ckpts):
            try:
                state = read_state(ckpt, map_location=training.device)
                check_fits(state, ckpt, own, training.optimizers, scheme_problem)
            except CheckpointError as e:
                problems.append(getattr(e, "reason", str(e)))
                self.skipped.append(ckpt)
                log(f"skipped checkpoint {ckpt.name}: {problems[-1]}")
                continue
            wanted = {player: hyperparameters(opt) for player, opt in training.optimizers.items()}
            training.load_state_dict(state)
            changes = config_changes(read_config(self.paths.root), training.cfg)
            for player, opt in training.optimizers.items():
                section = OPTIMIZER_SECTIONS[player]
                for key, old, new in restore_hyperparameters(opt, wanted[player]):
                    changes.setdefault(f"{section}.{key}", (old, new))  # config.json edited by hand
            before, now = int(state.get("world_size", 1)), training.shard.world_size
            regrouped = f"; {before} process(es) trained it so far, {now} now: the same run" if before != now else ""
            log(f"resumed {self.paths.root} from {ckpt.name} (step {training.step}){regrouped}")
            for path, (old, new) in changes.items():
                log(f"resume: {path} {old!r} → {new!r}")
            break
        else:
            if ckpts:
                raise CheckpointError(
                    f"cannot resume {self.paths.root}: none of its {len(ckpts)} checkpoint(s) loads; the newest, "
                    f"{ckpts[-1].name}: {problems[0]} — nothing was changed; if config.json was edited, undo that"
                )
            log(f"{self.paths.root} has no checkpoint yet: starting it from step 0")
        self.tails = [LogTail.plan(p, training.step) for p in (self.paths.metrics, self.paths.fid_curve)]

    def open(self, cfg: Config, log: RunLog) -> None:
        """Make or take over the folder under the lock, write ``config.json`` and start ``log.txt``."""
        root = self.paths.root
        if not self.resume:
            try:
                root.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                message = f"cannot make the run folder {root}: {e.strerror or e}; choose another --run-dir"
                raise CheckpointError(message) from None
            self.lock.acquire()
            faults.reached("start:locked")
            check_run_dir(self.paths, resume=False)  # under the lock: no other start can pass it now
        for p in root.iterdir():
            if is_config_temp(p.name):
                p.unlink(missing_ok=True)
        write_atomic(self.paths.config, cfg.to_json(), fsync=True)
        log.attach(self.paths.log)
        if self.resume:
            self._tidy(log)
        faults.reached("start:opened")

    def crash_left(self) -> bool:
        """Whether a crash left something that opening the run clears: a temporary or half-deleted checkpoint
        folder, a damaged checkpoint to set aside, a config being written."""
        folder, root = self.paths.checkpoints, self.paths.root
        in_checkpoints = folder.is_dir() and any(p.name.startswith(LEFTOVER_PREFIXES) for p in folder.iterdir())
        return in_checkpoints or bool(self.skipped) or any(is_config_temp(p.name) for p in root.iterdir())

    def _tidy(self, log: RunLog) -> None:
        """Clear what a crash left: temporary checkpoint folders, damaged checkpoints, log lines after the step."""
        for p in remove_leftovers(self.paths.checkpoints):
            log(f"removed {p.name}, left by a crash")
        for p in self.skipped:
            aside = p.with_name(p.name + ".damaged")
            shutil.rmtree(aside, ignore_errors=True)
            p.rename(aside)
            log(f"moved the damaged checkpoint {p.name} aside to {aside} (delete it once you no longer need it)")
        for tail in self.tails:
            tail.apply(log)
