import json
import shutil
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import gankit
from gankit import resume_config, train
from gankit.viz.tensorboard import TensorBoardLogger, scalar_tag
from tests.helpers import tiny


def test_every_logged_scalar_and_grid_is_in_tensorboard(image_run):
    events = EventAccumulator(str(image_run), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    records = [json.loads(line) for line in (image_run / "metrics.jsonl").read_text().splitlines()]
    for name in records[0].keys() - {"step"}:
        logged = events.Scalars(scalar_tag(name))
        assert [e.step for e in logged] == [r["step"] for r in records]
        assert [e.value for e in logged] == pytest.approx([r[name] for r in records], rel=1e-6)  # float32
    assert {"loss/d_loss", "loss/g_loss", "grad_norm/g_grad_norm", "grad_norm/d_grad_norm"} <= set(
        events.Tags()["scalars"]
    )
    assert [e.step for e in events.Images("samples")] == [0, 2, 6]


def test_gradient_norms_are_positive_and_finite(image_run):
    last = json.loads((image_run / "metrics.jsonl").read_text().splitlines()[-1])
    assert 0 < last["g_grad_norm"] < 1e6 and 0 < last["d_grad_norm"] < 1e6


def test_tensorboard_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # not installed, and not wanted: no line
    train(tiny("nsgan", **{"train.steps": 2, "train.tensorboard": False}), tmp_path / "run", echo=False)
    assert not list((tmp_path / "run").glob("events.out.tfevents.*"))
    assert "tensorboard: not installed" not in (tmp_path / "run" / "log.txt").read_text()


def test_a_missing_tensorboard_package_is_said_in_one_line_of_the_log(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import torch.utils.tensorboard fails
    monkeypatch.chdir(tmp_path)
    train(tiny("nsgan", **{"train.steps": 2}), tmp_path / "run", echo=False)
    assert not list((tmp_path / "run").glob("events.out.tfevents.*"))
    said = [line for line in (tmp_path / "run" / "log.txt").read_text().splitlines() if "tensorboard:" in line]
    assert len(said) == 1 and said[0].startswith("tensorboard: not installed, so this run writes no event files")
    checkout = Path(gankit.__file__).resolve().parent.parent  # the tests run from a checkout
    assert f"to get them: pip install -e '{checkout}[tensorboard]'" in said[0] and "train.tensorboard=false" in said[0]


def test_disabled_logger_does_nothing(tmp_path):
    logger = TensorBoardLogger(tmp_path, enabled=False)
    logger.scalars({"step": 1, "d_loss": 0.5})
    logger.image(1, tmp_path / "missing.png")
    logger.close()
    assert not logger.active and not list(tmp_path.iterdir())


def test_tags_group_fields_and_send_the_rest_to_metrics():
    assert scalar_tag("d_loss") == "loss/d_loss" and scalar_tag("d_grad_norm") == "grad_norm/d_grad_norm"
    assert scalar_tag("fid") == "metrics/fid"


def test_a_resumed_run_replaces_the_events_logged_after_its_checkpoint(tmp_path):
    run = tmp_path / "run"
    train(tiny("nsgan", **{"train.steps": 6, "train.checkpoint_every": 4}), run, echo=False)
    shutil.rmtree(run / "checkpoints" / "step-00000006")  # as if the run had died after step 4's checkpoint
    train(resume_config(run, {"train.steps": 6}), run, resume=True, echo=False)
    events = EventAccumulator(str(run))
    events.Reload()
    assert [e.step for e in events.Scalars("loss/d_loss")] == [2, 4, 6]  # step 6 once, from the resumed run
