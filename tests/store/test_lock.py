"""One writer per run: the lock on the run folder (flock), released on any exit, a SIGKILL included."""

import json
import os
import signal
import subprocess
import sys

import pytest

from gankit.cli import main
from gankit.errors import CheckpointError, DataError
from gankit.store.lock import RunLock
from gankit.store.resume import resume_config
from gankit.training.trainer import train
from tests.helpers import tiny


def _snapshot(run):
    return {p: (p.read_bytes() if p.is_file() else None) for p in sorted(run.rglob("*"))}


def test_a_second_writer_is_refused_and_changes_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    train(tiny("nsgan"), run, echo=False)
    before = _snapshot(run)
    with RunLock(run):  # another process training the run
        with pytest.raises(CheckpointError, match="being written by another gankit process"):
            train(resume_config(run, {"train.steps": 6}), run, resume=True, echo=False)
        assert main(["train", "--resume", str(run), "--steps", "6", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and "wait for it to finish or stop it" in err
    assert _snapshot(run) == before


def test_a_start_that_loses_the_race_for_a_folder_writes_nothing(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with RunLock(run), pytest.raises(CheckpointError, match="being written by another gankit process"):
        train(tiny("nsgan"), run, echo=False)  # passed the first check (empty folder), then met the lock
    assert [p.name for p in run.iterdir()] == [".lock"]


def test_the_lock_is_released_when_training_ends_or_fails(tmp_path):
    run = tmp_path / "run"
    train(tiny("nsgan"), run, echo=False)
    RunLock(run).acquire().release()
    with pytest.raises(DataError, match="MNIST files not found"):
        train(resume_config(run, {"data.dir": "/nonexistent"}), run, resume=True, echo=False)
    with RunLock(run) as lock:
        assert lock.held


@pytest.mark.slow
def test_the_lock_of_a_killed_process_is_released_by_the_kernel(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from gankit.store.lock import RunLock; "
            "RunLock(sys.argv[1]).acquire(); print('locked', flush=True); time.sleep(120)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(CheckpointError, match="another gankit process"):
            RunLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with RunLock(tmp_path) as lock:  # nothing stale to clean: the kernel dropped the dead process's flock
        assert lock.held


@pytest.mark.slow
def test_two_trains_started_together_on_one_folder(tmp_path):
    """Before the lock both passed the check and wrote duplicate records; now exactly one trains the run."""
    argv = [sys.executable, "-m", "gankit", "train", "--run-dir", str(tmp_path / "run"), "--recipe", "nsgan"]
    argv += ["--steps", "6", "--batch-size", "16", "--no-progress", "--set", "data.limit=64"]
    argv += ["--set", "train.log_every=1", "--set", "train.checkpoint_every=1", "--set", "train.tensorboard=false"]
    argv += ["--set", "train.precision=fp32"]  # no precision probe (seconds of the winner's start)
    procs = [subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) for _ in range(2)]
    results = sorted((p.wait(timeout=300), p.stderr.read()) for p in procs)
    assert [code for code, _ in results] == [0, 2], results
    err = results[1][1]
    assert err.startswith("gankit: error:") and ("already holds a run" in err or "another gankit process" in err)
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_a_run_folder_that_cannot_be_made_or_locked_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="cannot make the run folder"):
        train(tiny("nsgan"), tmp_path / "file" / "run", echo=False)
    run = tmp_path / "run"
    train(tiny("nsgan"), run, echo=False)
    (run / ".lock").unlink()
    (run / ".lock").mkdir()  # stands for any lock file that cannot be opened (a read-only folder, …)
    with pytest.raises(CheckpointError, match="cannot lock the run"):
        train(resume_config(run, {"train.steps": 6}), run, resume=True, echo=False)
