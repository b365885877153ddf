"""Checkpoints: tensors in safetensors, everything else in JSON; written atomically.

A checkpoint is a folder ``step-00002000/`` holding ``tensors.safetensors`` and ``state.json``. Any
nested state (module and optimiser ``state_dict``s, RNG states, counters) is split by
:func:`flatten_state` into a flat name → tensor map and a JSON tree that points into it. Nothing is
unpickled on load, so loading a checkpoint never runs code. The folder is written under a temporary
name, synced and renamed into place, so a crash leaves either the complete checkpoint or none; it is
removed the same way (renamed out of the list, then deleted). What the state must hold is checked by
``gankit.store.state_schema``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gankit.errors import CheckpointError
from gankit.store import faults
from gankit.store.finite import nonfinite
from gankit.store.jsonfiles import fsync_dir, parse_json

TENSORS_FILE = "tensors.safetensors"
STATE_FILE = "state.json"
FORMAT_VERSION = 1
CHECKPOINT_NAME = re.compile(r"step-[0-9]{8,}")  # ASCII digits only (int() would read others)
LEFTOVER_PREFIXES = (".tmp-", ".old-", ".del-")


def _join(path: str, key: object) -> str:
    return f"{path}/{key}" if path else str(key)


def flatten_state(obj: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Split nested dicts/lists/tuples into (tensors by path, JSON-able tree with ``{"$tensor": path}``).

    Dicts whose keys are not all strings (e.g. an optimiser's per-parameter state, keyed by int) are
    stored as ``{"$items": [[key, value], …]}`` so that their keys come back with their types, and tuples
    as ``{"$tuple": […]}``, so that the state loaded back equals the state saved.
    """
    tensors: dict[str, torch.Tensor] = {}

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, torch.Tensor):
            tensors[path] = value.detach().cpu().contiguous().clone()
            return {"$tensor": path}
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {k: walk(v, _join(path, k)) for k, v in value.items()}
            return {"$items": [[k, walk(v, _join(path, k))] for k, v in value.items()]}
        if isinstance(value, tuple):
            return {"$tuple": [walk(v, _join(path, i)) for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [walk(v, _join(path, i)) for i, v in enumerate(value)]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"cannot store {type(value).__name__} at {path!r} in a checkpoint")

    tree = walk(obj, prefix)
    return tensors, tree


def unflatten_state(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`flatten_state`."""
    if isinstance(tree, dict):
        if set(tree) == {"$tensor"}:
            return tensors[tree["$tensor"]]
        if set(tree) == {"$tuple"}:
            return tuple(unflatten_state(v, tensors) for v in tree["$tuple"])
        if set(tree) == {"$items"}:
            return {k: unflatten_state(v, tensors) for k, v in tree["$items"]}
        return {k: unflatten_state(v, tensors) for k, v in tree.items()}
    if isinstance(tree, list):
        return [unflatten_state(v, tensors) for v in tree]
    return tree


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (nested dicts of tensors and plain values) to the checkpoint folder ``path``, atomically.

    Both files are synced, then their folder, before it is renamed into place (and the parent synced), so
    that neither a crash nor a power loss leaves a checkpoint that is in place but incomplete.
    """
    path = Path(path)
    tensors, tree = flatten_state(state)
    bad = nonfinite(tensors)
    if bad:
        raise CheckpointError(f"refusing to write {path}: non-finite values in {', '.join(bad[:5])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{path.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_files(tmp, tensors, tree)
        old = None
        if path.exists():
            old = path.parent / f".old-{path.name}-{os.getpid()}"
            path.rename(old)
        tmp.rename(path)
        fsync_dir(path.parent)
        faults.reached("save:renamed")
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _write_files(folder: Path, tensors: dict[str, torch.Tensor], tree: Any) -> None:
    """The tensors and state.json in ``folder``, synced, with the same mode (safetensors writes 0600)."""
    save_file(tensors, str(folder / TENSORS_FILE))
    _sync_file(folder / TENSORS_FILE)
    faults.reached("save:tensors")
    meta = {"format": FORMAT_VERSION, "sha256": _sha256(folder / TENSORS_FILE), "state": tree}
    with open(folder / STATE_FILE, "w") as f:  # created with the umask's mode, e.g. 0644
        json.dump(meta, f)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(folder / TENSORS_FILE, stat.S_IMODE(os.stat(folder / STATE_FILE).st_mode))
    fsync_dir(folder)
    faults.reached("save:state")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint folder written by :func:`save_checkpoint`; a clear error if missing or corrupt."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(
            f"checkpoint {path} does not exist (expected a folder with {TENSORS_FILE} and {STATE_FILE})"
        )
    for name in (TENSORS_FILE, STATE_FILE):
        if not (path / name).is_file():
            raise CheckpointError(f"checkpoint {path} is incomplete: {name} is missing")
    try:
        meta = parse_json((path / STATE_FILE).read_bytes(), "it")
    except CheckpointError as e:
        raise CheckpointError(f"checkpoint {path}: {STATE_FILE} is corrupt: {e}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str) or "state" not in meta:
        raise CheckpointError(f"checkpoint {path}: {STATE_FILE} is corrupt (no sha256 and state fields)")
    tree, expected_sha = meta["state"], meta["sha256"]
    if meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format {meta.get('format')!r}; this gankit reads format {FORMAT_VERSION}"
        )
    if _sha256(path / TENSORS_FILE) != expected_sha:
        raise CheckpointError(
            f"checkpoint {path}: {TENSORS_FILE} does not match the checksum in "
            f"{STATE_FILE}; the file is corrupt or was replaced"
        )
    try:
        tensors = load_file(str(path / TENSORS_FILE), device=str(map_location))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"checkpoint {path}: cannot read {TENSORS_FILE} ({e})") from None
    try:
        return unflatten_state(tree, tensors)
    except KeyError as e:
        raise CheckpointError(f"checkpoint {path}: tensor {e} named in {STATE_FILE} is missing") from None
    except (TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"checkpoint {path}: {STATE_FILE} is corrupt ({e})") from None


def step_dir_name(step: int) -> str:
    """The folder name of the checkpoint at ``step``: ``step-`` and at least 8 digits (more from step 10⁸ on)."""
    return f"step-{step:08d}"


def checkpoint_step(path: str | Path) -> int | None:
    """The step a checkpoint folder's name says (``step-00002000`` → 2000), or None for any other name."""
    name = Path(path).name
    return int(name[len("step-") :]) if CHECKPOINT_NAME.fullmatch(name) else None


def list_checkpoints(folder: str | Path) -> list[Path]:
    """Complete checkpoint folders under ``folder`` (named ``step-NNNNNNNN``, both files present), oldest first.

    Sorted by step, not by name: ``step-100000000`` comes after ``step-99999998``.

    Folders being written (``.tmp-*``), replaced (``.old-*``) or deleted (``.del-*``) are never listed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.iterdir()
        if CHECKPOINT_NAME.fullmatch(p.name) and (p / STATE_FILE).is_file() and (p / TENSORS_FILE).is_file()
    ]
    return sorted(found, key=lambda p: (checkpoint_step(p), p.name))


def remove_checkpoint(path: Path) -> None:
    """Delete a checkpoint folder as atomically as it was written: renamed out of the list first, then deleted."""
    doomed = path.parent / f".del-{path.name}-{os.getpid()}"
    path.rename(doomed)
    faults.reached("prune:renamed")
    (doomed / TENSORS_FILE).unlink(missing_ok=True)
    faults.reached("prune:half-deleted")
    shutil.rmtree(doomed)


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Delete what a crash left in a checkpoints folder (temporary, replaced and half-deleted folders).

    Only the process that holds the run's lock may call this: another writer's folders look the same.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    leftovers = [p for p in folder.iterdir() if p.name.startswith(LEFTOVER_PREFIXES)]
    for p in leftovers:
        shutil.rmtree(p, ignore_errors=True)
    return leftovers


def prune_checkpoints(folder: str | Path, keep: int, spare: Path | None = None) -> None:
    """Delete all but the newest ``keep`` checkpoints (and ``spare``), and any temporary folder left by a crash."""
    folder = Path(folder)
    old = [p for p in list_checkpoints(folder)[:-keep] if p != spare]
    for p in old:
        remove_checkpoint(p)
    if old:
        fsync_dir(folder)
    remove_leftovers(folder)
