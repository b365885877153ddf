"""Train every objective on MNIST (and on the 2-D ring and grid), score them, write a table.

    python benchmarks/compare_objectives.py --data-dir ../shared/data/mnist --steps 1500 \
        --recipe-steps gan=5000 nsgan=5000 --seeds 0 --toy-steps 3000 --out runs/compare --doc docs/results.md

For each image recipe and seed: ``gankit train`` with the recipe's paper defaults and ``--steps`` (or its
``--recipe-steps`` budget: the MLP recipes' steps are far cheaper), then
``gankit eval`` (10,000 samples against the 10,000 MNIST test images, features of gankit's MNIST
classifier). The real-data floor (``gankit eval --real``: train vs test, blurred, one class) is scored
first. For the 2-D benchmarks every objective is trained with the same MLP (3 hidden layers of 256,
z ~ N(0, I₂)) and its own loss, regulariser, optimiser, batch and n_critic, then scored with the PacGAN
protocol (2,500 samples). Finished runs (those with an ``eval.json``) of the same config are reused, so an
interrupted table can be continued; a run whose recipe has changed since is trained again. Every number in
the Markdown file comes from the runs' JSON results.

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
from pathlib import Path
from typing import Any

import torch

import gankit
from gankit.metrics.evaluate import evaluate_real, write_result
from gankit.metrics.extractors import load_extractor
from gankit.metrics.protocol import Protocol

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import TOY_DATA, image_overrides, log, run_and_score, toy_overrides

IMAGE_RECIPES = ("gan", "nsgan", "dcgan", "lsgan", "hinge", "wgan", "wgan-gp", "rsgan", "ragan", "ralsgan")
TOY_RECIPES = ("gan", "nsgan", "lsgan", "hinge", "wgan", "wgan-gp", "rsgan", "ragan", "ralsgan")
# Lucic et al. 2018, MNIST FIDs (Inception features; their MM = our gan, NS = our nsgan): rankings only.
LUCIC_MNIST_FID = {"gan": 9.8, "nsgan": 6.8, "lsgan": 7.8, "wgan": 6.7, "wgan-gp": 20.3}
PACGAN_GAN_MODES = {"ring8": "6.3 of 8", "grid25": "17.3 of 25"}  # PacGAN (Lin et al. 2018) Table 1, GAN row


def _steps(training: list[dict[str, Any]]) -> str:
    return "/".join(sorted({f"{y['steps']:,}" for y in training}))


def image_table(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    header = ["recipe", "steps", "FID ↓", "KID ×10³ ↓", "precision ↑", "recall ↑", "density", "coverage ↑"]
    header += ["classes covered", "KL(p‖uniform) ↓", "classifier score ↑", "images/s", "train time (s)"]
    rows = []
    for name, runs in results.items():
        m = [r["metrics"] for r in runs]
        t = [r["training"] for r in runs]
        rows.append(
            [
                name,
                _steps(t),
                md.mean_spread([x["fid"] for x in m]),
                md.mean_spread([1e3 * x["kid"] for x in m]),
                *(md.mean_spread([x[k] for x in m]) for k in ("precision", "recall", "density", "coverage")),
                md.mean_spread([x["classes"]["modes_covered"] for x in m], 1),
                md.mean_spread([x["classes"]["reverse_kl"] for x in m], 3),
                md.mean_spread([x["classifier_score"] for x in m]),
                md.mean_spread([y["images_per_s"] for y in t], 0),
                md.mean_spread([y["seconds"] for y in t], 0),
                LUCIC_MNIST_FID.get(name, "–"),
            ]
        )
    return md.table([*header, "Lucic et al. FID"], "l" + "r" * 13, rows)


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
    header = ["objective", "ring8: modes (of 8)", "ring8: high quality", "ring8: KL"]
    header += ["grid25: modes (of 25)", "grid25: high quality", "grid25: KL"]
    rows = []
    for name, by_data in results.items():
        cells = [name]
        for data in TOY_DATA:
            modes = [r["metrics"]["modes"] for r in by_data[data]]
            cells += [
                md.mean_spread([x["modes_covered"] for x in modes], 1),
                md.mean_spread([100 * x["high_quality"] for x in modes], 1) + "%",
                md.mean_spread([x["kl_all"] for x in modes], 3),
            ]
        rows.append(cells)
    return md.table(header, "l" + "r" * 6, rows)


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
        + ". Their numbers come from a large hyper-parameter search and long training; here every "
        "recipe runs once with its paper defaults and a short budget, so only the order is compared.",
    ]


def write_doc(path: Path, args: argparse.Namespace, sections: dict[str, Any]) -> None:
    card = load_extractor("mnist").protocol()
    ref = next(iter(sections["floor"].values()))["protocol"]
    seeds = ", ".join(map(str, args.seeds))
    lines = [
        "# Results: every objective on MNIST and on the 2-D mode-collapse benchmarks",
        "",
        "Produced by `benchmarks/compare_objectives.py`; every number below is read from the runs' `eval.json`.",
        "",
        *md.code_block("python benchmarks/compare_objectives.py " + " ".join(args.argv)),
        "",
        f"gankit {gankit.__version__}, torch {torch.__version__}, {platform.machine()}, "
        f"{torch.get_num_threads()} threads, device cpu; {time.strftime('%Y-%m-%d', time.gmtime())}. "
        f"Seeds: {seeds} (mean ± standard deviation over seeds where there are several).",
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
            f"- MNIST budget: the *steps* column's generator steps per run ({args.steps} unless `--recipe-steps` "
            "says otherwise), with each recipe's own batch size and n_critic (so the images seen differ), final "
            "weights (no EMA)."
        )
    else:
        lines.append(
            "- MNIST objectives: not run in this call (`--recipes` left empty); the same command without "
            "`--recipes` adds them (finished runs are reused)."
        )
    if args.toy_steps > 0:
        lines.append(f"- 2-D budget: {args.toy_steps} generator steps per run.")
    lines.append("")
    if "floor" in sections:
        lines += ["## The floor: real data scored as if generated", "", *floor_table(sections["floor"]), ""]
    if "images" in sections:
        lines += ["## MNIST", "", *image_table(sections["images"]), ""]
        grids = [md.image(name, f"results/{name}.png") for name in sections["images"]]
        lines += ["Samples (final step, fixed z, first seed):", ""]
        lines += [*md.table(list(sections["images"]), "l" * len(grids), [grids]), ""]
    if "toy" in sections:
        lines += ["## 2-D mixtures (PacGAN protocol: 2,500 samples, high quality within 3σ)", ""]
        lines += [*toy_table(sections["toy"]), ""]
        ring, grid = PACGAN_GAN_MODES["ring8"], PACGAN_GAN_MODES["grid25"]
        lines += [f"PacGAN (Lin et al. 2018, Table 1), unpacked GAN: {ring} ring modes, {grid} grid modes.", ""]
        names = list(sections["toy"])
        lines += ["Samples (final step, first seed; grey: real points):", ""]
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
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--recipes", nargs="*", default=list(IMAGE_RECIPES), choices=IMAGE_RECIPES, help="none: skip MNIST")
    p.add_argument("--toy-recipes", nargs="+", default=list(TOY_RECIPES), choices=TOY_RECIPES)
    p.add_argument("-n", type=int, default=10_000, help="samples per image evaluation")
    p.add_argument("--kid-subsets", type=int, default=100, help="KID subsets of 1,000 samples")
    p.add_argument("--out", default="runs/compare", help="folder of the runs")
    p.add_argument("--doc", default="docs/results.md")
    args = p.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    out, doc = Path(args.out), Path(args.doc)

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

    images: dict[str, list[dict[str, Any]]] = {}
    for name in args.recipes:
        for seed in args.seeds:
            run_dir = out / f"{name}-seed{seed}"
            overrides = image_overrides(dict(args.recipe_steps).get(name, args.steps), seed, args.data_dir)
            result = run_and_score(name, overrides, run_dir, args.n, log, args.kid_subsets)
            images.setdefault(name, []).append(result)
            log(f"{name} seed {seed}: FID {result['metrics']['fid']:.3f}")
        grid = sorted((out / f"{name}-seed{args.seeds[0]}" / "samples").glob("step-*.png"))[-1]
        (doc.parent / "results").mkdir(parents=True, exist_ok=True)
        shutil.copy(grid, doc.parent / "results" / f"{name}.png")
    if images:
        sections["images"] = images

    if args.toy_steps > 0:
        (doc.parent / "results").mkdir(parents=True, exist_ok=True)
        toy: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for name in args.toy_recipes:
            for data in TOY_DATA:
                for seed in args.seeds:
                    run_dir = out / f"{data}-{name}-seed{seed}"
                    result = run_and_score(name, toy_overrides(data, args.toy_steps, seed), run_dir, None, log)
                    toy.setdefault(name, {}).setdefault(data, []).append(result)
                    log(f"{data} {name} seed {seed}: {result['metrics']['modes']['modes_covered']} modes")
                scatter = sorted((out / f"{data}-{name}-seed{args.seeds[0]}" / "samples").glob("step-*.png"))[-1]
                shutil.copy(scatter, doc.parent / "results" / f"{data}-{name}.png")
        sections["toy"] = toy
    write_doc(doc, args, sections)
    log(f"wrote {doc}")


if __name__ == "__main__":
    main()
