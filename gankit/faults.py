"""A test hook that kills this process at a named point, to prove that a SIGKILL there loses nothing.

``GANKIT_FAULT_POINT=NAME`` (or ``NAME@N``: the N-th time) makes :func:`reached` send this process SIGKILL
when it gets to ``NAME``. The points sit in checkpoint writing and pruning and where a run starts
(``tests/test_kill.py``, ``benchmarks/kill_trials.py``). Unset, ``reached`` compares two strings: the
hook costs nothing, and no point is on the per-step path.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "start:locked",  # the run folder exists and is locked; config.json is not written yet
    "start:opened",  # config.json written, no step taken yet
    "save:tensors",  # a checkpoint's tensors written to its temporary folder, state.json not yet
    "save:state",  # both files written and synced, the folder not yet renamed into place
    "save:renamed",  # the checkpoint in place, older ones not yet pruned
    "prune:renamed",  # an old checkpoint renamed out of the way, not yet deleted
    "prune:half-deleted",  # its tensors file deleted, state.json not yet
)

_point, _, _nth = os.environ.get("GANKIT_FAULT_POINT", "").partition("@")
_left = int(_nth or 1)


def reached(point: str) -> None:
    """Kill this process with SIGKILL if ``GANKIT_FAULT_POINT`` names ``point`` (and this is its N-th time)."""
    global _left
    if point == _point:
        _left -= 1
        if _left == 0:
            os.kill(os.getpid(), signal.SIGKILL)
