"""A test hook that kills this process at a named point, to prove that a SIGKILL there loses nothing.

``GANKIT_FAULT_POINT=NAME`` (or ``NAME@N``: the N-th time) makes :func:`reached` send this process SIGKILL
when it gets to ``NAME``. The points sit in checkpoint writing and pruning and where a run starts
(``benchmarks/kill_trials.py`` and its test). The variable is read when a point is reached, so that a
process forked after importing gankit can still be armed. Unset, ``reached`` is one environment lookup,
and no point is on the per-step path: checkpoints and the start only.
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

_reached: dict[str, int] = {}


def reached(point: str) -> None:
    """Kill this process with SIGKILL if ``GANKIT_FAULT_POINT`` names ``point`` (and this is its N-th time)."""
    wanted = os.environ.get("GANKIT_FAULT_POINT")
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name == point:
        _reached[point] = _reached.get(point, 0) + 1
        if _reached[point] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
