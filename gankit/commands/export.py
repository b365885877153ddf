"""``gankit export``: one trial of a trials run as a standalone run that every command reads."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from gankit.commands import options
from gankit.errors import ConfigError, GankitError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    x = sub.add_parser(
        "export",
        help="copy one trial of a trials run to a folder of its own: a standalone run",
        description="Copy trial K of a trials run (config, log, metrics, samples, checkpoints) to a new folder. "
        "The copy is an ordinary run: sample, grid, eval, report, serve and train --resume read it.",
    )
    options.run_argument(x, help="the trials run (made by gankit train --trials N)")
    options.trial_option(x)
    x.add_argument("--out", required=True, help="the new run folder (must not exist yet)")
    x.set_defaults(func=cmd_export)
    return x


def _skipped(folder: str, names: list[str]) -> list[str]:
    """What a copy leaves out: the lock and what a crash left (temporary and old checkpoint folders)."""
    from gankit.store.checkpoint import LEFTOVER_PREFIXES
    from gankit.store.layout import is_config_temp
    from gankit.store.lock import LOCK_FILE

    return [n for n in names if n == LOCK_FILE or n.startswith(LEFTOVER_PREFIXES) or is_config_temp(n)]


def cmd_export(args: argparse.Namespace) -> None:
    from gankit.store.jsonfiles import fsync_dir
    from gankit.store.outputs import check_output_folder
    from gankit.store.tempfiles import staged

    if args.trial is None:
        raise ConfigError("give the trial to export: gankit export RUN --trial K --out DIR")
    source = Path(options.trial_run(args))
    out = check_output_folder(args.out)
    if out.exists():
        raise ConfigError(f"--out {out} already exists; give a new folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with staged(out, folder=True) as tmp:
            shutil.copytree(source, tmp, ignore=_skipped, symlinks=True, dirs_exist_ok=True)
            os.rename(tmp, out)
    except OSError as e:
        raise GankitError(f"cannot export to {out}: {e.strerror or e}; nothing was written") from None
    fsync_dir(out.parent)
    print(f"exported trial {args.trial} of {args.run} to {out}: a standalone run (e.g. `gankit sample {out}`)")
