"""Temporary files and folders an output is written under before it is renamed into place.

A temporary lies beside its target (the same file system, so the rename is atomic) and has a name no two
processes share and anyone can recognise: ``.TARGET.PID-TOKEN.gankit-tmp``. While a process writes it, the
process holds an ``flock`` on it; the kernel drops that lock when the process ends in any way (SIGKILL
included). So a temporary nobody holds was left by a killed process, and :func:`remove_stale` removes it:
every staged write first clears the stale temporaries of its folder. Two processes writing the same target at
once each write their own temporary, and the last rename wins: the target is always one complete output.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; stale temporaries are not detected there
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".gankit-tmp"
TEMP_EXTRA = len(f"..{2**22}-{'0' * 8}{TEMP_SUFFIX}")  # bytes a temporary name adds to its target's


def temp_name(target: Path) -> Path:
    """A fresh temporary name beside ``target`` (``.NAME.PID-TOKEN.gankit-tmp``)."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is that of a temporary made here (held by a writer, or left by a killed one)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _locked(path: Path, wait: bool) -> int | None:
    """An open descriptor of ``path`` holding its flock (None: another process holds it, or it is gone)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            os.close(fd)
            return None
    return fd


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()


def remove_stale(folder: Path) -> list[Path]:
    """Remove the temporaries in ``folder`` that no live process holds; return them."""
    if fcntl is None:  # pragma: no cover
        return []
    try:
        names = [entry.name for entry in os.scandir(folder) if is_temp_name(entry.name)]
    except OSError:
        return []
    removed = []
    for name in names:
        fd = _locked(folder / name, wait=False)
        if fd is None:
            continue
        try:
            _remove(folder / name)  # removed while locked: its writer (if it has just made it) sees it gone
            removed.append(folder / name)
        finally:
            os.close(fd)
    return removed


def _make(target: Path, folder: bool) -> tuple[Path, int]:
    """A new temporary beside ``target``, held (its flock taken) by this process: (its path, the descriptor)."""
    remove_stale(target.parent)
    for _ in range(10):
        tmp = temp_name(target)
        if folder:
            os.mkdir(tmp)
        else:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666))
        fd = _locked(tmp, wait=True)
        if fd is not None and _same_file(fd, tmp):
            return tmp, fd
        if fd is not None:  # another process's remove_stale took it between its creation and our lock
            os.close(fd)
    raise OSError(f"cannot take hold of a temporary file beside {target}")


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


@contextlib.contextmanager
def staged(target: Path, folder: bool = False) -> Iterator[Path]:
    """A temporary file (or ``folder``) beside ``target`` to write, held by this process; the caller renames it
    into place before leaving (``gankit.store.outputs.replace``). Whatever is still there at the end is removed."""
    tmp, fd = _make(target, folder)
    try:
        yield tmp
    finally:
        _remove(tmp)
        os.close(fd)
