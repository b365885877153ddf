"""A run folder on disk: what it holds and where, its config, its newest checkpoint, and what a folder
must be for a run to start or resume in it.

Layout::

    RUN/config.json                   the complete Config of the run
    RUN/metrics.jsonl                 one JSON object per logged step (losses, D outputs, images/s)
    RUN/log.txt                       the human-readable log
    RUN/samples/step-00000200.png     sample grids from a fixed z
    RUN/checkpoints/step-00002000/    tensors.safetensors + state.json (see gankit.store.checkpoint)

A trials run (``train.trials`` > 1, or ``train.seeds``: ``gankit.trials``) is a folder of such runs, one per
seed, each complete on its own (every command reads one as it reads any run)::

    RUN/config.json                   the config of the whole set of trials
    RUN/log.txt                       which trial ran when, and how each ended
    RUN/trials.jsonl                  one record per trial that ended: {"trial", "seed", "status", "step", "mode"}
    RUN/trial-00/ …                   trial k: an ordinary run, trained with seed train.trial_seeds[k]

Besides these a run holds ``.lock`` (``gankit.store.lock``), TensorBoard's ``events.out.tfevents.*`` and, for a
moment, hidden temporary files. A folder is recognised as a run (:func:`is_run_folder`) from the moment ``gankit
train`` locks it: it holds ``config.json`` beside ``.lock``, ``log.txt``, ``metrics.jsonl``, ``checkpoints/`` or
``trial-00/`` (a run copied without its lock, or written by an older gankit), or ``.lock`` and nothing else
visible (a start, before its ``config.json`` is written).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gankit.config import Config
from gankit.errors import CheckpointError
from gankit.store.checkpoint import list_checkpoints
from gankit.store.jsonfiles import read_json, read_jsonl
from gankit.store.lock import LOCK_FILE
from gankit.store.tempfiles import is_temp_name

CONFIG_TMP = ".config.json.tmp-"  # config.json being written, as gankit named it before store.tempfiles
RUN_MARKS = (LOCK_FILE, "log.txt", "metrics.jsonl", "checkpoints", "trial-00")  # one of them beside config.json


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def fid_curve(self) -> Path:
        return self.root / "fid.jsonl"

    @property
    def log(self) -> Path:
        return self.root / "log.txt"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def sample_grid(self, step: int) -> Path:
        return self.samples / f"step-{step:08d}.png"

    @property
    def trials(self) -> Path:
        return self.root / "trials.jsonl"

    def trial(self, k: int) -> Path:
        """The folder of trial ``k`` of a trials run."""
        return self.root / f"trial-{k:02d}"


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a run's: ``config.json`` beside one of ``RUN_MARKS``, or a start's lone ``.lock``."""
    try:
        if (folder / "config.json").is_file():
            return any(os.path.lexists(folder / name) for name in RUN_MARKS)
        if not os.path.lexists(folder / LOCK_FILE):
            return False
        with os.scandir(folder) as entries:
            return all(entry.name.startswith(".") for entry in entries)
    except OSError:
        return False


def read_config(run_dir: str | Path) -> Config:
    """The run's ``config.json``; a clear error if it is missing, not a JSON object or not a valid config."""
    paths = RunPaths(Path(run_dir))
    if not paths.config.is_file():
        raise CheckpointError(f"{run_dir} is not a gankit run: {paths.config.name} is missing")
    fields = read_json(paths.config)
    if not isinstance(fields, dict):
        raise CheckpointError(f"{paths.config} must hold a JSON object of config fields, got {type(fields).__name__}")
    try:
        return Config.from_dict(fields)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
        raise CheckpointError(f"{paths.config} is corrupt or from another version: {e}") from None


def ended_trials(paths: RunPaths) -> dict[int, dict]:
    """The record of each trial ``RUN/trials.jsonl`` says has ended (the last one, if a trial ended twice):
    ``{"step", "trial", "seed", "status": "done" | "diverged", "mode": "vectorised" | "sequential"}`` (``mode``
    missing in the records of runs made before it was recorded)."""
    ended: dict[int, dict] = {}
    for record in read_jsonl(paths.trials).records:
        if isinstance(record.get("trial"), int) and record.get("status") in ("done", "diverged"):
            ended[record["trial"]] = record
    return ended


def trial_run(run_dir: str | Path, trial: int | None) -> Path:
    """The one-trial run a command reads: ``run_dir`` itself, or trial ``trial`` of a trials run (``--trial``).

    A trials run read without ``trial``, an index out of range, or ``trial`` given for a single run are
    errors that say what to pass instead."""
    cfg, root = read_config(run_dir), Path(run_dir)
    count = len(cfg.train.trial_seeds)
    if not cfg.has_trials:
        if trial is not None:
            raise CheckpointError(f"{run_dir} is a single run, not a trials run: drop --trial")
        return root
    if trial is None:
        raise CheckpointError(f"{run_dir} holds {count} trials: choose one with --trial K (K in 0..{count - 1})")
    if not 0 <= trial < count:
        raise CheckpointError(f"--trial must lie in 0..{count - 1} ({run_dir} holds {count} trials), got {trial}")
    folder = RunPaths(root).trial(trial)
    if not RunPaths(folder).config.is_file():
        raise CheckpointError(
            f"trial {trial} of {run_dir} has not started yet ({folder} holds no run); "
            f"`gankit train --resume {run_dir}` trains it"
        )
    return folder


def latest_checkpoint(run_dir: str | Path) -> Path:
    found = list_checkpoints(RunPaths(Path(run_dir)).checkpoints)
    if not found:
        raise CheckpointError(
            f"{run_dir} holds no checkpoint yet (nothing under {RunPaths(Path(run_dir)).checkpoints})"
        )
    return found[-1]


def run_files_problem(paths: RunPaths) -> str | None:
    """Why a resumed run could not write its files (checked before anything is written), or None: each folder
    it writes into (the run's, ``checkpoints/`` and its checkpoints, ``samples/``) a writable folder, each log it
    appends to a writable file; what does not exist yet is made when needed."""
    folders = [paths.root, paths.checkpoints, *list_checkpoints(paths.checkpoints), paths.samples]
    files = [paths.config, paths.metrics, paths.fid_curve, paths.log, paths.trials]
    for path, folder in [(p, True) for p in folders] + [(p, False) for p in files]:
        if not os.path.lexists(path):
            continue
        if path.is_dir() != folder:
            what, should = ("a file", "a folder") if folder else ("a folder", "a file")
            return f"{path} is {what}, where the run keeps {should}; move it out of the way"
        if not os.access(path, os.W_OK | os.X_OK if folder else os.W_OK) and path != paths.config:
            return f"{path} cannot be written (permission denied, or it is immutable); make it writable"
    return None


def is_config_temp(name: str) -> bool:
    """Whether ``name`` is that of a config.json being written (``.config.json.PID-TOKEN.gankit-tmp``, or
    ``.config.json.tmp-PID`` from older gankit): what a start killed while writing it leaves."""
    return name.startswith(CONFIG_TMP) or (name.startswith(".config.json.") and is_temp_name(name))


def _is_start_leftover(path: Path) -> bool:
    """The lock file, or a config.json being written: all that a start killed early leaves."""
    return path.name == LOCK_FILE or is_config_temp(path.name)


def check_run_dir(paths: RunPaths, resume: bool) -> None:
    """A new run needs an empty or missing folder (or one a killed start left); a resumed one needs a run whose
    files and folders are what they should be and can be written (:func:`run_files_problem`)."""
    if resume:
        if not paths.config.is_file():
            raise CheckpointError(
                f"cannot resume {paths.root}: it holds no gankit run ({paths.config.name} missing); "
                f"start it with `gankit train --run-dir {paths.root}`"
            )
        problem = run_files_problem(paths)
        if problem:
            raise CheckpointError(f"cannot resume {paths.root}: {problem}; nothing was changed")
        return
    if paths.config.is_file():
        state = "" if list_checkpoints(paths.checkpoints) else " (it has no checkpoint yet: resuming starts at step 0)"
        raise CheckpointError(
            f"{paths.root} already holds a run; nothing was changed. Continue it with "
            f"`gankit train --resume {paths.root}`{state} or choose a new --run-dir."
        )
    if paths.root.exists() and not paths.root.is_dir():
        raise CheckpointError(f"--run-dir {paths.root} is a file, not a folder; choose a new --run-dir")
    if paths.root.exists() and any(not _is_start_leftover(p) for p in paths.root.iterdir()):
        raise CheckpointError(f"{paths.root} is not empty and is not a gankit run; choose a new --run-dir")
