import json

import pytest

from tests.helpers import load_benchmark


@pytest.fixture(scope="module")
def latent_structure():
    return load_benchmark("latent_structure")


def test_a_tiny_page_is_trained_scored_and_written(latent_structure, tmp_path):
    doc, out = tmp_path / "docs" / "latent.md", tmp_path / "runs"
    argv = ["--cgan-steps", "2", "--infogan-steps", "2", "--seeds", "0", "1", "--eval-samples", "200"]
    latent_structure.main([*argv, "--device", "cpu", "--out", str(out), "--doc", str(doc)])
    text = doc.read_text()
    cgan = json.loads((out / "cgan" / "eval.json").read_text())["metrics"]["class_accuracy"]
    assert f"**{cgan['mean']:.1%}**" in text  # the page is read from the runs' results
    accuracies = [
        json.loads((out / f"infogan-seed{s}" / "eval.json").read_text())["metrics"]["categorical_code_accuracy"]
        for s in (0, 1)
    ]
    for a in accuracies:
        assert f"| {a['accuracy']:.1%} | {a['matching']} |" in text
    for name in ("cgan-classes", "infogan-category", "infogan-c2", "infogan-c3"):
        assert (doc.with_suffix("") / f"{name}.png").is_file() and f"latent/{name}.png" in text
    # a second call reuses the trained runs instead of refusing or retraining them
    mtime = (out / "cgan" / "metrics.jsonl").stat().st_mtime
    latent_structure.main([*argv, "--device", "cpu", "--out", str(out), "--doc", str(doc)])
    assert (out / "cgan" / "metrics.jsonl").stat().st_mtime == mtime


def test_a_scored_cgan_is_reused_without_training(latent_structure, tmp_path):
    """--cgan-eval reads the CGAN section from a stored eval.json: no CGAN is trained or scored."""
    first, second, doc = tmp_path / "first", tmp_path / "second", tmp_path / "docs" / "latent.md"
    argv = ["--infogan-steps", "2", "--seeds", "0", "--eval-samples", "200", "--device", "cpu", "--doc", str(doc)]
    latent_structure.main([*argv, "--cgan-steps", "2", "--out", str(first)])
    cgan = json.loads((first / "cgan" / "eval.json").read_text())
    latent_structure.main([*argv, "--cgan-eval", str(first / "cgan" / "eval.json"), "--out", str(second)])
    text = doc.read_text()
    assert not (second / "cgan").exists() and (second / "infogan-seed0" / "eval.json").is_file()
    assert f"**{cgan['metrics']['class_accuracy']['mean']:.1%}**" in text and "not retrained" in text
    assert (doc.with_suffix("") / "eval" / "infogan-seed0.json").is_file()
