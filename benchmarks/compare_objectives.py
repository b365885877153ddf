"""Train every objective on MNIST (and on the 2-D ring and grid) over many trials, score them, write a table.

    python benchmarks/compare_objectives.py --data-dir ../shared/data/mnist --steps 1500 \
        --recipe-steps gan=5000 nsgan=5000 --trials 5 --toy-steps 3000 --toy-trials 10 --out runs/compare \
        --doc docs/results.md

Each cell (an image recipe, or an objective on a 2-D mixture) is ONE trials run of gankit
(``train.seeds``: ``--trials`` seeds from ``--seed0`` for MNIST, ``--toy-trials`` for the 2-D mixtures; folder
``OUT/RECIPE-seedsA-B``, each trial an ordinary run in ``trial-KK``), its trials trained as ``--trials-mode``
says (``train.trials_mode``; ``auto``: together where gankit's probe measures that faster). An MNIST cell trains
with the recipe's paper defaults and ``--steps`` (or its ``--recipe-steps`` budget: the MLP recipes' steps are far
cheaper); each trial is then scored like ``gankit eval`` (10,000 samples against the 10,000 MNIST test images,
features of gankit's MNIST classifier) into its own ``trial-KK/eval.json``. The real-data floor (``gankit eval
--real``: train vs test, blurred, one class) is scored first. For the 2-D benchmarks every objective is trained
with the same MLP (3 hidden layers of 256, z ~ N(0, I₂)) and its own loss, regulariser, optimiser, batch and
n_critic, then scored with the PacGAN protocol (2,500 samples). The tables give mean ± standard error over
trials. Scored trials of the same config are reused, so an interrupted table can be continued; a cell asked for
with more steps resumes its trials from their final checkpoints; a cell whose recipe has changed since is
trained again. Each scored cell is also kept in ``--scores`` (default ``<doc folder>/results/scores``: small JSON
files, committed), so a table too long for one sitting is finished over several, on other machines too: a kept
cell of the same config is not trained again, and the page names the machine(s) its cells trained on. Every
number in the Markdown file comes from the trials' JSON results; the figures are the first trial's.

The file is rewritten whole, except for marked sections (``<!-- NAME: begin -->`` … ``<!-- NAME: end -->``)
that other scripts own (``md.write_section``; e.g. ``mode_collapse.py``'s): they are kept, at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch

import gankit
from gankit.metrics.evaluate import evaluate_real, write_result
from gankit.metrics.extractors import load_extractor
from gankit.metrics.protocol import Protocol

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import (
    TOY_DATA,
    cell_seconds,
    hardware,
    image_overrides,
    last_figure,
    log,
    toy_overrides,
    trials_and_score,
)

IMAGE_RECIPES = ("gan", "nsgan", "dcgan", "lsgan", "hinge", "wgan", "wgan-gp", "rsgan", "ragan", "ralsgan")
TOY_RECIPES = ("gan", "nsgan", "lsgan", "hinge", "wgan", "wgan-gp", "rsgan", "ragan", "ralsgan")
# Lucic et al. 2018, MNIST FIDs (Inception features; their MM = our gan, NS = our nsgan): rankings only.
LUCIC_MNIST_FID = {"gan": 9.8, "nsgan": 6.8, "lsgan": 7.8, "wgan": 6.7, "wgan-gp": 20.3}
PACGAN_GAN_MODES = {"ring8": "6.3 of 8", "grid25": "17.3 of 25"}  # PacGAN (Lin et al. 2018) Table 1, GAN row


TRIALS_MODES = ("auto", "vectorised", "sequential")  # train.trials_mode


def _steps(training: list[dict[str, Any]]) -> str:
    return "/".join(sorted({f"{y['steps']:,}" for y in training}))


def trials_cell(runs: list[dict[str, Any]]) -> str:
    """A cell's trial count, and how many of them diverged (those are scored at their last checkpoint)."""
    diverged = sum(r.get("diverged_at") is not None for r in runs)
    return str(len(runs)) + (f" ({diverged} diverged)" if diverged else "")


def cell_images_per_s(runs: list[dict[str, Any]]) -> float:
    """Real images D took per second over a cell's trials: every trial's images over the cell's training time."""
    images = sum(r["training"]["images_per_s"] * r["training"]["seconds"] for r in runs)
    return images / cell_seconds(runs)


def image_table(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One row per recipe: mean ± standard error over its trials, the cell's speed and time, Lucic et al.'s FID."""
    header = ["recipe", "steps", "trials", "FID ↓", "KID ×10³ ↓", "precision ↑", "recall ↑", "density", "coverage ↑"]
    header += ["classes covered", "KL(p‖uniform) ↓", "classifier score ↑", "images/s", "train time (s)"]
    rows = []
    for name, runs in results.items():
        m = [r["metrics"] for r in runs]
        rows.append(
            [
                name,
                _steps([r["training"] for r in runs]),
                trials_cell(runs),
                md.mean_se([x["fid"] for x in m], 2),
                md.mean_se([1e3 * x["kid"] for x in m], 2),
                *(md.mean_se([x[k] for x in m], 2) for k in ("precision", "recall", "density", "coverage")),
                md.mean_se([x["classes"]["modes_covered"] for x in m], 1),
                md.mean_se([x["classes"]["reverse_kl"] for x in m], 3),
                md.mean_se([x["classifier_score"] for x in m], 2),
                f"{cell_images_per_s(runs):.0f}",
                f"{cell_seconds(runs):.0f}",
                LUCIC_MNIST_FID.get(name, "–"),
            ]
        )
    return md.table([*header, "Lucic et al. FID"], "l" + "r" * 14, rows)


def floor_table(floors: dict[str, dict[str, Any]]) -> list[str]:
    header = ["scored set (vs the reference)", "n", "FID", "KID ×10³", "precision", "recall", "classes covered"]
    rows = [
        [
            label,
            f"{r['protocol']['n_fake']:,}",
            f"{r['metrics']['fid']:.2f}",
            f"{1e3 * r['metrics']['kid']:.2f}",
            f"{r['metrics']['precision']:.3f}",
            f"{r['metrics']['recall']:.3f}",
            r["metrics"]["classes"]["modes_covered"],
            f"{r['metrics']['classifier_score']:.2f}",
        ]
        for label, r in floors.items()
    ]
    return md.table([*header, "classifier score"], "l" + "r" * 7, rows)


def toy_table(results: dict[str, dict[str, list[dict[str, Any]]]]) -> list[str]:
    """One row per objective: mean ± standard error over each mixture's trials."""
    header = ["objective", "trials", "ring8: modes (of 8)", "ring8: high quality", "ring8: KL"]
    header += ["grid25: modes (of 25)", "grid25: high quality", "grid25: KL"]
    rows = []
    for name, by_data in results.items():
        cells = [name, " · ".join(trials_cell(by_data[data]) for data in TOY_DATA)]
        for data in TOY_DATA:
            modes = [r["metrics"]["modes"] for r in by_data[data]]
            cells += [
                md.mean_se([x["modes_covered"] for x in modes], 1),
                md.mean_se([100 * x["high_quality"] for x in modes], 1) + "%",
                md.mean_se([x["kl_all"] for x in modes], 3),
            ]
        rows.append(cells)
    return md.table(header, "l" + "r" * 7, rows)


def ranking_lines(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Best-first order by mean FID here, and the order of the same recipes in Lucic et al. 2018."""
    fid = {name: statistics.mean(r["metrics"]["fid"] for r in runs) for name, runs in results.items()}
    ours = sorted(fid, key=fid.get)
    common = [name for name in ours if name in LUCIC_MNIST_FID]
    theirs = sorted(common, key=LUCIC_MNIST_FID.get)
    return [
        "- By FID here (best first): " + " < ".join(f"{n} ({fid[n]:.2f})" for n in ours) + ".",
        "- The same recipes here: " + " < ".join(common) + ".",
        "- Lucic et al. 2018, MNIST, Inception FID (best first): "
        + " < ".join(f"{n} ({LUCIC_MNIST_FID[n]})" for n in theirs)
        + ". Their numbers come from a large hyper-parameter search and long training; here each "
        "recipe has its paper defaults and a short budget, so only the order is compared.",
    ]


def trials_lines(args: argparse.Namespace, sections: dict[str, Any]) -> list[str]:
    """The protocol's bullet on trials: how many, their seeds, how they trained."""
    cells = {name: runs for name, runs in sections.get("images", {}).items()}
    cells |= {
        f"{data} {name}": runs for name, by_data in sections.get("toy", {}).items() for data, runs in by_data.items()
    }
    together = [name for name, runs in cells.items() if runs[0]["trials_mode"] == "vectorised"]
    precisions: dict[str, list[str]] = {}
    for name, runs in cells.items():
        chosen = sorted({str(r["training"].get("precision") or "not recorded") for r in runs})
        precisions.setdefault(" or ".join(chosen), []).append(name)
    machines = Counter(
        f"{hardware(m)}, torch {m['torch']}" if (m := runs[0].get("machine")) else "a machine not recorded"
        for runs in cells.values()
    )
    counts = []
    if args.recipes:
        counts.append(f"{args.trials} per MNIST recipe")
    if args.toy_steps > 0:
        counts.append(f"{args.toy_trials} per 2-D cell")
    return [
        f"- Trials: {' and '.join(counts) or 'none'}; each cell is one gankit trials run (`train.seeds` "
        f"{args.seed0}, {args.seed0 + 1}, …: each trial its own initialisation, data order and noise), each trial "
        f"scored on its own (`RUN/trial-KK/eval.json`). Trials trained as `train.trials_mode={args.trials_mode}` "
        "chose: together as "
        f"one vectorised model for {', '.join(together) or 'no cell'}, one after another for the others. "
        "*images/s* and *train time* are the cell's: the sum over trials trained one after another, the shared "
        "clock of trials trained together.",
        "- Trained on: "
        + "; ".join(f"{machine} ({n} of the {len(cells)} cells)" for machine, n in machines.items())
        + ". Times and images/s compare only between cells of one machine.",
        "- Precision (`train.precision=auto`: the engine's choice on that machine, from each trial's `log.txt`): "
        + "; ".join(f"{p} for {', '.join(names)}" for p, names in precisions.items())
        + ".",
    ]


def write_doc(path: Path, args: argparse.Namespace, sections: dict[str, Any]) -> None:
    card = load_extractor("mnist").protocol()
    ref = next(iter(sections["floor"].values()))["protocol"]
    lines = [
        "# Results: every objective on MNIST and on the 2-D mode-collapse benchmarks",
        "",
        "Produced by `benchmarks/compare_objectives.py`; every number below is read from the runs' `eval.json`.",
        "",
        *md.code_block("python benchmarks/compare_objectives.py " + " ".join(args.argv)),
        "",
        f"gankit {gankit.__version__}, torch {torch.__version__}, {platform.machine()}, "
        f"{torch.get_num_threads()} threads, device cpu; {time.strftime('%Y-%m-%d', time.gmtime())}. "
        "Mean ± standard error (s / √n) over trials.",
        "",
        "## Protocol",
        "",
        f"- Features: gankit's MNIST classifier (`{card['weights']}`, SHA-256 `{card['sha256'][:16]}…`, "
        f"test accuracy {100 * card['test_accuracy']:.2f}%), 128-d penultimate layer; not Inception, so the "
        "values are not comparable with published FIDs, only rankings are.",
        f"- Reference: the first {ref['n_real']:,} images of {ref['reference']['source']} (MNIST test split).",
        f"- FID and KID ({ref['kid']['subsets']} subsets of {ref['kid']['subset_size']:,}, cubic kernel) of "
        f"{args.n:,} samples against the reference. Precision, recall, density, coverage: k = {ref['prdc_k']} "
        "nearest neighbours in the same features.",
        "- Classes: each sample labelled by the classifier; a class is covered when it holds ≥ 10% of its "
        f"uniform share (≥ {math.ceil(0.1 * args.n / 10)} of {args.n:,}); KL(p‖uniform) in nats of the class "
        "histogram (0 for perfectly even classes, log 10 = 2.303 for a single class).",
    ]
    if args.recipes:
        lines.append(
            f"- MNIST budget: the *steps* column's generator steps per trial ({args.steps} unless `--recipe-steps` "
            "says otherwise), with each recipe's own batch size and n_critic (so the images seen differ), final "
            "weights (no EMA)."
        )
    else:
        lines.append(
            "- MNIST objectives: not run in this call (`--recipes` left empty); the same command without "
            "`--recipes` adds them (finished runs are reused)."
        )
    if args.toy_steps > 0:
        lines.append(f"- 2-D budget: {args.toy_steps} generator steps per trial.")
    lines += [*trials_lines(args, sections), ""]
    if "floor" in sections:
        lines += ["## The floor: real data scored as if generated", "", *floor_table(sections["floor"]), ""]
    if "images" in sections:
        lines += ["## MNIST", "", *image_table(sections["images"]), ""]
        grids = [md.image(name, f"results/{name}.png") for name in sections["images"]]
        lines += ["Samples (final step, fixed z, first trial):", ""]
        lines += [*md.table(list(sections["images"]), "l" * len(grids), [grids]), ""]
    if "toy" in sections:
        lines += ["## 2-D mixtures (PacGAN protocol: 2,500 samples, high quality within 3σ)", ""]
        lines += [*toy_table(sections["toy"]), ""]
        ring, grid = PACGAN_GAN_MODES["ring8"], PACGAN_GAN_MODES["grid25"]
        lines += [f"PacGAN (Lin et al. 2018, Table 1), unpacked GAN: {ring} ring modes, {grid} grid modes.", ""]
        names = list(sections["toy"])
        lines += ["Samples (final step, first trial; grey: real points):", ""]
        rows = [[data, *(md.image(f"{data} {n}", f"results/{data}-{n}.png") for n in names)] for data in TOY_DATA]
        lines += [*md.table(["data", *names], "l" * (len(names) + 1), rows), ""]
    if "images" in sections:
        lines += ["## Rankings", "", *ranking_lines(sections["images"]), ""]
    md.write_page(path, "\n".join(lines))  # other scripts' sections stay


def _recipe_steps(text: str) -> tuple[str, int]:
    name, _, steps = text.partition("=")
    if name not in IMAGE_RECIPES or not steps.isdigit():
        raise argparse.ArgumentTypeError(f"expected RECIPE=STEPS with RECIPE one of {', '.join(IMAGE_RECIPES)}")
    return name, int(steps)


def cell_dir(out: Path, prefix: str, seed0: int, trials: int) -> Path:
    """The folder of a cell's trials run: ``OUT/PREFIX-seedsA-B``."""
    return out / f"{prefix}-seeds{seed0}-{seed0 + trials - 1}"


def trial_overrides(args: argparse.Namespace, trials: int) -> dict[str, Any]:
    """A cell's trials: ``trials`` seeds from ``--seed0``, trained as ``--trials-mode`` says."""
    seeds = tuple(range(args.seed0, args.seed0 + trials))
    return {"train.seeds": seeds, "train.trials": trials, "train.trials_mode": args.trials_mode}


def vectorised_refusals(cells: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The cells (recipe, overrides) whose trials cannot train together, each with the reason."""
    from gankit.recipes import get_recipe
    from gankit.trials.mode import together_refusal

    refusals = ((name, together_refusal(get_recipe(name).override(overrides))) for name, overrides in cells)
    return [f"{name}: {reason}" for name, reason in refusals if reason is not None]


def run_cell(
    name: str,
    overrides: dict[str, Any],
    run_dir: Path,
    n: int | None,
    kid_subsets: int = 100,
    scores: Path | None = None,
) -> list:
    """Train and score one cell's trials (reusing scored or kept trials); each result says how its trial trained."""
    return trials_and_score(name, overrides, run_dir, n, log, kid_subsets, scores)


def copy_figure(run_dir: Path, scores: Path, to: Path) -> None:
    """The first trial's last sample figure to ``to``: from the run folder, or kept with the cell's scores."""
    figure = last_figure(run_dir, scores)
    if figure is not None:
        shutil.copy(figure, to)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", help="folder with the MNIST IDX files (default: gankit's search, then the sample)")
    p.add_argument("--steps", type=int, default=1500, help="generator steps per MNIST run")
    p.add_argument(
        "--recipe-steps",
        nargs="*",
        default=[],
        metavar="RECIPE=STEPS",
        type=_recipe_steps,
        help="another budget for some recipes, e.g. gan=5000 (the cheap MLP recipes)",
    )
    p.add_argument("--toy-steps", type=int, default=3000, help="generator steps per 2-D run (0: skip the 2-D table)")
    p.add_argument("--trials", type=int, default=5, help="trials (seeds) per MNIST recipe, one trials run each")
    p.add_argument("--toy-trials", type=int, default=10, help="trials (seeds) per 2-D cell, one trials run each")
    p.add_argument("--seed0", type=int, default=0, help="the first trial's seed: trial k has seed seed0 + k")
    p.add_argument("--trials-mode", choices=TRIALS_MODES, default="auto", help="how a cell's trials train")
    p.add_argument("--recipes", nargs="*", default=list(IMAGE_RECIPES), choices=IMAGE_RECIPES, help="none: skip MNIST")
    p.add_argument("--toy-recipes", nargs="+", default=list(TOY_RECIPES), choices=TOY_RECIPES)
    p.add_argument("-n", type=int, default=10_000, help="samples per image evaluation")
    p.add_argument("--kid-subsets", type=int, default=100, help="KID subsets of 1,000 samples")
    p.add_argument("--out", default="runs/compare", help="folder of the runs")
    p.add_argument("--doc", default="docs/results.md")
    p.add_argument("--scores", help="folder of the kept cell scores (default: <doc folder>/results/scores)")
    args = p.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if min(args.trials, args.toy_trials) < 1:
        p.error("--trials and --toy-trials count the trials of a cell: at least 1")
    out, doc = Path(args.out), Path(args.doc)
    scores = Path(args.scores) if args.scores else doc.parent / "results" / "scores"
    steps = dict(args.recipe_steps)
    trials = trial_overrides(args, args.trials)
    image_cells = {
        name: image_overrides(steps.get(name, args.steps), args.seed0, args.data_dir) | trials for name in args.recipes
    }
    toy_cells = {
        (name, data): toy_overrides(data, args.toy_steps, args.seed0) | trial_overrides(args, args.toy_trials)
        for name in (args.toy_recipes if args.toy_steps > 0 else [])
        for data in TOY_DATA
    }
    if args.trials_mode == "vectorised":  # refused before hours of training, not at the first such cell
        cells = [*image_cells.items(), *((name, o) for (name, _), o in toy_cells.items())]
        refused = vectorised_refusals(cells)
        if refused:
            p.error(f"--trials-mode vectorised: {'; '.join(refused)}; use --trials-mode auto")

    sections: dict[str, Any] = {}
    floors: dict[str, dict[str, Any]] = {}
    for label, kwargs in (
        ("MNIST train images", {}),
        ("MNIST train images, Gaussian blur σ = 1", {"blur": 1.0}),
        ("MNIST train images of digit 1 only", {"only": 1}),
    ):
        path = out / "real" / (label.replace(" ", "-").replace(",", "").replace("=", "") + ".json")
        if not path.is_file():
            protocol = Protocol(n_fake=args.n, data_dir=args.data_dir, kid_subsets=args.kid_subsets)
            write_result(evaluate_real("mnist", protocol, **kwargs), path)
        floors[label] = json.loads(path.read_text())
        log(f"{label}: FID {floors[label]['metrics']['fid']:.3f}")
    sections["floor"] = floors

    (doc.parent / "results").mkdir(parents=True, exist_ok=True)
    images: dict[str, list[dict[str, Any]]] = {}
    for name, overrides in image_cells.items():
        run_dir = cell_dir(out, name, args.seed0, args.trials)
        images[name] = run_cell(name, overrides, run_dir, args.n, args.kid_subsets, scores)
        fids = [r["metrics"]["fid"] for r in images[name]]
        log(f"{name}: FID {md.mean_se(fids, 3)} over {len(fids)} trials")
        copy_figure(run_dir, scores, doc.parent / "results" / f"{name}.png")
    if images:
        sections["images"] = images

    toy: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for (name, data), overrides in toy_cells.items():
        run_dir = cell_dir(out, f"{data}-{name}", args.seed0, args.toy_trials)
        toy.setdefault(name, {})[data] = run_cell(name, overrides, run_dir, None, scores=scores)
        modes = [r["metrics"]["modes"]["modes_covered"] for r in toy[name][data]]
        log(f"{data} {name}: {md.mean_se(modes, 1)} modes over {len(modes)} trials")
        copy_figure(run_dir, scores, doc.parent / "results" / f"{data}-{name}.png")
    if toy:
        sections["toy"] = toy
    write_doc(doc, args, sections)
    log(f"wrote {doc}")


if __name__ == "__main__":
    main()
