"""Trials played together as one vectorised model (``gankit.trials.lockstep``), through the trials runner: each
trial's folder is what its one-trial run writes, up to float rounding; a diverged trial stops alone; resuming is
exact."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

from gankit import train
from gankit.store.layout import RunPaths
from gankit.training.metrics_log import MetricsWriter
from gankit.trials import lockstep
from gankit.trials.runner import train_trials
from tests.helpers import tiny
from tests.trials.test_runner import records, same_state, tensors

# Grouped kernels (a vmapped linear layer is one batched product) round differently from one trial's: after a few
# Adam steps a weight may differ by a few float32 ulps of its update. Compared: every tensor, relative to its size.
RTOL, ATOL = 1e-4, 1e-5
LOSS_RTOL = 1e-4  # the logged losses and means


def together(**overrides):
    base = {"train.trials": 3, "train.trials_mode": "vectorised", "train.checkpoint_every": 2, "train.steps": 4}
    return tiny("pacgan-2d", **base | overrides)


def close_states(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        torch.allclose(a[k].double(), b[k].double(), rtol=RTOL, atol=ATOL)
        if a[k].is_floating_point()
        else a[k].equal(b[k])
        for k in a
    )


def close_records(a: list[dict], b: list[dict]) -> bool:
    def same(x, y):
        return math.isclose(x, y, rel_tol=LOSS_RTOL, abs_tol=1e-6) if isinstance(x, float) else x == y

    return len(a) == len(b) and all(
        r.keys() == s.keys() and all(same(r[k], s[k]) for k in r) for r, s in zip(a, b, strict=True)
    )


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    run = tmp_path_factory.mktemp("together") / "run"
    outcomes = train_trials(together(), run, echo=False)
    return run, outcomes


def test_trials_played_together_write_the_runs_of_their_seeds(played, tmp_path):
    run, outcomes = played
    assert [(o.trial, o.status, o.step) for o in outcomes] == [(k, "done", 4) for k in range(3)]
    assert "3 trials of pacgan-2d, seeds 0–2, together as one vectorised model" in (run / "log.txt").read_text()
    single = tmp_path / "seed2"
    train(tiny("pacgan-2d", **{"train.seed": 2, "train.checkpoint_every": 2, "train.steps": 4}), single, echo=False)
    assert close_states(tensors(run / "trial-02"), tensors(single))
    assert close_records(records(run / "trial-02"), records(single))
    assert sorted(p.name for p in RunPaths(run / "trial-02").samples.iterdir()) == sorted(
        p.name for p in RunPaths(single).samples.iterdir()
    )
    # the comparison can fail: another seed's run is another run
    assert not close_states(tensors(run / "trial-01"), tensors(single))


def test_a_diverged_trial_stops_alone_when_played_together(tmp_path, monkeypatch):
    add = MetricsWriter.add

    def poisoned(self, training, stats, force=False, extra=None):  # trial 1's losses turn NaN at step 2
        if training.cfg.train.seed == 1 and training.step == 2:
            stats = stats | {"d_loss": torch.tensor(float("nan"))}
        add(self, training, stats, force, extra)

    monkeypatch.setattr(MetricsWriter, "add", poisoned)
    run = tmp_path / "run"
    outcomes = train_trials(together(), run, echo=False)
    assert [(o.status, o.step) for o in outcomes] == [("done", 4), ("diverged", 2), ("done", 4)]
    assert "trial 1 (seed 1) diverged at step 2; the other trials train on" in (run / "log.txt").read_text()
    ended = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
    recorded = {(r["trial"], r["status"], r["mode"]) for r in ended}
    assert recorded == {(0, "done", "vectorised"), (1, "diverged", "vectorised"), (2, "done", "vectorised")}
    monkeypatch.setattr(MetricsWriter, "add", add)
    single = tmp_path / "seed2"  # the others stepped on exactly as before the drop
    train(tiny("pacgan-2d", **{"train.seed": 2, "train.checkpoint_every": 2, "train.steps": 4}), single, echo=False)
    assert close_states(tensors(run / "trial-02"), tensors(single))


@pytest.mark.slow  # trains 3 trials twice; the fast lane keeps the exactness and divergence tests
@pytest.mark.parametrize(
    "scheme",
    [{}, {"train.scheme": "optimistic"}, {"train.scheme": "lookahead", "train.lookahead_k": 3}],
    ids=["simultaneous", "optimistic", "lookahead stopped mid-cycle"],
)
def test_resuming_trials_played_together_is_exact(tmp_path, scheme):
    straight = tmp_path / "straight"
    train_trials(together(**{"train.steps": 6} | scheme), straight, echo=False)
    stopped = tmp_path / "stopped"
    train_trials(together(**scheme), stopped, echo=False)
    train_trials(together(**{"train.steps": 6} | scheme), stopped, resume=True, echo=False)
    for k in range(3):
        trial = f"trial-{k:02d}"
        assert same_state(tensors(stopped / trial), tensors(straight / trial)), trial
        assert records(stopped / trial) == records(straight / trial), trial


def test_trials_at_different_steps_are_trained_one_after_another(played, tmp_path, monkeypatch):
    run, _ = played
    calls = []
    monkeypatch.setattr(lockstep, "_play", lambda *a: calls.append(a))
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "trial-01" / "checkpoints" / "step-00000004")  # as if killed between two trials' saves
    outcomes = train_trials(together(), copy, resume=True, echo=False)
    assert not calls and [(o.status, o.step) for o in outcomes] == [("done", 4)] * 3
    assert "trials 0, 1, 2 stand at steps [2, 4]: not played together" in (copy / "log.txt").read_text()
