import json
import shutil

import pytest

import gankit.trials.runner as runner
from benchmarks import md
from benchmarks import mode_collapse as modes
from gankit.recipes import get_recipe

pytestmark = pytest.mark.slow  # the full lane only (pytest -m 'not slow' skips it)


def _covered(out, cell: str, trials) -> list[int]:
    """The modes covered by each trial of a cell (runs OUT/CELL-trialT), read from their eval.json."""
    return [
        json.loads((out / f"{cell}-trial{t}" / "eval.json").read_text())["metrics"]["modes"]["modes_covered"]
        for t in trials
    ]


@pytest.mark.parametrize("recipe", ["mbd", "fm", "mdgan", "pacgan2"])
def test_a_remedy_recipe_differs_from_the_plain_gan_only_in_the_remedy_fields(recipe):
    plain, remedy = get_recipe(modes.STACKED_BASE).flat(), get_recipe(recipe).flat()
    changed = {k for k in plain if plain[k] != remedy[k]} - {"recipe", "data.name"}
    assert changed and changed <= set(modes.REMEDY_FIELDS)


def test_remedy_overrides_take_the_recipe_values_and_packing_scales_the_batch():
    assert modes.REMEDIES["gan"].overrides() == {}
    assert modes.REMEDIES["mbstd"].overrides()["model.minibatch"] == "stddev"
    mdgan = modes.REMEDIES["mdgan"].overrides()
    assert mdgan["loss.reconstruction_weight"] == get_recipe("mdgan").loss.reconstruction_weight
    pac4 = modes.REMEDIES["pacgan4"]
    assert pac4.pack == 4
    assert modes.remedy_run_overrides(pac4, {}, 64, "packs")["train.batch_size"] == 256
    assert modes.remedy_run_overrides(pac4, {}, 64, "samples")["train.batch_size"] == 64


def test_a_tiny_benchmark_is_trained_scored_and_written(tmp_path):
    doc, out = tmp_path / "docs" / "results.md", tmp_path / "runs"
    argv = ["--toy-steps", "2", "--toy-data", "ring8", "--remedies", "gan", "pacgan2", "--seeds", "0"]
    argv += ["--stacked-steps", "1", "--stacked-remedies", "gan", "--stacked-n", "200"]
    modes.main([*argv, "--out", str(out), "--doc", str(doc)])
    text = doc.read_text()
    packed = json.loads((out / "ring8-pacgan2-seed0" / "eval.json").read_text())
    assert packed["training"]["config"]["model"]["pack"] == 2
    assert packed["training"]["config"]["train"]["batch_size"] == 128  # 64 packs of 2
    assert packed["training"]["config"]["model"]["arch"] == "mlp"
    assert packed["machine"]["device"] == "cpu" and "--toy-steps 2" in packed["machine"]["command"]
    m = packed["metrics"]["modes"]
    assert f"| packing, m = 2 (PacGAN2) | 1 | {m['modes_covered']:.1f} | 7.9 ± 0.1 |" in text  # read from eval.json
    stacked = json.loads((out / "stacked-gan-seed0" / "eval.json").read_text())
    assert stacked["metrics"]["modes"]["n_samples"] == 200
    assert "### Stacked MNIST" in text and "| 99.0 |" in text and "the floor" in text
    assert (doc.parent / "results" / "modes-ring8.png").is_file()
    assert (doc.parent / "results" / "stacked-gan.png").is_file()
    mtime = (out / "ring8-gan-seed0" / "eval.json").stat().st_mtime
    modes.main([*argv, "--out", str(out), "--doc", str(doc)])  # a second call reuses the finished runs
    assert (out / "ring8-gan-seed0" / "eval.json").stat().st_mtime == mtime
    assert doc.read_text().count("<!-- mode-collapse: begin -->") == 1


def test_the_paper_comparison_weighs_both_standard_errors():
    def runs(*modes_covered):
        return [{"metrics": {"modes": {"modes_covered": k}}} for k in modes_covered]

    (words,) = modes.paper_comparison(modes.VEEGAN, {(64, 1): runs(60, 100), (64, 2): runs(990, 992)})
    # 80 ± 20 against 78.9 ± 6.5: within 2·√(20² + 6.5²); 991 ± 1 against 1000 ± 0: more than 2 SE below
    assert words == (
        "Modes covered, ours against PacGAN's Table 2: single stacks 80.0 against 78.9 (within two standard "
        "errors); packs of 2 991.0 against 1000 (below)."
    )
    (words,) = modes.paper_comparison(modes.SMALL_D, {(4, 2): runs(900, 910)})
    assert words.endswith("packs of 2, D = ½G 905.0 against 840.7 (above).")  # 840.7 + 2·√(15.9² + 5²) < 905


def test_pacgans_protocol_trains_each_cell_as_one_trials_run_and_writes_its_own_section(tmp_path, monkeypatch):
    doc, out = tmp_path / "docs" / "results.md", tmp_path / "runs"
    doc.parent.mkdir()
    doc.write_text("<!-- mode-collapse: begin -->\nkept\n<!-- mode-collapse: end -->\n")
    argv = ["--toy-steps", "0", "--pacgan-data", "ring8", "--pacgan-packs", "1", "2", "--pacgan-trials", "0", "1"]
    argv += [
        "--pacgan-checkpoint-every",
        "2",
        "--pacgan-trials-mode",
        "vectorised",
        "--out",
        str(out),
        "--doc",
        str(doc),
    ]
    modes.main([*argv, "--pacgan-steps", "2"])
    cell = out / "pacgan-ring8-m2-x2"
    assert json.loads((cell / "config.json").read_text())["train"]["seeds"] == [0, 1]  # one trials run per cell
    run = json.loads((cell / "trial-01" / "eval.json").read_text())
    cfg = run["training"]["config"]
    assert (cfg["recipe"], cfg["model"]["arch"], cfg["model"]["pack"]) == ("pacgan-2d", "maxout", 2)
    assert (cfg["train"]["batch_size"], cfg["train"]["seed"], cfg["train"]["steps"]) == (200, 1, 2)  # 100 packs
    assert cfg["train"]["g_noise"] == "shared"  # their one graph: G's gradient at the z of D's
    assert run["trials_mode"] == "vectorised" and run["machine"]["command"]
    assert set(run["metrics"]["modes"]) >= {"kl_hq", "kl_all", "high_quality", "modes_covered"}
    text = doc.read_text()
    assert "kept" in text and text.count("<!-- pacgan-2d: begin -->") == 1
    covered = [
        json.loads((cell / f"trial-0{k}" / "eval.json").read_text())["metrics"]["modes"]["modes_covered"]
        for k in (0, 1)
    ]
    row = f"| packs of 2 (PacGAN2) | 2 | {md.mean_se(covered, 1)} | 7.9 ± 0.1 |"
    assert row in text  # ours read from eval.json, mean ± standard error, beside PacGAN's Table 1
    assert (doc.parent / "results" / "pacgan-ring8.png").is_file()
    first = (cell / "trial-00" / "metrics.jsonl").read_text()

    modes.main([*argv, "--pacgan-steps", "4"])  # a larger budget resumes each cell's trials
    resumed = (cell / "trial-00" / "metrics.jsonl").read_text()
    assert resumed.startswith(first) and len(resumed.splitlines()) > len(first.splitlines())
    assert json.loads((cell / "trial-00" / "eval.json").read_text())["training"]["steps"] == 4
    text, figure = doc.read_text(), (doc.parent / "results" / "pacgan-ring8.png").read_bytes()
    assert "4 steps per trial" in text

    shutil.rmtree(out)  # another session: the run folders are gone, the kept cells (committed) are not
    kept = doc.parent / "results" / "scores" / "pacgan-ring8-m2-x2"
    assert (
        json.loads((kept / "cell.json").read_text())["scored"] == [0, 1]
        and (kept / "trial-01" / modes.POINTS).is_file()
    )
    monkeypatch.setattr(runner, "train_trials", lambda *a, **k: pytest.fail("a kept cell was trained again"))
    modes.main([*argv, "--pacgan-steps", "4"])
    assert doc.read_text() == text and (doc.parent / "results" / "pacgan-ring8.png").read_bytes() == figure


def test_the_two_standard_error_verdict_says_which_side_a_cell_lies():
    assert modes.two_se_verdict([6.0, 7.0, 6.0, 7.0], "6.3 ± 0.5") == "≈"  # 6.5 ± 0.29 against 6.3 ± 0.5
    assert modes.two_se_verdict([3.0, 4.0, 3.0, 4.0], "6.3 ± 0.5") == "below"  # 3.5: 2.8 apart > 2·0.58
    assert modes.two_se_verdict([8.0, 8.0, 8.0, 8.0], "6.3 ± 0.5") == "above"  # 1.7 apart > 2·0.5
    assert modes.two_se_verdict([8.0], "6.3 ± 0.5") == "–"


@pytest.mark.parametrize(
    "flag,cell,recipe,arch,width,packs,g_steps,row,trials,packings",
    [
        (
            "small-d",
            "small-d2-m2",
            "pacgan-stacked",
            "small-dcgan",
            2,
            128,
            1,
            "| ¼G | packs of 2 (PacDCGAN2) |",
            [0, 1],
            [1, 2],
        ),
        (  # one trial and one packing: the paper-width DCGAN's runs are the slow ones; the small-D case writes a
            # mean ± SE of two trials and a row for each of two packings
            "veegan",
            "veegan-m2",
            "pacgan-veegan",
            "dcgan-tf",
            64,
            64,
            2,
            "| DCGAN's (64–512) | packs of 2 (PacDCGAN2) |",
            [1],
            [2],
        ),
    ],
)
def test_a_stacked_protocol_is_trained_with_its_recipe_and_written_in_its_own_section(
    tmp_path, flag, cell, recipe, arch, width, packs, g_steps, row, trials, packings
):
    doc, out = tmp_path / "docs" / "results.md", tmp_path / "runs"
    doc.parent.mkdir()
    doc.write_text("<!-- pacgan-2d: begin -->\nkept\n<!-- pacgan-2d: end -->\n")
    # one step per run: the protocols train their recipes' nets at the paper's widths and batches (the veegan
    # protocol's DCGAN at batch 64 and 128 takes ~1.5 s a step on 2 CPU cores), and nothing here needs a second
    argv = ["--toy-steps", "0", f"--{flag}-steps", "1", f"--{flag}-packs", *map(str, packings)]
    argv += [f"--{flag}-trials", *map(str, trials)]
    modes.main([*argv, f"--{flag}-n", "40", "--out", str(out), "--doc", str(doc)])
    run = json.loads((out / f"{cell}-trial1" / "eval.json").read_text())
    cfg = run["training"]["config"]
    assert (cfg["recipe"], cfg["model"]["arch"], cfg["model"]["pack"], cfg["model"]["d_width"]) == (
        recipe,
        arch,
        2,
        width,
    )
    assert (cfg["train"]["batch_size"], cfg["train"]["seed"], cfg["train"]["steps"]) == (2 * packs, 1, 1)
    assert cfg["train"]["g_steps"] == g_steps
    assert run["protocol"]["n_fake"] == 40
    text = doc.read_text()
    assert "kept" in text and text.count(f"<!-- {recipe}: begin -->") == 1
    paper = modes.PROTOCOLS_BY_KIND[flag].paper[(width, 2)][0]
    ours = md.mean_se(_covered(out, cell, trials), 1)
    assert f"{row} {len(trials)} | {ours} | {paper} |" in text  # ours beside the paper's
    assert all((doc.parent / "results" / f"{cell.replace('m2', f'm{m}')}.png").is_file() for m in packings)
