import json

import pytest
import torch

from benchmarks import compare_objectives as compare
from benchmarks import md
from benchmarks.common import hardware, machine, toy_overrides
from gankit import get_recipe, load_generator
from gankit.data.toy import ring8_modes
from gankit.metrics.modes import count_toy_modes
from gankit.training.trainer import train

pytestmark = pytest.mark.slow  # the full lane only (pytest -m 'not slow' skips it)

TOY_STEPS = 400  # not 300: seeds 0-9 on a 2-core AVX2 EPYC pass 9 of 10 at 400 steps, 6 of 10 at 300


def _trials(cell, k=2) -> list[dict]:
    """The eval.json of each trial of a cell (one trials run)."""
    return [json.loads((cell / f"trial-{t:02d}" / "eval.json").read_text()) for t in range(k)]


def test_each_cell_is_one_trials_run_scored_per_trial_and_resumed_to_a_larger_budget(tmp_path):
    doc, out = tmp_path / "docs" / "results.md", tmp_path / "runs"
    argv = ["--steps", "2", "--toy-steps", "2", "--recipes", "gan", "--toy-recipes", "wgan", "-n", "100"]
    argv += ["--kid-subsets", "2", "--trials", "2", "--toy-trials", "2", "--trials-mode", "sequential"]
    argv += ["--out", str(out), "--doc", str(doc)]
    compare.main([*argv, "--recipe-steps", "gan=3"])
    cell = out / "gan-seeds0-1"
    saved = json.loads((cell / "config.json").read_text())["train"]
    assert (saved["seeds"], saved["trials_mode"]) == ([0, 1], "sequential")  # one trials run per cell
    results = _trials(cell)
    assert [r["training"]["config"]["train"]["seed"] for r in results] == [0, 1]  # each trial scored on its own
    assert all(r["training"]["steps"] == 3 and r["training"]["images_per_s"] > 0 for r in results)
    fids = [r["metrics"]["fid"] for r in results]
    assert fids[0] != fids[1]
    text = doc.read_text()
    assert f"| gan | 3 | 2 | {md.mean_se(fids, 2)} |" in text  # mean ± s.e. over the trials' eval.json
    ring = _trials(out / "ring8-wgan-seeds0-1")
    assert ring[0]["training"]["config"]["loss"]["clip_value"] == 0.01  # the objective's own regulariser
    assert ring[1]["training"]["config"]["model"]["arch"] == "mlp"
    modes = [r["metrics"]["modes"] for r in ring]
    covered, kl = md.mean_se([m["modes_covered"] for m in modes], 1), md.mean_se([m["kl_all"] for m in modes], 3)
    row = f"| wgan | 2 · 2 | {covered} | {md.mean_se([100 * m['high_quality'] for m in modes], 1)}% | {kl} |"
    assert row in text and "MNIST train images of digit 1 only" in text
    assert f"- Trained on: {hardware(machine('cpu'))}, torch {torch.__version__} (3 of the 3 cells)." in text
    precision = next(line for line in text.splitlines() if line.startswith("- Precision (`train.precision=auto`"))
    assert "ring8 wgan" in precision.split("fp32 for ")[1]  # the 2-D nets: fp32 on every machine
    assert {r["training"]["precision"] for r in results} <= {"fp32", "bf16"}  # each trial's engine line
    assert f"{results[0]['training']['precision']} for gan" in precision
    assert (doc.parent / "results" / "gan.png").is_file() and (doc.parent / "results" / "grid25-wgan.png").is_file()
    mtime, first = (cell / "trial-01" / "eval.json").stat().st_mtime, (cell / "trial-00" / "metrics.jsonl").read_text()

    compare.main([*argv, "--recipe-steps", "gan=3"])  # reuses the scored trials
    assert (cell / "trial-01" / "eval.json").stat().st_mtime == mtime
    compare.main([*argv, "--recipe-steps", "gan=4"])  # a larger budget resumes the cell's trials
    resumed = (cell / "trial-00" / "metrics.jsonl").read_text()
    assert resumed.startswith(first) and len(resumed.splitlines()) > len(first.splitlines())
    assert [r["training"]["steps"] for r in _trials(cell)] == [4, 4]
    assert f"| gan | 4 | 2 | {md.mean_se([r['metrics']['fid'] for r in _trials(cell)], 2)} |" in doc.read_text()
    compare.main(argv)  # a smaller budget than the trials stand at: trained again, not scored past it
    assert [r["subject"]["step"] for r in _trials(cell)] == [2, 2]
    with pytest.raises(SystemExit):
        compare.main([*argv, "--recipe-steps", "dcgan-stacked=3"])  # not a recipe of the table


def test_vectorised_trials_a_recipe_cannot_train_together_are_refused_before_any_training(tmp_path, capsys):
    out = tmp_path / "runs"
    argv = ["--recipes", "gan", "hinge", "--toy-steps", "0", "--trials-mode", "vectorised", "--out", str(out)]
    with pytest.raises(SystemExit) as refused:
        compare.main([*argv, "--doc", str(tmp_path / "results.md")])
    assert refused.value.code == 2 and not out.exists()  # not even the floor scored
    err = capsys.readouterr().err
    assert "hinge: spectral norm" in err and "gan:" not in err.replace("hinge:", "")


def test_hinge_spreads_over_the_ring_on_the_shared_2d_mlp(tmp_path):
    """Regression (issue 13): the hinge recipe's spectral norm, kept on the 2-D MLP, left D flat and G on 1-2 modes."""
    cfg = get_recipe("hinge").override(toy_overrides("ring8", TOY_STEPS, 0) | {"train.tensorboard": False})
    assert not cfg.model.spectral_norm and cfg.model.g_norm == "none"  # the same MLP as every other objective
    train(cfg, tmp_path / "run", echo=False)
    points = load_generator(tmp_path / "run").generate(2500, seed=0)
    report = count_toy_modes(points, ring8_modes())
    assert sum(c >= 100 for c in report.counts) >= 6, report.counts  # nearest-mode histogram over the 8 modes
    assert report.kl_all < 0.5, report.counts
