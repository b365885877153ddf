import json

import pytest

from gankit.config import Config
from gankit.errors import ConfigError
from gankit.metrics.monitor import FidMonitor
from gankit.training.state import build_training
from gankit.training.trainer import train
from tests.helpers import tiny


def test_training_logs_an_fid_curve(tmp_path):
    cfg = tiny("gan", **{"train.fid_every": 2, "train.fid_samples": 50})
    train(cfg, tmp_path / "run", echo=False)
    curve = [json.loads(line) for line in (tmp_path / "run" / "fid.jsonl").read_text().splitlines()]
    assert [r["step"] for r in curve] == [2, 4]
    assert all(r["fid"] > 0 and r["n_fake"] == 50 for r in curve)
    assert "FID" in (tmp_path / "run" / "log.txt").read_text()


def test_the_fid_of_a_generator_is_repeatable_and_leaves_it_in_train_mode():
    cfg = tiny("gan", **{"train.fid_samples": 40})
    training = build_training(cfg, log=lambda _: None)
    monitor = FidMonitor(cfg, training.space, log=lambda _: None)
    g = training.gan.generator
    assert monitor.fid(g) == pytest.approx(monitor.fid(g), rel=1e-9)
    assert g.training


def test_bad_fid_settings_are_refused():
    with pytest.raises(ConfigError, match="fid_every"):
        Config().override({"train.fid_every": -1})


def test_fid_during_training_on_data_without_an_evaluator_leaves_no_folder(tmp_path):
    from gankit.errors import GankitError

    cfg = tiny("gan", **{"data.name": "ring8", "data.toy_points": 500, "train.fid_every": 2})
    with pytest.raises(GankitError, match="FID during training needs images with a feature extractor"):
        train(cfg, tmp_path / "run", echo=False)
    assert not (tmp_path / "run").exists()
