"""Bad input to every command: one clear ``gankit: error:`` line, exit status 2, and nothing written."""

import os

import pytest

from gankit.cli import main
from tests.commands.helpers import error_line
from tests.helpers import snapshot


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--recipe", "wgan_gp"], "unknown recipe 'wgan_gp'"),
        (["train", "--set", "g_optim.lr=-1"], "g_optim.lr must be positive"),
        (["train", "--set", "train.n_critic=0"], "train.n_critic must be at least 1"),
        (["train", "--set", "train.g_steps=0"], "train.g_steps must be at least 1"),
        (["train", "--set", "train.g_steps=2", "--set", "train.scheme=simultaneous"], "needs a scheme that alternates"),
        (["train", "--set", "train.g_noise=same"], "train.g_noise"),
        (["train", "--set", "train.stepz=3"], "Did you mean 'train.steps'"),
        (["train", "--set", "lr"], "--set takes FIELD=VALUE"),
        (["train", "--steps", "2", "--data-dir", "/nonexistent/mnist"], "/nonexistent/mnist"),
        (["sample", "/nonexistent/run", "--out", "x.npz"], "not a gankit run"),
        (["train", "--resume", "/nonexistent/run"], "not a gankit run"),
    ],
)
def test_bad_input_gives_a_clear_error_and_exit_code_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # a run that fails to start leaves no folder behind


@pytest.mark.parametrize(
    "argv,message",
    [
        (["report", "{run}", "--out", "{run}/config.json"], "is a file of the run"),
        (["report", "{run}", "--out", "{run}/metrics.jsonl"], "is a file of the run"),
        (["report", "{run}", "--out", "{checkpoint}/state.json"], "is a file of the run"),
        (["report", "{run}", "--out", "{checkpoint}/tensors.safetensors"], "is a file of the run"),
        (["eval", "{run}", "--out", "{run}/config.json"], "is a file of the run"),
        (["eval", "--real", "--out", "{run}/log.txt"], "is a file of the run"),
        (["sample", "{run}", "--out", "{run}/checkpoints"], "is a folder of a run"),
        (["sample", "{run}", "--out", "{run}/samples/x.npz"], "is a file of the run"),
        (["grid", "{run}", "--by", "class", "--out", "{run}/samples/step-00000000.png"], "is a file of the run"),
        (["report", "{run}", "--out", "/dev/null"], "is not a regular file"),
        (["report", "{run}", "--out", "{tmp}"], "is a folder; give a file name"),
        (["eval", "{run}", "--out", "{tmp}/" + "x" * 300 + ".json"], "is too long"),
        (["report", "{run}", "--out", "{tmp}/file/r.html"], "is a file, not a folder"),
        (["sample", "{run}", "--out", "{tmp}/file"], "exists and is not a folder"),
        (["demo", "bilinear", "--out", "{tmp}/file"], "exists and is not a folder"),
        # issue 26: by the file a path lands on (S1), every file of a run (S2–S4), never over a link (S7)
        (["report", "{run}", "--out", "{tmp}/to-step/state.json"], "is a file of the run"),
        (["eval", "{run}", "--out", "{tmp}/to-step/state.json"], "is a file of the run"),
        (["report", "{run}", "--out", "{tmp}/to-checkpoints/{step}/tensors.safetensors"], "is a file of the run"),
        (["sample", "{run}", "--out", "{tmp}/to-step/"], "is a folder of a run"),
        (["report", "{run}", "--out", "{tmp}/hard"], "other hard link(s), perhaps into a run"),
        (["report", "{run}", "--out", "{run}/.lock"], "is a file of the run"),
        (["eval", "--real", "--out", "{run}/.lock"], "is a file of the run"),
        (["report", "{run}", "--out", "{events}"], "is a file of the run"),
        (["report", "{run}", "--out", "{tmp}/young/config.json"], "is a file of the run"),
        (["report", "{run}", "--out", "{tmp}/young/log.txt"], "is a file of the run"),
        (["report", "{run}", "--out", "{tmp}/stdout"], "is a symbolic link (to "),
        (["eval", "{run}", "--out", "{tmp}/file.json"], "exists: add --force to replace it"),
    ],
)
def test_outputs_never_overwrite_a_run_and_bad_paths_get_a_clear_error(cgan_run, tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("x")
    (tmp_path / "file.json").write_text("x")
    checkpoint = sorted((cgan_run / "checkpoints").iterdir())[-1]
    (tmp_path / "to-step").symlink_to(checkpoint)
    (tmp_path / "to-checkpoints").symlink_to(checkpoint.parent)
    os.link(cgan_run / "log.txt", tmp_path / "hard")
    (tmp_path / "stdout").symlink_to(tmp_path / "file")  # as /dev/stdout is, to the file stdout goes to
    (tmp_path / "young").mkdir()  # a run that has just started: no checkpoint, no metrics yet
    for name in (".lock", "config.json", "log.txt"):
        (tmp_path / "young" / name).write_text("{}")
    young = snapshot(tmp_path / "young")
    events = next(cgan_run.glob("events.out.tfevents.*"), cgan_run / "events.out.tfevents.0.host.1.0")
    before = snapshot(cgan_run)
    names = {"run": cgan_run, "checkpoint": checkpoint, "tmp": tmp_path, "step": checkpoint.name, "events": events}
    filled = [a.format(**names) for a in argv]
    assert main(filled) == 2
    assert message in error_line(capsys)
    assert snapshot(cgan_run) == before and snapshot(tmp_path / "young") == young
    assert (tmp_path / "stdout").is_symlink() and (tmp_path / "file").read_text() == "x"
    os.unlink(tmp_path / "hard")


@pytest.mark.parametrize(
    "argv,message",
    [
        (["demo", "bilinear", "--eta", "nan"], "--eta: expected a finite number"),
        (["demo", "bilinear", "--eta", "inf"], "--eta: expected a finite number"),
        (["demo", "bilinear", "--eta", "-1"], "--eta is the step size η, in (0, 2]; got -1.0"),
        (["demo", "bilinear", "--eta", "1e308"], "--eta is the step size η, in (0, 2]"),
        (["demo", "bilinear", "--steps", "0"], "--steps is the number of steps, in 1..100000; got 0"),
        (["demo", "optimal-d", "--steps", "1e9"], "--steps is the number of steps"),
        (["serve", "{run}", "--port", "-1"], "--port: must lie in 0..65535, got -1"),
        (["serve", "{run}", "--port", "70000"], "--port: must lie in 0..65535"),
        (["sample", "{run}", "--out", "{tmp}/s.npz", "--seed", str(2**64)], "--seed: must lie in"),
        (["grid", "{run}", "--by", "class", "--seed", str(2**64)], "--seed: must lie in"),
        (["eval", "--real", "--blur", "nan"], "--blur: expected a finite number"),
        (["eval", "--real", "--blur", "1e9"], "--blur is a Gaussian's σ in pixels"),
        (["grid", "{run}", "--by", "class", "--scale", "100000", "--out", "{tmp}/g.png"], "--scale must lie in 1..64"),
        (["grid", "{run}", "--by", "class", "--scale", "64", "--out", "{tmp}/g.png"], "pixels wide; the most is"),
        (["train", "--set", "train.device=meta", "--run-dir", "{tmp}/r"], "train.device 'meta' is not a device"),
        (["train", "--set", "train.device=xla", "--run-dir", "{tmp}/r"], "train.device 'xla' is not a device"),
        (["train", "--seed", str(2**64), "--run-dir", "{tmp}/r"], "train.seed must be an integer of magnitude"),
        (["train", "--set", "recipe=../../x"], "unknown value for recipe: '../../x'"),
        (["train", "--steps", "x"], "argument --steps: invalid int value: 'x'"),
        (["sample", "{run}", "--out", "{tmp}/s.npz", "-n", "1e15"], "ask for fewer samples (-n)"),
        (["sample", "{run}", "--out", "{tmp}/s.npz", "--class", str(10**20)], "--class takes indices separated"),
        (["eval", "--real", "--only-class", "1e30"], "--only-class: must lie in 0..999999"),
        (["eval", "{run}", "-n", "1e9"], "argument -n: must lie in 1..200000"),
        (["train", "--run-dir", "{tmp}/" + "r" * 300], "is too long"),
        (["train", "--run-dir", "/proc/version/run"], "--run-dir: /proc/version is a file, not a folder"),
        # issue 26, S5: an empty string is no value (--resume '' started a new run)
        (["train", "--resume", "", "--dry-run", "--steps", "1"], "argument --resume: expected a value, got an empty"),
        (["train", "--recipe", "", "--dry-run", "--steps", "1"], "argument --recipe: expected a value, got an empty"),
        (["train", "--run-dir", "", "--dry-run", "--steps", "1"], "argument --run-dir: expected a value"),
        (["train", "--config", "", "--dry-run", "--steps", "1"], "argument --config: expected a value"),
        (["sample", "{run}", "--out", ""], "argument --out: expected a value"),
        (["sample", "{run}", "--out", "{tmp}/s.npz", "--checkpoint", ""], "argument --checkpoint: expected a value"),
        (["report", "{run}", "--out", ""], "argument --out: expected a value"),
        (["eval", "--real", "--out", ""], "argument --out: expected a value"),
        (["eval", "", "--out", "{tmp}/e.json"], "argument run: expected a value"),
        (["serve", "{run}", "--host", ""], "argument --host: expected a value"),
    ],
)
def test_small_things_get_a_clear_one_line_error(cgan_run, tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    before = snapshot(cgan_run)
    assert main([a.format(run=cgan_run, tmp=tmp_path) for a in argv]) == 2
    assert message in error_line(capsys)
    assert snapshot(cgan_run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written
