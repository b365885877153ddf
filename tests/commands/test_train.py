import json
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.commands.train import build_config, run_name
from gankit.data import DATASETS
from gankit.store.checkpoint import list_checkpoints
from tests.commands.helpers import error_line
from tests.helpers import rewrite_checkpoint, slow_unless, snapshot


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
            *("--set", "model.g_width=8", "--set", "model.d_width=8"),  # tests.helpers.tiny's widths
            *extra,
        ]
    )


def test_train_with_zero_arguments_uses_lsgan_on_the_embedded_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    narrow = ["--set", "model.g_width=8", "--set", "model.d_width=8"]  # lsgan's 6.6M weights took 6 s to save
    assert main(["train", "--steps", "2", "--batch-size", "8", "--no-progress", "--set", "data.limit=64", *narrow]) == 0
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
    assert main(["sample", str(tmp_path / "run"), "-n", "10", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size[0] > 28
    assert main(["sample", str(tmp_path / "run"), "-n", "3", "--out", str(tmp_path / "pngs")]) == 0
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == ["000000.png", "000001.png", "000002.png"]
    assert Image.open(tmp_path / "pngs" / "000001.png").size == (28, 28)


def test_config_file_then_set(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"recipe": "wgan", "train": {"steps": 9}, "d_optim": {"lr": 1e-3}}))
    cfg = build_config(None, str(tmp_path / "c.json"), {"train.steps": "11"})
    assert (cfg.recipe, cfg.train.steps, cfg.d_optim.lr, cfg.loss.clip_value) == ("wgan", 11, 1e-3, 0.01)


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
    err = error_line(capsys)
    assert needs in err and "but only" in err and "is available; lower" in err
    assert not (tmp_path / "r").exists()


def test_dry_run_checks_and_prints_the_config_and_writes_nothing(tmp_path, capsys):
    assert main(["train", "--dry-run", "--set", "data.limit=64", "--run-dir", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[: out.rindex("}") + 1])["data"]["limit"] == 64
    assert "dry run: a new run in" in out and "64 examples" in out and "parameters G 6,675,009" in out
    assert not (tmp_path / "r").exists()


def test_the_default_run_folder_is_named_safely():
    assert run_name("../../x") == "x" and run_name("a/b c") == "a-b-c" and run_name("...") == "run"
    assert run_name("lsgan") == "lsgan" and len(run_name("x" * 500)) == 64


def test_data_help_lists_every_registered_data_set(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: no name is wrapped at its hyphen
    assert main(["train", "--help"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.lstrip().startswith("--data DATA")]
    listed = re.search(r"\(data\.name\): (.*)$", line).group(1)
    assert listed.split(", ") == DATASETS.choices and "folder" in DATASETS.choices


@pytest.mark.slow  # trains and resumes 2 trials; --seeds parsing and refusals stay in the fast lane
def test_train_seeds_makes_a_trials_run_that_resume_and_sample_read(tmp_path, capsys):
    assert _train(tmp_path, "--recipe", "nsgan", "--seeds", "3,7", "--set", "train.trials_mode=sequential") == 0
    out = capsys.readouterr().out
    assert "2 trials of nsgan, seeds 3, 7, one after another" in out and "trials: 2 done, 0 diverged" in out
    run = tmp_path / "run"
    assert [json.loads((run / f"trial-0{k}" / "config.json").read_text())["train"]["seed"] for k in (0, 1)] == [3, 7]
    assert main(["train", "--resume", str(run), "--steps", "4", "--no-progress"]) == 0
    assert "trials: 2 done" in capsys.readouterr().out
    assert (run / "trial-01" / "checkpoints" / "step-00000004").is_dir()
    assert main(["sample", str(run), "--trial", "1", "-n", "2", "--out", str(tmp_path / "g.npz")]) == 0
    assert main(["sample", str(run), "-n", "2", "--out", str(tmp_path / "h.npz")]) == 2
    assert "holds 2 trials: choose one with --trial K (K in 0..1)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--seeds", "5-2"], "expected an increasing range"),
        (["--seeds", "a"], "expected seeds like 0-9 or 0,3,7"),
        (["--seeds", "1,1"], "train.seeds repeats a seed"),
        (["--trials", "0"], "train.trials must lie in 1..10000"),
        (["--trials", "3", "--set", "train.seeds=[1,2]"], "train.trials is 3 but train.seeds lists 2 seeds"),
    ],
)
def test_bad_trials_and_seeds_are_refused_up_front(tmp_path, capsys, flags, message):
    assert _train(tmp_path, *flags) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_parse_seeds_reads_ranges_and_lists():
    from gankit.commands.train import parse_seeds

    assert parse_seeds("0-3") == (0, 1, 2, 3)
    assert parse_seeds("0,3,7") == (0, 3, 7)
    assert parse_seeds("0-2,10") == (0, 1, 2, 10)


def _nan_generator(tensors):
    name = next(k for k in sorted(tensors) if k.startswith("generator/"))
    tensors[name] = tensors[name].clone().fill_(float("nan"))


def _float64(tensors):
    tensors.update({k: v.double() for k, v in tensors.items() if v.is_floating_point()})


BROKEN_RUNS = {
    "samples a file": (lambda run: (shutil.rmtree(run / "samples"), (run / "samples").write_text("x")), "samples is a"),
    "checkpoints a file": (lambda run: (shutil.rmtree(run / "checkpoints"), (run / "checkpoints").touch()), "a file"),
    "NaN weights": (lambda run: rewrite_checkpoint(_newest(run), tensors=_nan_generator), "non-finite values"),
    "float64 tensors": (lambda run: rewrite_checkpoint(_newest(run), tensors=_float64), "torch.float64"),
}


def _newest(run):
    return list_checkpoints(run / "checkpoints")[-1]


@pytest.fixture(scope="module")
def three_steps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("three")
    assert _train(folder) == 0
    return folder / "run"


@pytest.mark.parametrize("broken", slow_unless(list(BROKEN_RUNS), fast=list(BROKEN_RUNS)[:3]))  # float64: slow
def test_a_resume_that_fails_fails_before_writing_anything(three_steps, tmp_path, capsys, broken):
    """A run folder of the wrong shape, or whose only checkpoint is damaged behind a valid checksum: one line,
    exit 2, and not a byte of the run changed (config.json, log.txt, metrics.jsonl and the events included)."""
    run = tmp_path / "run"
    shutil.copytree(three_steps, run)
    change, message = BROKEN_RUNS[broken]
    change(run)
    before, names = snapshot(run), sorted(p.name for p in run.iterdir())
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--steps", "5", "--no-progress"]) == 2
    assert message in error_line(capsys)
    assert snapshot(run) == before and sorted(p.name for p in run.iterdir()) == names


def _resume(tmp_path, *extra):
    return main(["train", "--resume", str(tmp_path / "run"), "--no-progress", *extra])


def _last_step(run) -> int:
    return json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"]


@pytest.mark.slow  # trains twice; resume stays in the fast lane
def test_a_resumed_budget_run_trains_to_the_new_steps(tmp_path, capsys):
    assert _train(tmp_path, "--time-budget", "0.2", "--set", "train.log_every=1") == 0
    reached = _last_step(tmp_path / "run")
    assert _resume(tmp_path, "--steps", str(reached + 2)) == 0
    out = capsys.readouterr().out
    assert f"done: step {reached + 2}," in out and "resume: train.time_budget 0.2 → None" in out
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["time_budget"] is None


@pytest.mark.slow  # trains and resumes; resume stays in the fast lane
def test_a_resumed_run_with_nothing_to_do_says_how_to_go_on_and_changes_nothing(tmp_path, capsys):
    assert _train(tmp_path) == 0
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    capsys.readouterr()
    assert _resume(tmp_path) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'run'} is at step 3 of 3 (train.steps): nothing to train. Pass --steps N (N > 3)" in out
    assert "done:" not in out
    assert {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()} == before


@pytest.mark.slow  # trains and resumes; resume stays in the fast lane
def test_set_of_a_resumable_field_with_resume_is_applied_and_logged(tmp_path, capsys):
    assert _train(tmp_path) == 0
    lr = json.loads((tmp_path / "run" / "config.json").read_text())["g_optim"]["lr"]
    assert _resume(tmp_path, "--steps", "4", "--set", f"g_optim.lr={lr / 2}") == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["g_optim"]["lr"] == lr / 2
    assert f"resume: g_optim.lr {lr!r} → {lr / 2!r}" in (tmp_path / "run" / "log.txt").read_text()
    assert _resume(tmp_path, "--steps", "5", "--set", "model.latent_dim=8") == 2
    line = error_line(capsys)
    assert "cannot change model.latent_dim" in line and "g_optim.lr" in line and "train.time_budget" in line


@pytest.mark.slow  # trains and resumes twice; resume stays in the fast lane
def test_time_budget_none_clears_the_budget_and_zero_is_refused_with_the_way_out(tmp_path, capsys):
    assert _train(tmp_path, "--time-budget", "0.2") == 0
    reached = _last_step(tmp_path / "run")
    capsys.readouterr()
    assert _resume(tmp_path, "--time-budget", "0") == 2
    assert "or none to train to train.steps" in error_line(capsys)
    assert _resume(tmp_path, "--time-budget", "none", "--set", f"train.steps={reached + 1}") == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["time_budget"] is None
    assert f"done: step {reached + 1}," in capsys.readouterr().out
