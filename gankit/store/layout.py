"""A run folder on disk: what it holds and where, its config, its newest checkpoint, and what a folder
must be for a run to start or resume in it.

Layout::

    RUN/config.json                   the complete Config of the run
    RUN/metrics.jsonl                 one JSON object per logged step (losses, D outputs, images/s)
    RUN/log.txt                       the human-readable log
    RUN/samples/step-00000200.png     sample grids from a fixed z
    RUN/checkpoints/step-00002000/    tensors.safetensors + state.json (see gankit.store.checkpoint)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gankit.config import Config
from gankit.errors import CheckpointError
from gankit.store.checkpoint import list_checkpoints
from gankit.store.jsonfiles import read_json
from gankit.store.lock import LOCK_FILE

CONFIG_TMP = ".config.json.tmp-"  # config.json being written (see jsonfiles.write_text_atomic)


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


def latest_checkpoint(run_dir: str | Path) -> Path:
    found = list_checkpoints(RunPaths(Path(run_dir)).checkpoints)
    if not found:
        raise CheckpointError(
            f"{run_dir} holds no checkpoint yet (nothing under {RunPaths(Path(run_dir)).checkpoints})"
        )
    return found[-1]


def _is_start_leftover(path: Path) -> bool:
    """The lock file, or a config.json being written: all that a start killed early leaves."""
    return path.name == LOCK_FILE or path.name.startswith(CONFIG_TMP)


def check_run_dir(paths: RunPaths, resume: bool) -> None:
    """A new run needs an empty or missing folder (or one a killed start left); a resumed one needs a run."""
    if resume:
        if not paths.config.is_file():
            raise CheckpointError(
                f"cannot resume {paths.root}: it holds no gankit run ({paths.config.name} missing); "
                f"start it with `gankit train --run-dir {paths.root}`"
            )
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
