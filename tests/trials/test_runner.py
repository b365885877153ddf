"""Trials runs trained one after another: each trial is exactly the one-trial run of its seed, a diverged trial
stops alone, and resuming continues every trial (``gankit.trials.runner``)."""

from __future__ import annotations

import json
import shutil

import pytest
from safetensors.torch import load_file

from gankit import train
from gankit.errors import ConfigError, TrainingDiverged
from gankit.store.checkpoint import list_checkpoints
from gankit.store.layout import RunPaths
from gankit.trials.runner import train_trials
from tests.helpers import tiny

TIMING = ("elapsed_s", "images_per_s")  # the only fields of a metrics record that two equal runs may differ in


def trials_cfg(**overrides):
    base = {"train.trials": 3, "train.checkpoint_every": 2, "train.trials_mode": "sequential"}
    return tiny("nsgan", **base | overrides)


def tensors(run) -> dict:
    return load_file(list_checkpoints(RunPaths(run).checkpoints)[-1] / "tensors.safetensors")


def records(run) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMING} for line in lines]


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].equal(b[k]) for k in a)


@pytest.fixture(scope="module")
def trials_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("trials") / "run"
    outcomes = train_trials(trials_cfg(), run, echo=False)
    return run, outcomes


def test_each_trial_is_the_one_trial_run_of_its_seed(trials_run, tmp_path):
    run, outcomes = trials_run
    assert [(o.trial, o.seed, o.status, o.step) for o in outcomes] == [(k, k, "done", 4) for k in range(3)]
    single = tmp_path / "seed1"
    train(tiny("nsgan", **{"train.seed": 1, "train.checkpoint_every": 2}), single, echo=False)
    assert same_state(tensors(run / "trial-01"), tensors(single))  # bit for bit: the same run
    assert records(run / "trial-01") == records(single)
    # the comparison can fail: another seed's run is another run
    assert not same_state(tensors(run / "trial-00"), tensors(single))
    assert records(run / "trial-00") != records(single)


def test_the_folder_holds_the_trials_config_log_and_record(trials_run):
    run, _ = trials_run
    saved = json.loads((run / "config.json").read_text())
    trial = json.loads((run / "trial-02" / "config.json").read_text())
    assert (saved["train"]["trials"], trial["train"]["trials"], trial["train"]["seed"]) == (3, 1, 2)
    assert trial | {"train": None} == saved | {"train": None}  # only the seed and the trial count differ
    ended = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
    recorded = [(r["trial"], r["seed"], r["status"], r["step"], r["mode"]) for r in ended]
    assert recorded == [(k, k, "done", 4, "sequential") for k in range(3)]
    log = (run / "log.txt").read_text()
    assert "3 trials of nsgan, seeds 0–2, one after another" in log and "trials: 3 done, 0 diverged" in log


def diverging(seeds: set[int]):
    """A trainer whose trials with these seeds diverge at step 3 (the others train as usual)."""

    def train_one(cfg, folder, resume=False, echo=True):
        if cfg.train.seed in seeds:
            raise TrainingDiverged("training diverged: d_loss=nan in steps 2–3", step=3)
        return train(cfg, folder, resume=resume, echo=echo)

    return train_one


def test_a_diverged_trial_is_recorded_and_the_others_train_on(tmp_path):
    run = tmp_path / "run"
    outcomes = train_trials(trials_cfg(), run, echo=False, train_one=diverging({1}))
    assert [(o.status, o.step) for o in outcomes] == [("done", 4), ("diverged", 3), ("done", 4)]
    assert "trial 1 (seed 1) diverged at step 3; the other trials train on" in (run / "log.txt").read_text()
    record = json.loads((run / "trials.jsonl").read_text().splitlines()[1])
    assert (record["trial"], record["status"], record["step"]) == (1, "diverged", 3)
    # resuming for more steps continues the healthy trials and skips the diverged one
    again = train_trials(trials_cfg(**{"train.steps": 6}), run, resume=True, echo=False)
    assert [(o.status, o.step) for o in again] == [("done", 6), ("diverged", 3), ("done", 6)]
    assert "trial 1 (seed 1) diverged at step 3 earlier: skipped" in (run / "log.txt").read_text()
    # resuming a finished run ends each trial again at the same step: trials.jsonl gains no repeated record
    ended = (run / "trials.jsonl").read_text().splitlines()
    assert len(ended) == 5  # 3 from the first call, the two healthy trials' step-6 records from the second
    train_trials(trials_cfg(**{"train.steps": 6}), run, resume=True, echo=False)
    assert (run / "trials.jsonl").read_text().splitlines() == ended


def test_the_job_fails_only_when_every_trial_diverged(tmp_path):
    with pytest.raises(TrainingDiverged, match=r"every trial diverged \(trial 0 at step 3, trial 1 at step 3"):
        train_trials(trials_cfg(**{"train.trials": 2}), tmp_path / "run", echo=False, train_one=diverging({0, 1}))


@pytest.mark.slow  # trains 3 + 3 + 3 runs; the fast lane keeps the exactness and divergence tests
def test_resuming_continues_every_trial_as_a_run_never_stopped(trials_run, tmp_path):
    straight = tmp_path / "straight"
    train_trials(trials_cfg(**{"train.steps": 6}), straight, echo=False)
    stopped = tmp_path / "stopped"
    train_trials(trials_cfg(), stopped, echo=False)
    shutil.rmtree(stopped / "trial-02")  # as if the job was killed before trial 2 started
    outcomes = train_trials(trials_cfg(**{"train.steps": 6}), stopped, resume=True, echo=False)
    assert [(o.status, o.step) for o in outcomes] == [("done", 6)] * 3
    for k in range(3):
        trial = f"trial-{k:02d}"
        assert same_state(tensors(stopped / trial), tensors(straight / trial)), trial
        assert records(stopped / trial) == records(straight / trial), trial


def test_a_single_run_config_is_not_a_trials_run(tmp_path):
    with pytest.raises(ConfigError, match="set train.trials > 1 or train.seeds"):
        train_trials(tiny("nsgan"), tmp_path / "run", echo=False)


# Trials split over torchrun's processes: tests/training/test_distributed.py (one torchrun job for all its runs)
