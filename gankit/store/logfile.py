"""The run's human-readable log: lines to stdout (or above the progress bar) and to ``log.txt``."""

from __future__ import annotations

from pathlib import Path


class RunLog:
    """Human-readable lines to stdout (or above the progress bar) and to ``log.txt``.

    Lines logged before ``attach`` (while the run is being set up) are kept and written on attaching, so
    that a run which fails to start leaves no folder behind.
    """

    def __init__(self, echo: bool = True):
        self.path: Path | None = None
        self.echo, self.bar, self.pending = echo, None, []

    def attach(self, path: Path) -> None:
        self.path = path
        with open(path, "a") as f:
            f.writelines(line + "\n" for line in self.pending)
        self.pending = []

    def __call__(self, message: str) -> None:
        if self.echo:
            (self.bar.write if self.bar is not None else print)(message)
        if self.path is None:
            self.pending.append(message)
        else:
            with open(self.path, "a") as f:
                f.write(message + "\n")
