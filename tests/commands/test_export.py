"""``gankit export``: one trial of a trials run as a standalone run."""

from __future__ import annotations

import json

import numpy as np

from gankit.cli import main
from tests.helpers import snapshot


def test_an_exported_trial_is_a_run_every_command_reads(trials_run, tmp_path, capsys):
    before = snapshot(trials_run)
    out = tmp_path / "trial1"
    assert main(["export", str(trials_run), "--trial", "1", "--out", str(out)]) == 0
    assert f"exported trial 1 of {trials_run} to {out}" in capsys.readouterr().out
    trial = {k.removeprefix("trial-01/"): v for k, v in before.items() if k.startswith("trial-01/")}
    assert snapshot(out) == {k: v for k, v in trial.items() if k != ".lock"}  # all of the trial but its lock
    assert json.loads((out / "config.json").read_text())["train"]["seed"] == 1
    assert main(["sample", str(out), "-n", "3", "--out", str(tmp_path / "a.npz")]) == 0
    assert main(["sample", str(trials_run), "--trial", "1", "-n", "3", "--out", str(tmp_path / "b.npz")]) == 0
    assert np.array_equal(np.load(tmp_path / "a.npz")["images"], np.load(tmp_path / "b.npz")["images"])
    assert main(["sample", str(trials_run), "--trial", "0", "-n", "3", "--out", str(tmp_path / "c.npz")]) == 0
    assert not np.array_equal(np.load(tmp_path / "a.npz")["images"], np.load(tmp_path / "c.npz")["images"])
    assert snapshot(trials_run) == before  # reading and exporting change nothing


def test_export_errors_say_what_to_pass_and_write_nothing(trials_run, cgan_run, tmp_path, capsys):
    out = tmp_path / "x"
    for argv, message in [
        (["export", str(trials_run), "--out", str(out)], "give the trial to export: gankit export RUN --trial K"),
        (["export", str(trials_run), "--trial", "2", "--out", str(out)], "--trial must lie in 0..1"),
        (["export", str(cgan_run), "--trial", "0", "--out", str(out)], "is a single run, not a trials run"),
        (["export", str(trials_run), "--trial", "0", "--out", str(tmp_path)], "already exists; give a new folder"),
        (["export", str(tmp_path / "none"), "--trial", "0", "--out", str(out)], "is not a gankit run"),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("gankit: error:") and message in err, err
    assert not out.exists()
