"""Where commands write: checks of an output path before any work, and atomic writes (temp file + rename).

A run's own files (``config.json``, ``metrics.jsonl``, ``fid.jsonl``, ``log.txt``, a trials run's
``trials.jsonl``, and everything under ``checkpoints/`` and ``samples/``) are never an output: ``gankit report RUN
--out RUN/config.json`` is refused. Other outputs may replace an existing regular file, atomically, never a folder
or a device.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from gankit.errors import GankitError
from gankit.store.layout import RunPaths

RUN_FILES = ("config.json", "metrics.jsonl", "fid.jsonl", "log.txt", "trials.jsonl")
RUN_FOLDERS = ("checkpoints", "samples")
TEMP_EXTRA = 12  # characters a temporary name adds: ".NAME.tmp" and a suffix


class OutputError(GankitError):
    """An output path that cannot or must not be written."""


def owning_run(path: Path) -> tuple[Path, Path] | None:
    """(run folder, path relative to it) if ``path`` lies in a gankit run: a folder with ``config.json``
    and ``checkpoints/`` or ``metrics.jsonl`` (a trials run: ``trial-00/``)."""
    for parent in path.parents:
        paths = RunPaths(parent)
        marked = any(p.exists() for p in (paths.checkpoints, paths.metrics, paths.trial(0)))
        if marked and paths.config.is_file():
            return parent, path.relative_to(parent)
    return None


def is_run_file(path: Path) -> bool:
    """Whether ``path`` is (or would be) one of a run's own files."""
    found = owning_run(Path(os.path.abspath(path)))
    if found is None:
        return False
    _, inner = found
    return (len(inner.parts) == 1 and inner.name in RUN_FILES) or inner.parts[0] in RUN_FOLDERS


def check_output_file(path: str | Path, flag: str = "--out") -> Path:
    """``path`` as a file that may be (re)placed: not a run's file, a folder, a device, or too long a name."""
    path = Path(path)
    try:
        _check_name(path, flag)
        if is_run_file(path):
            raise OutputError(f"{flag} {path} is a file of the run it lies in; write the output elsewhere")
        if path.is_dir():
            raise OutputError(f"{flag} {path} is a folder; give a file name (e.g. {path / 'out'}{path.suffix})")
        if path.exists() and not path.is_file():
            raise OutputError(f"{flag} {path} is not a regular file (a device or a pipe); give a file name")
        _check_parent(path.parent, flag)
    except OSError as e:
        raise OutputError(f"{flag} {path} cannot be used: {e.strerror or e}") from None
    return path


def check_output_folder(path: str | Path, flag: str = "--out") -> Path:
    """``path`` as a folder that receives files: missing, or a folder outside a run's own folders."""
    path = Path(path)
    try:
        _check_name(path, flag)
        if is_run_file(path / "x"):
            raise OutputError(f"{flag} {path} is a folder of a run; write the output elsewhere")
        if path.exists() and not path.is_dir():
            raise OutputError(f"{flag} {path} exists and is not a folder; give a folder (or a FILE.npz)")
        _check_parent(path if path.exists() else path.parent, flag)
    except OSError as e:
        raise OutputError(f"{flag} {path} cannot be used: {e.strerror or e}") from None
    return path


def _check_name(path: Path, flag: str) -> None:
    limit = _name_max(path)
    if any(len(part.encode("utf-8", "surrogateescape")) + TEMP_EXTRA > limit for part in path.parts):
        raise OutputError(f"{flag}: a name in {str(path)[:80]}… is too long (at most {limit - TEMP_EXTRA} bytes)")
    if "\0" in str(path):
        raise OutputError(f"{flag} must not contain NUL characters")


def _name_max(path: Path) -> int:
    existing = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    try:
        return os.pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _check_parent(folder: Path, flag: str) -> None:
    """The nearest existing folder above (or at) ``folder`` must be a writable folder."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise OutputError(f"{flag}: {existing} is a file, not a folder; choose another place")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{flag}: cannot write in {existing} (permission denied); choose another place")


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, renamed over it at the end."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    return path
