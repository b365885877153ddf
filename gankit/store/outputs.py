"""Where commands write: checks of an output path before any work, and atomic writes (temporary + rename).

Outputs are checked by the file they land on, not by how the path is spelled: the folders of the path are
resolved (symbolic links, ``..``), and a run is recognised by what its folder holds
(``gankit.store.layout.is_run_folder``). Inside a run an output may only be one of gankit's own outputs at
the run's top (``eval.json``, ``report.html``, ``grid-*.png``, ``animation-*.gif``), or a new name there that
is not one the run writes (``config.json``, ``log.txt``, ``metrics.jsonl``, ``events.out.tfevents.*``,
``checkpoints``, a hidden name, …). Every other file of a run, and everything in its folders, is never an
output: ``gankit report RUN --out RUN/.lock`` is refused, and so is ``--out LINK/state.json`` with ``LINK`` a
symbolic link to a checkpoint. An output is never a symbolic link, a folder, a device or a file with other
hard links: it is replaced by renaming a new file over it, which must replace nothing but a regular file.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path

from gankit.errors import GankitError
from gankit.store.jsonfiles import fsync_dir
from gankit.store.layout import is_run_folder
from gankit.store.tempfiles import TEMP_EXTRA, staged

RUN_OUTPUTS = ("eval.json", "report.html", "grid-*.png", "animation-*.gif")  # what commands write in a run by default
RUN_NAMES = ("config.json", "metrics.jsonl", "fid.jsonl", "log.txt", "trials.jsonl", "checkpoints", "samples")
RUN_PATTERNS = (".*", "events.out.tfevents.*", "trial-*")  # hidden files (the lock, temporaries), TensorBoard


class OutputError(GankitError):
    """An output path that cannot or must not be written."""


def resolved(path: Path) -> Path:
    """``path`` with its folders resolved (links, ``..``), its last name kept as it is."""
    return Path(os.path.realpath(path.parent)) / path.name


def owning_run(path: Path) -> tuple[Path, Path] | None:
    """(run folder, ``path`` relative to it) for the nearest run folder above ``path`` (resolved), or None."""
    for parent in path.parents:
        if is_run_folder(parent):
            return parent, path.relative_to(parent)
    return None


def run_file(path: Path) -> Path | None:
    """The run whose own file (or folder) ``path`` is, or would be; None if writing it harms no run."""
    path = resolved(Path(os.path.abspath(path)))
    found = owning_run(path)
    if found is None:
        return None
    root, inner = found
    if len(inner.parts) > 1:  # inside one of the run's folders
        return root
    name = inner.name
    if any(fnmatch.fnmatchcase(name, p) for p in RUN_OUTPUTS) and not os.path.isdir(path):
        return None
    taken = os.path.lexists(path) or name in RUN_NAMES or any(fnmatch.fnmatchcase(name, p) for p in RUN_PATTERNS)
    return root if taken else None


def is_run_file(path: str | Path) -> bool:
    """Whether ``path`` is (or would be) one of a run's own files."""
    return run_file(Path(path)) is not None


def check_output_file(path: str | Path, flag: str = "--out", replace: bool = True) -> Path:
    """``path`` as a file that may be (re)placed: not a run's file, a folder, a device, a symbolic link, a file
    with other hard links, or too long a name; and, unless ``replace`` (a command's ``--force``), not there yet."""
    path = _nonempty(path, flag)
    try:
        run = run_file(path)
        if run is not None:
            raise OutputError(
                f"{flag} {path} is a file of the run {run}; write the output elsewhere (in a run gankit "
                f"replaces only {', '.join(RUN_OUTPUTS)} and writes new names at its top)"
            )
        _check_parent(path.parent, flag)
        _check_replaceable(path, flag)
    except OSError as e:
        raise OutputError(f"{flag} {path} cannot be used: {e.strerror or e}") from None
    if not replace and path.exists():
        raise OutputError(f"{flag} {path} exists: add --force to replace it, or give another name")
    return path


def _check_replaceable(path: Path, flag: str) -> None:
    """``path`` is missing or a regular file with no other hard link: what a rename may replace."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(
            f"{flag} {path} is a symbolic link (to {os.readlink(path)}); give the file itself or another name"
        )
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{flag} {path} is a folder; give a file name (e.g. {path / 'out'}{path.suffix})")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{flag} {path} is not a regular file (a device or a pipe); give a file name")
    if st.st_nlink > 1:
        raise OutputError(
            f"{flag} {path} has {st.st_nlink - 1} other hard link(s), perhaps into a run; replacing it would cut "
            "them: remove it first or give another name"
        )


def check_output_folder(path: str | Path, flag: str = "--out", may_be_run: bool = False) -> Path:
    """``path`` as a folder that receives files: missing, or a folder; neither a run (unless ``may_be_run``:
    ``train --run-dir``) nor in one, except a new folder at a run's top whose name the run does not use."""
    path = _nonempty(path, flag)
    try:
        real = Path(os.path.realpath(path))
        if is_run_folder(real) and not may_be_run:
            raise OutputError(f"{flag} {path} is the folder of a run; write the output elsewhere")
        found = owning_run(real)
        if found is not None and (os.path.lexists(real) or run_file(real) is not None):
            raise OutputError(f"{flag} {path} is a folder of a run ({found[0]}); write the output elsewhere")
        if path.exists() and not path.is_dir():
            raise OutputError(f"{flag} {path} exists and is not a folder; give a folder (or a FILE.npz)")
        _check_parent(path if path.exists() else path.parent, flag)
    except OSError as e:
        raise OutputError(f"{flag} {path} cannot be used: {e.strerror or e}") from None
    return path


def _nonempty(path: str | Path, flag: str) -> Path:
    """``path`` as a Path whose names are checked; an empty ``path`` is an error (``Path("")`` would be ".")."""
    if not str(path):
        raise OutputError(f"{flag} is empty; give a path")
    path = Path(path)
    _check_name(path, flag)
    return path


def _check_name(path: Path, flag: str) -> None:
    if "\0" in str(path):
        raise OutputError(f"{flag} must not contain NUL characters")
    limit = _name_max(path)
    if any(len(part.encode("utf-8", "surrogateescape")) + TEMP_EXTRA > limit for part in path.parts):
        raise OutputError(f"{flag}: a name in {str(path)[:80]}… is too long (at most {limit - TEMP_EXTRA} bytes)")


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


def write_atomic(path: str | Path, data: str | bytes, *, fsync: bool) -> Path:
    """Replace ``path`` by ``data`` (UTF-8 if text) atomically: written under a temporary name beside it
    (``gankit.store.tempfiles``: a crash leaves only a name the next write removes), renamed over it at the end.
    ``fsync``: sync the file before the rename and the folder after it, so that a power loss leaves the old file
    or the new one. ``path`` must be missing or a regular file (never a link, folder or device)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with staged(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
                if fsync:
                    f.flush()
                    os.fsync(f.fileno())
            replace(tmp, path)
        if fsync:
            fsync_dir(path.parent)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def replace(tmp: Path, path: Path) -> None:
    """Rename the written temporary ``tmp`` over ``path``, which must be missing or a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) else "a device or pipe"
        raise OutputError(f"{path} is {kind}, not a regular file: nothing was replaced; give another name")
    os.replace(tmp, path)
