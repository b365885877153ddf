"""Checkpoints: tensors in safetensors, everything else in JSON; written atomically.

A checkpoint is a folder ``step-00002000/`` holding ``tensors.safetensors`` and ``state.json``. Any
nested state (module and optimiser ``state_dict``s, RNG states, counters) is split by
:func:`flatten_state` into a flat name → tensor map and a JSON tree that points into it. Nothing is
unpickled on load, so loading a checkpoint never runs code. The folder is written under a temporary
name and renamed into place, so a crash leaves either the complete checkpoint or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gankit.errors import CheckpointError

TENSORS_FILE = "tensors.safetensors"
STATE_FILE = "state.json"
FORMAT_VERSION = 1


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


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (nested dicts of tensors and plain values) to the checkpoint folder ``path``, atomically."""
    path = Path(path)
    tensors, tree = flatten_state(state)
    bad = [k for k, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise CheckpointError(f"refusing to write {path}: non-finite values in {', '.join(bad[:5])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{path.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        save_file(tensors, str(tmp / TENSORS_FILE))
        meta = {"format": FORMAT_VERSION, "sha256": _sha256(tmp / TENSORS_FILE), "state": tree}
        with open(tmp / STATE_FILE, "w") as f:
            json.dump(meta, f)
            f.flush()
            os.fsync(f.fileno())
        old = None
        if path.exists():
            old = path.parent / f".old-{path.name}-{os.getpid()}"
            path.rename(old)
        tmp.rename(path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


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
        meta = json.loads((path / STATE_FILE).read_text())
        tree, expected_sha = meta["state"], meta["sha256"]
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"checkpoint {path}: {STATE_FILE} is corrupt ({e})") from None
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
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"checkpoint {path}: cannot read {TENSORS_FILE} ({e})") from None
    try:
        return unflatten_state(tree, tensors)
    except KeyError as e:
        raise CheckpointError(f"checkpoint {path}: tensor {e} named in {STATE_FILE} is missing") from None


def step_dir_name(step: int) -> str:
    return f"step-{step:08d}"


def list_checkpoints(folder: str | Path) -> list[Path]:
    """Complete checkpoint folders under ``folder``, oldest first (temporary folders are ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith("step-") and (p / STATE_FILE).is_file()]
    return sorted(found, key=lambda p: p.name)


def prune_checkpoints(folder: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints, and any temporary folder left by a crash."""
    folder = Path(folder)
    for p in list_checkpoints(folder)[:-keep]:
        shutil.rmtree(p)
    for p in [*folder.glob(".tmp-*"), *folder.glob(".old-*")]:
        shutil.rmtree(p, ignore_errors=True)
