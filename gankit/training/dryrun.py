"""``gankit train --dry-run``: every check a run makes before it is built, without building or writing it."""

from __future__ import annotations

from pathlib import Path

from gankit.config import Config
from gankit.data import load_data
from gankit.data.tensors import data_nbytes
from gankit.device import resolve_device
from gankit.latent import latent_space
from gankit.memory.footprint import check_footprint
from gankit.store.layout import RunPaths, check_run_dir
from gankit.training.choices import check_choices
from gankit.training.distributed import check_sync_batchnorm
from gankit.training.step import GameLosses


def check_training(cfg: Config, run_dir: str | Path, resume: bool = False) -> str:
    """Check the run folder, the names, the device, the data, the losses and the memory estimate of ``cfg``
    as ``train`` does before building anything; return what the run would be. Writes nothing."""
    paths = RunPaths(Path(run_dir))
    check_run_dir(paths, resume)
    check_choices(cfg)
    device = resolve_device(cfg.train.device)
    check_sync_batchnorm(cfg.train, device)
    data = load_data(cfg.data, log=lambda _: None)
    shape = tuple(data.x.shape[1:])
    space = latent_space(cfg.model, data.num_classes)
    estimate = check_footprint(cfg, shape, space, device, data_bytes=0 if device.type == "cpu" else data_nbytes(data))
    GameLosses.from_config(cfg.loss, space)
    trials = f", {len(cfg.train.trial_seeds)} trials one after another" if cfg.has_trials else ""
    return (
        f"dry run: {'resuming' if resume else 'a new run in'} {paths.root}{trials}, {len(data):,} examples of shape "
        f"{shape} from {data.source}, device {device}; {estimate.describe()}. Nothing was built or written."
    )
