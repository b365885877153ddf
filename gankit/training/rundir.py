"""The run directory's lifecycle: check it, resume from it, open it (checkpoints: ``schedules``).

A run that fails to start leaves nothing behind: the folder is made (and ``config.json`` written) only
after the data, the networks and any checkpoint have loaded. A resumed run keeps its config, except the
fields in ``RESUMABLE_FIELDS``, and drops log records written after its last checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gankit.checkpoint import list_checkpoints, load_checkpoint
from gankit.config import Config
from gankit.errors import CheckpointError, ConfigError
from gankit.run import RunPaths, read_config
from gankit.training.runlog import RunLog
from gankit.training.state import Training

# Fields a resumed run may change: the budget, the schedule of logs/grids/checkpoints, where the data is.
RESUMABLE_FIELDS = {
    "train.steps",
    "train.time_budget",
    "train.precision",
    "train.compile",
    "train.device",
    "train.log_every",
    "train.sample_at",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.progress",
    "train.tensorboard",
    "train.fid_every",
    "train.ddp_check_every",
    "train.ddp_timeout",
    "data.dir",
    "data.download",
}


def resume_config(run_dir: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """The saved config of a run with the allowed ``overrides`` (see ``RESUMABLE_FIELDS``) applied."""
    overrides = dict(overrides or {})
    refused = sorted(set(overrides) - RESUMABLE_FIELDS)
    if refused:
        raise ConfigError(
            f"a resumed run keeps its config; cannot change {', '.join(refused)}. "
            f"Fields that may change: {', '.join(sorted(RESUMABLE_FIELDS))}"
        )
    return read_config(run_dir).override(overrides)


def check_run_dir(paths: RunPaths, resume: bool) -> None:
    """A new run needs an empty or missing folder; a resumed one needs a gankit run."""
    if resume:
        if not paths.config.is_file():
            raise CheckpointError(f"cannot resume {paths.root}: it holds no gankit run ({paths.config.name} missing)")
        return
    if paths.config.is_file() or list_checkpoints(paths.checkpoints):
        raise CheckpointError(
            f"{paths.root} already holds a run; nothing was changed. Continue it with "
            f"`gankit train --resume {paths.root}` or choose a new --run-dir."
        )
    if paths.root.exists() and any(paths.root.iterdir()):
        raise CheckpointError(f"{paths.root} is not empty and is not a gankit run; choose a new --run-dir")


def truncate_records(path: Path, step: int) -> None:
    """Drop JSON-lines records after ``step`` (written by a run that died before its next checkpoint)."""
    if not path.is_file():
        return
    keep = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
    path.write_text("".join(line + "\n" for line in keep))


def resume_training(paths: RunPaths, training: Training, log: RunLog, restart: bool = False) -> None:
    """Load the run's latest checkpoint into ``training``.

    ``restart``: torchrun restarted the run's processes (``--max-restarts``); one that died before its first
    checkpoint starts again from step 0.
    """
    ckpts = list_checkpoints(paths.checkpoints)
    if not ckpts and restart:
        log(f"restarted {paths.root} before its first checkpoint: training from step 0")
        return
    if not ckpts:
        raise CheckpointError(f"cannot resume {paths.root}: it holds no checkpoint")
    state = load_checkpoint(ckpts[-1], map_location=training.device)
    training.load_state_dict(state)
    before, now = int(state.get("world_size", 1)), training.shard.world_size
    regrouped = f"; {before} process(es) trained it so far, {now} now: the same run" if before != now else ""
    log(f"resumed {paths.root} from {ckpts[-1].name} (step {training.step}){regrouped}")


def open_run(paths: RunPaths, cfg: Config, log: RunLog, resumed_at: int | None = None) -> None:
    """Make the folder, start ``log.txt`` and write ``config.json`` (only once everything has loaded).

    A resumed run (``resumed_at``: the step it resumed from) forgets the log records written after that step.
    """
    paths.root.mkdir(parents=True, exist_ok=True)
    if resumed_at is not None:
        truncate_records(paths.metrics, resumed_at)
        truncate_records(paths.fid_curve, resumed_at)
    log.attach(paths.log)
    paths.config.write_text(cfg.to_json())
