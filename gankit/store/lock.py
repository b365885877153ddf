"""One writer per run: an exclusive lock on the run folder, held while a process trains or resumes it.

The lock is ``flock`` on ``RUN/.lock``. The kernel releases it when the process ends in any way (SIGKILL and
power loss included), so a lock left by a dead process is never in the way: there is nothing stale to
detect or clean. Readers (``sample``, ``report``, ``eval``) take no lock. Under torchrun only rank 0 owns
the run folder, and it alone takes the lock (``with RunLock(root): …``).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from gankit.errors import CheckpointError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; runs are not locked there
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"


class RunLock:
    """The exclusive lock on run folder ``root`` (which must exist); a :class:`CheckpointError` if it is held."""

    def __init__(self, root: Path):
        self.path = Path(root) / LOCK_FILE
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self) -> RunLock:
        """Take the lock now, or fail at once (never wait) saying that another process writes the run."""
        if self.fd is not None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as e:
            raise CheckpointError(
                f"cannot lock the run {self.path.parent}: {e.strerror or e} ({self.path}); "
                "a run is trained in a folder this user can write"
            ) from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise CheckpointError(
                f"{self.path.parent} is being written by another gankit process (it holds {self.path}); "
                "wait for it to finish or stop it: two writers would corrupt the run"
            ) from None
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the only descriptor releases the flock
            self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
