"""``gankit train``: train a recipe; fields are set by the recipe, --config, the shortcut flags and --set."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

from gankit.commands.names import DATASETS
from gankit.config import Config, convert, load_config_file
from gankit.errors import ConfigError
from gankit.recipes import RECIPES, get_recipe

DEFAULT_RECIPE = "lsgan"

# Shortcut flags of `gankit train`, each the same as --set FIELD=VALUE.
SHORTCUTS = {
    "data": "data.name",
    "data_dir": "data.dir",
    "steps": "train.steps",
    "time_budget": "train.time_budget",
    "batch_size": "train.batch_size",
    "device": "train.device",
    "seed": "train.seed",
    "trials": "train.trials",
}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    t = sub.add_parser(
        "train",
        help="train a recipe (default: lsgan on MNIST)",
        description="Train a GAN. Fields are set, in order, by the recipe, --config, the shortcut flags and --set.",
    )
    t.add_argument("--recipe", help=f"one of: {', '.join(RECIPES)} (default {DEFAULT_RECIPE})")
    t.add_argument("--config", help="a .json or .toml file of fields (as printed by `gankit recipes NAME`)")
    t.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override any field, e.g. --set g_optim.lr=1e-4 (repeatable)",
    )
    t.add_argument("--run-dir", help="where the run is written (default runs/RECIPE-TIME)")
    t.add_argument("--resume", metavar="RUN", help="continue the run in RUN from its latest checkpoint")
    t.add_argument("--data", help=f"data set name (data.name): {', '.join(DATASETS)}")
    t.add_argument("--data-dir", help="folder with the IDX files or images (data.dir)")
    t.add_argument("--download", action="store_true", help="download missing data files (data.download)")
    t.add_argument("--steps", type=int, help="game steps: generator steps with train.g_steps=1 (train.steps)")
    t.add_argument(
        "--time-budget",
        metavar="SECONDS",
        help="train this many seconds instead of --steps, then write the final checkpoint and grid; each "
        "invocation gets the budget afresh (a resumed run too); none: train to --steps (train.time_budget)",
    )
    t.add_argument("--batch-size", type=int, help="train.batch_size")
    t.add_argument("--device", help="auto, cpu, cuda, cuda:N, mps (train.device)")
    t.add_argument("--seed", type=int, help="train.seed")
    t.add_argument(
        "--trials",
        type=int,
        metavar="N",
        help="train N independent trials with seeds seed, seed + 1, …, each in RUN/trial-KK (train.trials)",
    )
    t.add_argument(
        "--seeds",
        type=parse_seeds,
        metavar="LIST",
        help="train one trial per seed, e.g. 0-9 or 0,3,7 or 0-4,10 (train.seeds)",
    )
    t.add_argument("--no-progress", action="store_true", help="no progress bar; print log lines instead")
    t.add_argument(
        "--dry-run",
        action="store_true",
        help="check the config, the run folder, the data and the memory estimate, print the config; write nothing",
    )
    t.set_defaults(func=cmd_train)
    return t


def cmd_train(args: argparse.Namespace) -> None:
    from gankit.store.outputs import check_output_folder
    from gankit.store.resume import resume_config
    from gankit.training.distributed import launched_by_torchrun
    from gankit.training.trainer import train

    overrides = _overrides(args)
    restart = restarted_run(args, overrides)
    if args.resume:
        if args.recipe or args.config or args.run_dir:
            raise ConfigError(
                "--resume continues a run with its saved config; do not combine it with --recipe, --config or --run-dir"
            )
        cfg, run_dir = resume_config(args.resume, overrides), args.resume
    elif restart is not None:
        cfg, run_dir = restart, args.run_dir
    else:
        if launched_by_torchrun() and not args.run_dir:
            raise ConfigError(
                "under torchrun give --run-dir (or --resume): every rank, and every restart, must use the same folder"
            )
        cfg = build_config(args.recipe, args.config, overrides)
        run_dir = args.run_dir or str(Path("runs") / f"{run_name(cfg.recipe)}-{time.strftime('%Y%m%d-%H%M%S')}")
        check_output_folder(run_dir, "--run-dir", may_be_run=True)
    if args.dry_run:
        dry_run(cfg, run_dir, resume=bool(args.resume))
        return
    if cfg.has_trials:
        from gankit.trials.runner import train_trials

        train_trials(cfg, run_dir, resume=bool(args.resume) or restart is not None)
        return
    train(cfg, run_dir, resume=bool(args.resume), restart=restart is not None)


MAX_SEED_LIST = 10_000  # seeds one --seeds may list (train.trials' bound)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``0-9``, ``0,3,7`` or ``0-4,10`` → the seeds, in the order given (an argparse type)."""
    seeds: list[int] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        if not (low.isdigit() and (not dash or high.isdigit())):
            raise argparse.ArgumentTypeError(f"expected seeds like 0-9 or 0,3,7, got {text[:40]!r}")
        first, last = int(low), int(high) if dash else int(low)
        if last < first or len(seeds) + last - first >= MAX_SEED_LIST:
            raise argparse.ArgumentTypeError(
                f"expected an increasing range of at most {MAX_SEED_LIST:,} seeds, got {part.strip()[:40]!r}"
            )
        seeds.extend(range(first, last + 1))
    return tuple(seeds)


def _parse_assignments(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes FIELD=VALUE (e.g. --set g_optim.lr=1e-4), got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        field: getattr(args, flag) for flag, field in SHORTCUTS.items() if getattr(args, flag) is not None
    }
    if args.download:
        overrides["data.download"] = True
    if args.no_progress:
        overrides["train.progress"] = False
    if args.seeds is not None:
        overrides["train.seeds"], overrides["train.trials"] = args.seeds, len(args.seeds)
    overrides.update(_parse_assignments(args.set))
    return overrides


def build_config(recipe: str | None, config_file: str | None, overrides: dict[str, Any]) -> Config:
    """Recipe defaults, then the config file's fields, then the command line's overrides."""
    from gankit.training.choices import check_choices

    file_fields = load_config_file(config_file) if config_file else {}
    name = recipe or convert(file_fields.get("recipe") or DEFAULT_RECIPE, str, "recipe")
    cfg = get_recipe(name)
    if file_fields:
        cfg = Config.from_dict(_merge(cfg.to_dict(), file_fields) | {"recipe": name})
    cfg = check_choices(cfg.override(overrides))
    if cfg.recipe != "custom":
        RECIPES.check(cfg.recipe, "value for recipe:")
    return cfg


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def run_name(text: str, limit: int = 64) -> str:
    """``text`` made safe as one folder name: letters, digits, ``.``, ``_`` and ``-`` only, no leading dot."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:limit].lstrip(".-")
    return name or "run"


def restarted_run(args: argparse.Namespace, overrides: dict[str, Any]) -> Config | None:
    """The saved config of ``--run-dir`` when torchrun restarted this job's workers (``--max-restarts``) after the
    run had started, with the command line's resumable fields; None otherwise (a first start)."""
    from gankit.store.layout import RunPaths
    from gankit.store.resume import RESUMABLE_FIELDS, resume_config
    from gankit.training.distributed import restart_count

    if args.resume or not args.run_dir or not restart_count() or not RunPaths(Path(args.run_dir)).config.is_file():
        return None
    return resume_config(args.run_dir, {k: v for k, v in overrides.items() if k in RESUMABLE_FIELDS})


def dry_run(cfg: Config, run_dir: str, resume: bool = False) -> None:
    """Check a run as ``train`` would before building it (folder, data, memory); print it; write nothing."""
    from gankit.training.dryrun import check_training

    report = check_training(cfg, run_dir, resume)
    print(cfg.to_json())
    print(report)
