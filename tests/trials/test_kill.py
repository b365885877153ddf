"""A trials job SIGKILLed inside a checkpoint write (``gankit.store.faults``) resumes to exactly the job never
killed: every trial's weights, optimiser state and records, no checkpoint unreadable, no temporary name left, and
``trials.jsonl`` whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from benchmarks.kill_trials import inspect, leftovers
from gankit.cli import main
from gankit.store.layout import RunPaths, ended_trials
from gankit.trials.runner import train_trials
from tests.helpers import tiny
from tests.trials.test_runner import records, same_state, tensors

pytestmark = pytest.mark.slow  # a gankit process per case, killed


def gankit(*args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GANKIT_FAULT_POINT"}
    env |= {"GANKIT_FAULT_POINT": fault} if fault else {}
    command = [sys.executable, "-m", "gankit", *args, "--no-progress"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "mode, recipe, fault",
    [
        ("sequential", "nsgan", "save:state@5"),  # trial 0 is done (3 checkpoints); trial 1's second is cut short
        ("vectorised", "pacgan-2d", "save:tensors@4"),  # the trials at step 4: trial 0's checkpoint half written
    ],
)
def test_a_trials_job_killed_in_a_checkpoint_resumes_to_the_job_never_killed(tmp_path, capsys, mode, recipe, fault):
    # fp32, not auto: the killed process would pick its precision by the real probe (tests/conftest.py's stand-in
    # serves this process only), which under load once measured bf16 faster (the runs then differ)
    trials = {"train.trials": 3, "train.trials_mode": mode, "train.checkpoint_every": 2, "train.steps": 6}
    cfg = tiny(recipe, **trials, **{"train.precision": "fp32"})
    config = tmp_path / "config.json"
    config.write_text(cfg.to_json())
    straight, run = tmp_path / "straight", tmp_path / "run"
    train_trials(cfg, straight, echo=False)

    killed = gankit("train", "--config", str(config), "--run-dir", str(run), fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0, capsys.readouterr().err  # in this process

    lines = (run / "trials.jsonl").read_text().splitlines()
    assert all(json.loads(line)["status"] == "done" for line in lines)  # whole lines only
    ended = ended_trials(RunPaths(run))  # a trial that ended before the kill is recorded again by the resume
    assert sorted((k, r["status"], r["step"]) for k, r in ended.items()) == [(k, "done", 6) for k in range(3)]
    for k in range(3):
        trial = run / f"trial-{k:02d}"
        assert not inspect(trial) and not leftovers(trial), (inspect(trial), leftovers(trial))
        assert same_state(tensors(trial), tensors(straight / trial.name)), trial.name
        assert records(trial) == records(straight / trial.name), trial.name
