import json
import shutil

import pytest

from benchmarks import latent_structure
from gankit.recipes import get_recipe

pytestmark = pytest.mark.slow  # the full lane only (pytest -m 'not slow' skips it)


def test_a_tiny_page_is_trained_scored_and_written(tmp_path, monkeypatch):
    # the protocol's CGAN and InfoGAN at tests.helpers.tiny's widths (8): their 6.6M-weight nets took most of the
    # test's time to build, save and load again, and no number of the page depends on the width
    narrow = {"model.g_width": 8, "model.d_width": 8}
    monkeypatch.setattr(latent_structure, "get_recipe", lambda name: get_recipe(name).override(narrow))
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
    recognised = [json.loads((out / f"infogan-seed{s}" / "recognition.json").read_text()) for s in (0, 1)]
    for a, q in zip(accuracies, recognised, strict=True):
        assert f"| {a['accuracy']:.1%} | {q['accuracy']:.1%} | {a['matching']} |" in text
        assert q["split"] == "test" and q["n"] == sum(map(sum, q["counts"])) > 0  # every real test digit counted
    for name in ("cgan-classes", "infogan-category", "infogan-c2", "infogan-c3"):
        assert (doc.with_suffix("") / f"{name}.png").is_file() and f"latent/{name}.png" in text
    # a second call reuses the trained runs instead of refusing or retraining them
    mtime = (out / "cgan" / "metrics.jsonl").stat().st_mtime
    latent_structure.main([*argv, "--device", "cpu", "--out", str(out), "--doc", str(doc)])
    assert (out / "cgan" / "metrics.jsonl").stat().st_mtime == mtime
    assert (doc.with_suffix("") / "eval" / "infogan-seed1.json").is_file()  # the results beside the page
    # --cgan-eval reads the CGAN's section from a stored eval.json: no CGAN is trained or scored (the InfoGAN is
    # the first call's, reused as above, to spare a training)
    second = tmp_path / "second"
    shutil.copytree(out / "infogan-seed0", second / "infogan-seed0")
    argv = ["--infogan-steps", "2", "--seeds", "0", "--eval-samples", "200", "--device", "cpu", "--doc", str(doc)]
    latent_structure.main([*argv, "--cgan-eval", str(out / "cgan" / "eval.json"), "--out", str(second)])
    assert not (second / "cgan").exists() and (second / "infogan-seed0" / "eval.json").is_file()
    assert f"**{cgan['mean']:.1%}**" in doc.read_text() and "not retrained" in doc.read_text()


@pytest.mark.parametrize(("arch", "g"), [("infogan", "cs231n MNIST G"), ("infogan-authors-g", "authors' G")])
def test_the_protocol_line_names_the_run_s_generator(tmp_path, arch, g):
    from gankit import get_recipe
    from gankit.store.layout import RunPaths

    paths = RunPaths(tmp_path)
    paths.config.write_text(json.dumps(get_recipe("infogan").override({"model.arch": arch}).to_dict()))
    paths.log.write_text("engine: precision fp32\n")
    line = latent_structure.infogan_protocol(tmp_path)
    assert f"`model.arch={arch}`" in line and g in line and line.endswith("Engine: precision fp32")
