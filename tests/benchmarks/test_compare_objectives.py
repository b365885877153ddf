import json

import pytest

from benchmarks import compare_objectives as compare
from benchmarks.common import toy_overrides
from gankit import get_recipe, load_generator
from gankit.data.toy import ring8_modes
from gankit.metrics.modes import count_toy_modes
from gankit.training.trainer import train

pytestmark = pytest.mark.slow  # the full lane only (pytest -m 'not slow' skips it)

TOY_STEPS = 400


def test_a_tiny_table_is_trained_scored_and_written(tmp_path):
    doc, out = tmp_path / "docs" / "results.md", tmp_path / "runs"
    argv = ["--steps", "2", "--toy-steps", "2", "--recipes", "gan", "--toy-recipes", "wgan", "-n", "300"]
    argv += ["--kid-subsets", "5"]
    compare.main([*argv, "--recipe-steps", "gan=3", "--out", str(out), "--doc", str(doc)])
    text = doc.read_text()
    result = json.loads((out / "gan-seed0" / "eval.json").read_text())
    assert f"| gan | 3 | {result['metrics']['fid']:.2f} |" in text  # the table is read from the run's result
    assert result["training"]["steps"] == 3 and result["training"]["images_per_s"] > 0
    ring = json.loads((out / "ring8-wgan-seed0" / "eval.json").read_text())
    assert ring["training"]["config"]["loss"]["clip_value"] == 0.01  # the objective's own regulariser
    assert ring["training"]["config"]["model"]["arch"] == "mlp"
    assert "| wgan | " in text and "MNIST train images of digit 1 only" in text
    assert (doc.parent / "results" / "gan.png").is_file()
    mtime = (out / "gan-seed0" / "eval.json").stat().st_mtime
    compare.main([*argv, "--recipe-steps", "gan=3", "--out", str(out), "--doc", str(doc)])  # reuses finished runs
    assert (out / "gan-seed0" / "eval.json").stat().st_mtime == mtime
    compare.main([*argv, "--out", str(out), "--doc", str(doc)])  # another config: trained again
    assert json.loads((out / "gan-seed0" / "eval.json").read_text())["training"]["steps"] == 2
    with pytest.raises(SystemExit):
        compare.main([*argv, "--recipe-steps", "dcgan-stacked=3"])  # not a recipe of the table


def test_hinge_spreads_over_the_ring_on_the_shared_2d_mlp(tmp_path):
    """Regression (issue 13): the hinge recipe's spectral norm, kept on the 2-D MLP, left D flat and G on 1-2 modes."""
    cfg = get_recipe("hinge").override(toy_overrides("ring8", TOY_STEPS, 0) | {"train.tensorboard": False})
    assert not cfg.model.spectral_norm and cfg.model.g_norm == "none"  # the same MLP as every other objective
    train(cfg, tmp_path / "run", echo=False)
    points = load_generator(tmp_path / "run").generate(2500, seed=0)
    report = count_toy_modes(points, ring8_modes())
    assert sum(c >= 100 for c in report.counts) >= 6, report.counts  # nearest-mode histogram over the 8 modes
    assert report.kl_all < 0.5, report.counts
