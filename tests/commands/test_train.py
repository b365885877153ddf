import json
import re

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.commands.train import build_config, run_name
from gankit.data import DATASETS
from tests.commands.helpers import error_line


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
