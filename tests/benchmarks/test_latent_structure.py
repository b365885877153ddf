import json
import shutil

import pytest

import benchmarks.common
import gankit.trials.runner as runner
from benchmarks import latent_structure, md
from gankit.recipes import get_recipe

pytestmark = pytest.mark.slow  # the full lane only (pytest -m 'not slow' skips it)


def _trial(cell, k: int, name: str) -> dict:
    return json.loads((cell / f"trial-{k:02d}" / name).read_text())


def test_infogan_is_one_trials_run_each_trial_measured_both_ways_and_resumed_to_more_steps(tmp_path, monkeypatch):
    # the protocol's CGAN and InfoGAN at tests.helpers.tiny's widths (8): their 6.6M-weight nets took most of the
    # test's time to build, save and load again, and no number of the page depends on the width
    narrow = {"model.g_width": 8, "model.d_width": 8}
    for module in (latent_structure, benchmarks.common):
        monkeypatch.setattr(module, "get_recipe", lambda name: get_recipe(name).override(narrow))
    doc, out = tmp_path / "docs" / "latent.md", tmp_path / "runs"
    argv = ["--cgan-steps", "2", "--infogan-trials", "2", "--infogan-trials-mode", "sequential"]
    argv += ["--eval-samples", "200", "--device", "cpu", "--out", str(out), "--doc", str(doc)]
    latent_structure.main([*argv, "--infogan-steps", "2"])
    text = doc.read_text()
    cgan = json.loads((out / "cgan" / "eval.json").read_text())["metrics"]["class_accuracy"]
    assert f"**{cgan['mean']:.1%}**" in text  # the page is read from the runs' results
    cell = out / "infogan-seeds0-1"
    assert json.loads((cell / "config.json").read_text())["train"]["seeds"] == [0, 1]  # one trials run
    codes = [_trial(cell, k, "eval.json")["metrics"]["categorical_code_accuracy"] for k in (0, 1)]
    recognised = [_trial(cell, k, "recognition.json") for k in (0, 1)]
    assert [_trial(cell, k, "eval.json")["training"]["config"]["train"]["seed"] for k in (0, 1)] == [0, 1]
    for a, q in zip(codes, recognised, strict=True):
        assert f"| {a['accuracy']:.1%} | {q['accuracy']:.1%} | {a['matching']} |" in text
        assert q["split"] == "test" and q["n"] == sum(map(sum, q["counts"])) > 0  # every real test digit counted
    for label, values in (("G's samples", [a["accuracy"] for a in codes]), ("Q on real digits", recognised)):
        values = [v if isinstance(v, float) else v["accuracy"] for v in values]
        assert md.row(latent_structure.distribution_row(label, values)) in text  # from the trials' results
        assert md.row([label, *latent_structure.histogram(values)]) in text
    for name in ("cgan-classes", "infogan-category", "infogan-c2", "infogan-c3"):
        assert (doc.with_suffix("") / f"{name}.png").is_file() and f"latent/{name}.png" in text
    assert (doc.with_suffix("") / "eval" / "infogan-seed1-recognition.json").is_file()  # the results beside the page
    first = (cell / "trial-01" / "metrics.jsonl").read_text()
    mtime = (out / "cgan" / "metrics.jsonl").stat().st_mtime

    latent_structure.main([*argv, "--infogan-steps", "3"])  # more steps: each trial resumed, measured again
    resumed = (cell / "trial-01" / "metrics.jsonl").read_text()
    assert resumed.startswith(first) and len(resumed.splitlines()) > len(first.splitlines())
    assert [_trial(cell, k, "eval.json")["training"]["steps"] for k in (0, 1)] == [3, 3]
    assert [_trial(cell, k, "recognition.json")["checkpoint"] for k in (0, 1)] == ["step-00000003"] * 2
    assert (out / "cgan" / "metrics.jsonl").stat().st_mtime == mtime  # the CGAN reused, not retrained

    # --cgan-eval reads the CGAN's section from a stored eval.json: no CGAN is trained or scored (the InfoGAN
    # trials are the first call's, reused, to spare a training)
    second = tmp_path / "second"
    shutil.copytree(cell, second / cell.name)
    argv = ["--infogan-steps", "3", "--infogan-trials", "2", "--infogan-trials-mode", "sequential"]
    argv += ["--eval-samples", "200", "--device", "cpu"]
    latent_structure.main(
        [*argv, "--cgan-eval", str(out / "cgan" / "eval.json"), "--out", str(second), "--doc", str(doc)]
    )
    assert not (second / "cgan").exists()
    assert (second / cell.name / "trial-01" / "metrics.jsonl").read_text() == resumed  # not retrained
    assert f"**{cgan['mean']:.1%}**" in doc.read_text() and "not retrained" in doc.read_text()


def test_infogan_blocks_are_kept_and_a_later_session_builds_the_page_from_them(tmp_path, monkeypatch):
    """Seeds in blocks (``--infogan-block``): each block one trials run, kept beside the page with each trial's
    recognition and figures; with the run folders gone (another session), the page comes back the same from the
    kept blocks, nothing trained."""
    narrow = {"model.g_width": 8, "model.d_width": 8}
    for module in (latent_structure, benchmarks.common):
        monkeypatch.setattr(module, "get_recipe", lambda name: get_recipe(name).override(narrow))
    doc, out = tmp_path / "docs" / "latent.md", tmp_path / "runs"
    cgan = tmp_path / "cgan-eval.json"
    accuracy = {"mean": 0.5, "min": 0.1, "per_class": [0.5] * 10}
    subject = {"step": 5000, "weights": "ema"}  # what the page reads of a scored CGAN's eval.json
    scored = {"metrics": {"class_accuracy": accuracy, "fid": 9.0}, "subject": subject, "created": "2026-12-07"}
    cgan.write_text(json.dumps(scored))
    argv = ["--infogan-steps", "2", "--infogan-trials", "3", "--infogan-block", "2", "--cgan-eval", str(cgan)]
    argv += ["--infogan-trials-mode", "sequential", "--eval-samples", "200", "--device", "cpu", "--doc", str(doc)]
    latent_structure.main([*argv, "--out", str(out)])
    assert sorted(p.name for p in out.iterdir()) == ["infogan-seeds0-1", "infogan-seeds2-2"]  # two trials runs
    kept = doc.with_suffix("") / "scores"
    assert all((kept / "infogan-seeds0-1" / "trial-01" / f).is_file() for f in ("recognition.json", "infogan-c3.png"))
    text, figure = doc.read_text(), (doc.with_suffix("") / "infogan-c2.png").read_bytes()
    evals = [json.loads((doc.with_suffix("") / "eval" / f"infogan-seed{s}.json").read_text()) for s in (0, 1, 2)]
    codes = [e["metrics"]["categorical_code_accuracy"]["accuracy"] for e in evals]
    assert md.row(latent_structure.distribution_row("G's samples", codes)) in text  # all 3 seeds, both blocks
    shutil.rmtree(out)
    monkeypatch.setattr(runner, "train_trials", lambda *a, **k: pytest.fail("a kept block was trained again"))
    monkeypatch.setattr(latent_structure, "grid", lambda *a, **k: pytest.fail("a kept block's figures drawn again"))
    latent_structure.main([*argv, "--out", str(out)])
    assert doc.read_text() == text and (doc.with_suffix("") / "infogan-c2.png").read_bytes() == figure


def test_the_share_at_or_above_the_papers_95_percent_counts_each_seed_once():
    accuracies = [0.5, 0.9499, 0.95, 0.9500000000001, 1.0, 0.72]  # 950 of 1,000 digits is 95%: it counts
    assert latent_structure.at_or_above(accuracies) == 3
    assert latent_structure.at_or_above([0.9499999]) == 0 and latent_structure.at_or_above([0.95]) == 1
    assert latent_structure.histogram(accuracies) == [1, 1, 0, 0, 1, 3]  # < 70, 70–80, 80–85, 85–90, 90–95, ≥ 95
    row = latent_structure.distribution_row("Q", [0.96, 0.5, 0.98, 0.9])
    assert row == ["Q", 4, md.mean_se([96, 50, 98, 90], 1), "93.0", "50.0", "98.0", "2 of 4 (50%)"]


@pytest.mark.parametrize(("arch", "g"), [("infogan", "cs231n MNIST G"), ("infogan-authors-g", "authors' G")])
def test_the_protocol_line_names_the_run_s_generator(tmp_path, arch, g):
    from gankit import get_recipe
    from gankit.store.layout import RunPaths

    paths = RunPaths(tmp_path)
    paths.config.write_text(json.dumps(get_recipe("infogan").override({"model.arch": arch}).to_dict()))
    paths.log.write_text("engine: precision fp32\n")
    line = latent_structure.infogan_protocol(tmp_path)
    assert f"`model.arch={arch}`" in line and g in line and line.endswith("Engine: precision fp32")
