"""SIGTERM and Ctrl-C end a command with its clean-ups, one line and exit 128 + the signal (``gankit.signals``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gankit.cli import main
from gankit.signals import Stopped, deferred, stopping_on_signals
from gankit.store import faults
from gankit.store.checkpoint import list_checkpoints, load_checkpoint
from gankit.store.lock import RunLock
from tests.helpers import tiny

REPO = Path(__file__).parents[1]


def test_sigterm_raises_stopped_and_the_previous_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Stopped) as stop, stopping_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # not reached: the handler raises as the kill returns
    assert stop.value.exit_code == 143 and stop.value.line().startswith("stopped by SIGTERM (sent by `kill`")
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_inside_a_deferred_block_stops_at_its_end_and_a_second_one_is_ignored():
    done = []
    with pytest.raises(Stopped) as stop, stopping_on_signals():
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)  # while stopping: ignored
            done.append("the block finished")
        done.append("not reached")
    assert done == ["the block finished"] and stop.value.exit_code == 130
    assert stop.value.line(under_torchrun=True) == "interrupted (Ctrl-C)"


def config_file(tmp: Path, **overrides) -> Path:
    path = tmp / "config.json"
    path.write_text(tiny("nsgan", **overrides).to_json())
    return path


def temporary_names(run: Path) -> list[str]:
    return [p.name for p in run.rglob("*") if p.name.startswith((".tmp", ".old-", ".del-")) or ".tmp" in p.name]


def test_sigterm_while_a_checkpoint_is_written_keeps_it_and_leaves_no_temporary_folder(tmp_path, monkeypatch, capsys):
    """SIGTERM arrives after step 4's tensors are written: the checkpoint is finished, the run stops with one line
    naming it, exit 143 (before: killed on the spot, no line, a ``.tmp-step-00000004-PID`` folder left)."""
    run = tmp_path / "run"
    cfg = config_file(tmp_path, **{"train.steps": 8, "train.checkpoint_every": 2, "train.keep_checkpoints": 2})
    saves = []

    def reached(point: str) -> None:
        saves.append(point)
        if saves.count("save:tensors") == 2 and point == "save:tensors":
            os.kill(os.getpid(), signal.SIGTERM)

    def no_handler(signum, frame):
        raise RuntimeError("SIGTERM reached the test's own handler: gankit installed none")

    monkeypatch.setattr(faults, "reached", reached)
    previous = signal.signal(signal.SIGTERM, no_handler)
    try:
        code = main(["train", "--config", str(cfg), "--run-dir", str(run)])
    finally:
        signal.signal(signal.SIGTERM, previous)
    err = capsys.readouterr().err
    kept = run / "checkpoints" / "step-00000004"
    assert code == 143 and err.count("\n") == 1, err
    assert err.startswith("gankit: stopped by SIGTERM (sent by `kill`, a job scheduler or a supervisor): at step 4; ")
    assert f"the run keeps its last checkpoint, {kept}; `gankit train --resume {run}` continues from it" in err
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == ["step-00000002", "step-00000004"]
    assert load_checkpoint(kept)["step"] == 4 and temporary_names(run) == []
    assert (run / "log.txt").read_text().splitlines()[-1] == err.strip().removeprefix("gankit: ")
    RunLock(run).acquire().release()  # the stopped run released its lock: `--resume` may take it


@pytest.mark.slow
def test_a_training_process_sent_sigterm_says_so_exits_143_and_leaves_no_temporary_folder(tmp_path):
    """A real `gankit train` process (a checkpoint every step) gets SIGTERM once two checkpoints exist."""
    run = tmp_path / "run"
    every_step = {"train.checkpoint_every": 1, "train.log_every": 1, "train.sample_at": ()}
    # fp32: the process runs no precision probe (about a second of its start; precision is not what this test is about)
    cfg = config_file(tmp_path, **every_step, **{"train.steps": 100_000, "train.precision": "fp32"})
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "gankit", "train", "--config", str(cfg), "--run-dir", str(run), "--no-progress"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(list_checkpoints(run / "checkpoints")) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143 and err.count("\n") == 1, err
    line = re.fullmatch(
        r"gankit: stopped by SIGTERM \(sent by `kill`, a job scheduler or a supervisor\): at step (\d+); the run "
        r"keeps its last checkpoint, (.*step-(\d+)); `gankit train --resume .*` continues from it\n",
        err,
    )
    assert line is not None, err
    step, kept, kept_step = int(line[1]), Path(line[2]), int(line[3])
    assert kept == list_checkpoints(run / "checkpoints")[-1] and step - 1 <= kept_step <= step
    assert load_checkpoint(kept)["step"] == kept_step and temporary_names(run) == []
