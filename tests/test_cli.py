import json

import numpy as np
import pytest
from PIL import Image

from gankit.cli import build_config, main


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
