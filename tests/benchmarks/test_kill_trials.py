"""The fault-injection test of issues 14 and 26: a run SIGKILLed at many moments loses nothing (about 25 s).

Its runs train 20 steps instead of the script's 40 (10 checkpoints, 8 prunes): each fault point is still
reached at an occurrence the seed draws, and the random moments span a run just as long in checkpoints."""

import pytest

from benchmarks import kill_trials
from gankit.store.faults import POINTS

pytestmark = pytest.mark.slow  # the full lane only (pytest -m 'not slow' skips it)


def test_a_run_killed_anywhere_resumes_to_the_weights_of_a_run_never_killed(tmp_path):
    """Also: no TensorBoard (tag, step) stored twice after resuming, and `gankit sample` killed at random moments
    leaves no temporary file and no partial output (3 sample trials)."""
    summary, trials = kill_trials.kill_trials(len(POINTS) + 9, seed=0, workdir=tmp_path, steps=20, sample_trials=3)
    failed = [t for t in trials if t.failed]
    assert not failed, failed
    assert summary.sample_trials == 3 and summary.samples_killed >= 2 and summary.samples_equal == 3
    points = [t for t in trials if t.kind == "point"]
    assert {t.fault.split("@")[0] for t in points} == set(POINTS)
    assert all(t.killed for t in points)  # every point was reached, and the process died there
    assert summary.killed >= len(POINTS) + 3 and summary.before_first_checkpoint >= 2  # start:locked, start:opened
    assert summary.equal_to_straight_run == summary.trials - summary.sample_trials
