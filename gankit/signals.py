"""Stopping on a signal: SIGTERM (``kill``, a job scheduler, torchrun stopping its workers) ends a command as
Ctrl-C (SIGINT) does.

Python's default for SIGTERM is to die on the spot: no ``finally`` block runs, so a checkpoint being written
left its ``.tmp-step-*`` folder and the process printed nothing. Inside :func:`stopping_on_signals` (the CLI runs
every command in it) either signal raises :class:`Stopped` at the next Python line instead, so the clean-ups
run (temporary files removed, the run's lock released, TensorBoard flushed), and the CLI prints one line and
exits with 128 + the signal's number (143 for SIGTERM, 130 for Ctrl-C). A signal that arrives inside
:func:`deferred` (writing a checkpoint) is acted on when that block ends, and a second signal while stopping is
ignored, so that the clean-up is not cut short in turn (torchrun sends SIGKILL if a worker takes over 30 s).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(KeyboardInterrupt):
    """A signal stopped this process. ``detail``: where, and what the command kept (the trainer says so)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.detail = ""

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum

    def line(self, under_torchrun: bool = False) -> str:
        """The one line the CLI prints: who stopped the command, then the detail."""
        if self.signum == signal.SIGINT:
            who = "interrupted (Ctrl-C)"
        elif under_torchrun:
            who = (
                "stopped by SIGTERM from torchrun (it stops every worker when one of them dies, or when it is stopped)"
            )
        else:
            who = "stopped by SIGTERM (sent by `kill`, a job scheduler or a supervisor)"
        return f"{who}: {self.detail}" if self.detail else who


class _Stopper:
    """The handler's state: whether a block defers signals, and the signal it held back."""

    def __init__(self) -> None:
        self.deferring = 0
        self.pending: int | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        for s in SIGNALS:  # once stopping, further signals are ignored until the command has ended
            signal.signal(s, signal.SIG_IGN)
        if self.deferring:
            self.pending = signum
            return
        raise Stopped(signum)


_stopper = _Stopper()


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGINT raise :class:`Stopped`; the previous handlers come back on leaving.
    Outside the main thread (where Python cannot set handlers) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, _stopper.handle)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _stopper.pending = None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A block that a signal does not cut short: a signal received inside raises :class:`Stopped` as it ends."""
    _stopper.deferring += 1
    try:
        yield
    finally:
        _stopper.deferring -= 1
    if not _stopper.deferring and _stopper.pending is not None:
        signum, _stopper.pending = _stopper.pending, None
        raise Stopped(signum)
