import json
import shutil

import numpy as np
import pytest
from PIL import Image

from gankit.cli import build_config, main
from tests.helpers import snapshot


def _train(tmp_path, *extra):
    return main(
        [
            "train",
            "--run-dir",
            str(tmp_path / "run"),
            "--steps",
            "3",
            "--batch-size",
            "16",
            "--no-progress",
            "--set",
            "data.limit=128",
            "--set",
            "train.sample_at=0",
            *extra,
        ]
    )


def test_train_with_zero_arguments_uses_lsgan_on_the_embedded_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--steps", "2", "--batch-size", "8", "--no-progress", "--set", "data.limit=64"]) == 0
    out = capsys.readouterr().out
    assert "using the embedded MNIST sample" in out
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("lsgan-")
    assert json.loads((runs[0] / "config.json").read_text())["recipe"] == "lsgan"


def test_train_resume_and_sample(tmp_path, capsys):
    assert _train(tmp_path) == 0
    assert main(["train", "--resume", str(tmp_path / "run"), "--steps", "5", "--no-progress"]) == 0
    assert "resumed" in capsys.readouterr().out
    assert (tmp_path / "run" / "checkpoints" / "step-00000005").is_dir()
    assert main(["sample", str(tmp_path / "run"), "-n", "10", "--out", str(tmp_path / "s.npz")]) == 0
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (10, 28, 28, 1) and images.dtype == np.uint8
    assert Image.open(tmp_path / "s-grid.png").size[0] > 28
    assert main(["sample", str(tmp_path / "run"), "-n", "3", "--out", str(tmp_path / "pngs")]) == 0
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == [
        "000000.png",
        "000001.png",
        "000002.png",
        "grid.png",
    ]
    assert Image.open(tmp_path / "pngs" / "000001.png").size == (28, 28)


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


def test_config_file_then_set(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"recipe": "wgan", "train": {"steps": 9}, "d_optim": {"lr": 1e-3}}))
    cfg = build_config(None, str(tmp_path / "c.json"), {"train.steps": "11"})
    assert (cfg.recipe, cfg.train.steps, cfg.d_optim.lr, cfg.loss.clip_value) == ("wgan", 11, 1e-3, 0.01)


def test_recipes_list_and_show(capsys):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    for name in ("gan", "nsgan", "dcgan", "lsgan", "hinge", "wgan", "wgan-gp"):
        assert f"\n{name} " in "\n" + out
    assert main(["recipes", "wgan-gp"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["loss"]["gp_weight"] == 10.0 and shown["train"]["n_critic"] == 5


def test_demo_lists_and_runs(tmp_path, capsys):
    assert main(["demo"]) == 0
    assert "bilinear" in capsys.readouterr().out
    assert main(["demo", "bilinear", "--out", str(tmp_path), "--steps", "20", "--eta", "0.2"]) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["simultaneous"]["norm_ratio_per_step"] == pytest.approx((1 + 0.2**2) ** 0.5, rel=1e-9)
    assert json.loads((tmp_path / "bilinear.json").read_text()) == numbers  # beside bilinear.png
    assert main(["demo", "divergences", "--steps", "3", "--out", str(tmp_path)]) == 2
    assert "demo divergences takes no options" in capsys.readouterr().err


def test_sample_classes_of_a_conditional_run(cgan_run, infogan_run, tmp_path, capsys):
    out = tmp_path / "s.npz"
    assert main(["sample", str(cgan_run), "-n", "4", "--class", "2,9", "--out", str(out)]) == 0
    assert np.load(out)["labels"].tolist() == [2, 9, 2, 9]
    assert "wrote 4 samples of class 2, 9" in capsys.readouterr().out
    for run, classes, message in [
        (cgan_run, "10", "class labels must lie in 0..9, got [10]"),
        (cgan_run, "-1", "class labels must lie in 0..9, got [-1]"),
        (cgan_run, "3,x", "--class takes indices separated by commas"),
        (infogan_run, "3", "(recipe infogan) is not class-conditional; its categorical code is shown by `gankit grid"),
    ]:
        assert main(["sample", str(run), "--class", classes, "--out", str(tmp_path / "bad.npz")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("gankit: error:") and message in err and not (tmp_path / "bad.npz").exists()


def _rows(png, size=28):
    pixels = np.asarray(Image.open(png))
    return [pixels[2 + r * (size + 2) : (r + 1) * (size + 2)] for r in range((pixels.shape[0] - 2) // (size + 2))]


def test_grid_of_a_cgan_has_a_row_per_class(cgan_run, tmp_path, capsys):
    out = tmp_path / "classes.png"
    assert main(["grid", str(cgan_run), "--by", "class", "--columns", "4", "--out", str(out)]) == 0
    assert Image.open(out).size == (2 + 4 * 30, 2 + 10 * 30)
    rows = _rows(out)
    assert len(rows) == 10 and not np.array_equal(rows[0], rows[1])
    assert "rows = classes 0..9, columns = 4 z (seed 0)" in capsys.readouterr().out


def test_grid_of_an_infogan_sweeps_a_code_and_orders_rows_by_the_matched_digit(infogan_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(infogan_run, run)
    assert main(["grid", str(run), "--by", "c2", "--rows", "0,1", "--scale", "2"]) == 0
    assert Image.open(run / "grid-c2.png").size == ((2 + 10 * 30) * 2, (2 + 2 * 30) * 2)
    assert "columns = c2 from -2 to 2 in 10 steps, z (seed 0) and the other codes fixed" in capsys.readouterr().out
    matching = [3, 8, 0, 5, 1, 9, 2, 7, 4, 6]  # category c was matched to digit matching[c]
    (run / "eval.json").write_text(json.dumps({"metrics": {"categorical_code_accuracy": {"matching": matching}}}))
    assert main(["grid", str(run), "--by", "c3", "--out", str(tmp_path / "all.png")]) == 0
    assert main(["grid", str(run), "--by", "c3", "--rows", "matched", "--out", str(tmp_path / "matched.png")]) == 0
    everything, matched = _rows(tmp_path / "all.png"), _rows(tmp_path / "matched.png")
    for digit in range(10):  # row d of the matched grid is the category matched to digit d
        assert np.array_equal(matched[digit], everything[matching.index(digit)])
    assert not np.array_equal(everything[0], everything[1])


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--by", "class"], "by must be one of category, c2, c3; got 'class'"),
        (["--by", "c2", "--rows", "12"], r"categorical code rows must lie in 0..9, got [12]"),
        (["--by", "c2", "--rows", "matched"], "run `gankit eval"),
        (["--by", "c2", "--out", "x.jpg"], "--out must be a .png file"),
        (["--by", "category", "--columns", "100"], "columns must be in 1..64"),
    ],
)
def test_grid_errors(infogan_run, argv, message, capsys):
    assert main(["grid", str(infogan_run), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and message in err


def _error_line(capsys) -> str:
    """The one line a failed command printed to stderr (asserting it is one clean line)."""
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


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
    assert message in _error_line(capsys)
    assert snapshot(cgan_run) == before


def test_report_writes_its_output_atomically_beside_the_run(cgan_run, tmp_path, capsys):
    out = tmp_path / "r.html"
    out.write_text("old")
    assert main(["report", str(cgan_run), "--out", str(out)]) == 0
    assert "<html" in out.read_text() and sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


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
    assert message in _error_line(capsys)
    assert snapshot(cgan_run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    "field,value,needs",
    [
        ("model.latent_dim", "1e9", "training this config on cpu (parameters G 6,272,000,132,481"),
        ("model.g_width", "1e8", "training this config on cpu"),
        ("train.batch_size", "1e9", "training this config on cpu"),
        ("data.toy_points", "1e10", "data.toy_points=10,000,000,000 would need about"),
    ],
)
def test_what_cannot_fit_in_memory_is_refused_before_it_is_built(tmp_path, capsys, field, value, needs):
    data = ["--data", "ring8", "--set", "model.arch=mlp"] if field == "data.toy_points" else ["--recipe", "dcgan"]
    assert main(["train", "--dry-run", *data, "--set", f"{field}={value}", "--run-dir", str(tmp_path / "r")]) == 2
    err = _error_line(capsys)
    assert needs in err and "but only" in err and "is available; lower" in err
    assert not (tmp_path / "r").exists()


def test_dry_run_checks_and_prints_the_config_and_writes_nothing(tmp_path, capsys):
    assert main(["train", "--dry-run", "--set", "data.limit=64", "--run-dir", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[: out.rindex("}") + 1])["data"]["limit"] == 64
    assert "dry run: a new run in" in out and "64 examples" in out and "parameters G 6,675,009" in out
    assert not (tmp_path / "r").exists()


def test_the_default_run_folder_is_named_safely(monkeypatch):
    from gankit.cli import run_name

    assert run_name("../../x") == "x" and run_name("a/b c") == "a-b-c" and run_name("...") == "run"
    assert run_name("lsgan") == "lsgan" and len(run_name("x" * 500)) == 64


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    from gankit import cli

    def broken(args):
        raise KeyError("boom\nsecond line")

    monkeypatch.setattr(cli, "cmd_recipes", broken)
    assert main(["recipes"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "gankit: error: unexpected KeyError: 'boom\\nsecond line' — rerun with --debug for the traceback "
        "(and please report it)\n"
    )
    for argv in (["--debug", "recipes"], ["recipes", "--debug"]):
        with pytest.raises(KeyError, match="boom"):
            main(argv)


def test_help_and_usage_errors_return_instead_of_exiting(capsys):
    assert main(["--help"]) == 0
    assert main(["nope"]) == 2
    assert "gankit: error: argument command: invalid choice: 'nope'" in _error_line(capsys)


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, '{"metrics": {"categorical_code_accuracy": {"matching": [1, "a"]}}}']
)
def test_grid_rows_matched_of_a_damaged_eval_json(infogan_run, tmp_path, capsys, text):
    run = tmp_path / "run"
    shutil.copytree(infogan_run, run)
    (run / "eval.json").write_text(text)
    assert main(["grid", str(run), "--by", "c2", "--rows", "matched"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and "run `gankit eval" in err and "Traceback" not in err
