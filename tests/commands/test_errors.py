"""Bad input to every command: one clear ``gankit: error:`` line, exit status 2, and nothing written."""

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
    ],
)
def test_outputs_never_overwrite_a_run_and_bad_paths_get_a_clear_error(cgan_run, tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("x")
    checkpoint = sorted((cgan_run / "checkpoints").iterdir())[-1]
    before = snapshot(cgan_run)
    filled = [a.format(run=cgan_run, checkpoint=checkpoint, tmp=tmp_path) for a in argv]
    assert main(filled) == 2
    assert message in error_line(capsys)
    assert snapshot(cgan_run) == before


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
    ],
)
def test_small_things_get_a_clear_one_line_error(cgan_run, tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    before = snapshot(cgan_run)
    assert main([a.format(run=cgan_run, tmp=tmp_path) for a in argv]) == 2
    assert message in error_line(capsys)
    assert snapshot(cgan_run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written
