import json

import pytest

from tests.helpers import load_benchmark


@pytest.fixture(scope="module")
def compare():
    return load_benchmark("compare_objectives")


def test_a_tiny_table_is_trained_scored_and_written(compare, tmp_path):
    doc, out = tmp_path / "docs" / "results.md", tmp_path / "runs"
    argv = ["--steps", "2", "--toy-steps", "2", "--recipes", "gan", "--toy-recipes", "wgan", "-n", "300"]
    argv += ["--kid-subsets", "5"]
    compare.main([*argv, "--out", str(out), "--doc", str(doc)])
    text = doc.read_text()
    result = json.loads((out / "gan-seed0" / "eval.json").read_text())
    assert f"| gan | {result['metrics']['fid']:.2f} |" in text  # the table is read from the run's result
    assert result["training"]["steps"] == 2 and result["training"]["images_per_s"] > 0
    ring = json.loads((out / "ring8-wgan-seed0" / "eval.json").read_text())
    assert ring["training"]["config"]["loss"]["clip_value"] == 0.01  # the objective's own regulariser
    assert ring["training"]["config"]["model"]["arch"] == "mlp"
    assert "| wgan | " in text and "MNIST train images of digit 1 only" in text
    assert (doc.parent / "results" / "gan.png").is_file()
    mtime = (out / "gan-seed0" / "eval.json").stat().st_mtime
    compare.main([*argv, "--out", str(out), "--doc", str(doc)])  # a second call reuses the finished runs
    assert (out / "gan-seed0" / "eval.json").stat().st_mtime == mtime
