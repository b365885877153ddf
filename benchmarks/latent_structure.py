"""CGAN class accuracy and InfoGAN categorical-code accuracy over many seeds on MNIST, with figures; writes a
Markdown page.

    python benchmarks/latent_structure.py --data-dir ../shared/data/mnist --out runs/latent \
        --doc docs/latent-structure.md --cgan-eval docs/latent-structure/eval/cgan.json \
        --infogan-steps 3000 --infogan-trials 20

The CGAN: ``gankit train`` (skipped when the run folder already holds its final checkpoint and the same config),
``gankit eval`` (FID and the other metrics, plus the class accuracy judged by gankit's MNIST classifier) and its
per-class ``gankit grid``. ``--cgan-eval FILE`` reuses a CGAN scored earlier (its ``eval.json``) instead of
training and scoring one; its figure is then left as it is.

InfoGAN: ``--infogan-trials`` seeds from ``--infogan-seed0``, as ONE gankit trials run, or one per block of
``--infogan-block`` seeds (``OUT/infogan-seedsA-B``, each trial an ordinary run in ``trial-KK``, trained as
``--infogan-trials-mode`` says: ``train.trials_mode``), resumed when asked for more ``--infogan-steps``. Each
finished block is kept in ``--scores`` (default ``<doc's figure folder>/scores``; small files to commit: the
trials' results, Q's recognition and each trial's three figures), so the seeds can be trained over several
sessions: a kept block of the same config is not trained again, and the page is written once every block is in.
Each trial is measured both ways: on G's samples (``gankit eval``: the categorical-code accuracy after the
Hungarian matching, ``trial-KK/eval.json``) and as Chen et al. measured it, Q classifying the real MNIST test
digits, categories matched to labels (``gankit.metrics.conditional.recognition_accuracy``;
``trial-KK/recognition.json``). The page gives the
distribution over seeds of both (mean ± standard error, median, range, a histogram, every seed's values) and the
share of seeds at or above the paper's 95%, and ``gankit grid`` figures of the median seed: its categories and
its traversals of c2 and c3 (Chen et al. 2016, Figure 2). Every number on the page is read from the trials'
``eval.json`` and ``recognition.json`` (copied beside the page, into ``<doc>/eval/``), the InfoGAN protocol from
the first trial's ``config.json`` and engine from its ``log.txt``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

import gankit
from gankit.cli import main as gankit_cli
from gankit.config import DataConfig
from gankit.data import TensorData, load_data
from gankit.metrics.conditional import recognition_accuracy
from gankit.metrics.evaluate import evaluate_run, write_result
from gankit.metrics.protocol import Protocol
from gankit.recipes import get_recipe
from gankit.store.layout import RunPaths, latest_checkpoint
from gankit.store.resume import RESUMABLE_FIELDS
from gankit.trained import load_recognition
from gankit.training.trainer import train
from gankit.trials.mode import HOW

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import read_metrics, trials_and_score

PAPER_INFOGAN_ERROR = 0.05  # Chen et al. 2016, sec. 7.1: "5% error rate" of c1 as a digit classifier
PAPER_ACCURACY = 1 - PAPER_INFOGAN_ERROR
ROUNDING = 1e-9  # an accuracy this close below a level counts as reaching it (950 of 1,000 is 95%)
HISTOGRAM_EDGES = (0.7, 0.8, 0.85, 0.9, PAPER_ACCURACY)  # the histogram's bins: below 70%, 70–80%, …, at or above 95%


def ensure_run(recipe: str, overrides: dict[str, Any], run_dir: Path, log: Any) -> float:
    """Train unless ``run_dir`` already holds this config's final checkpoint (fields a resume may change, such
    as the log schedule or the data folder, may differ); return the training seconds."""
    cfg = get_recipe(recipe).override(overrides)
    paths = RunPaths(run_dir)
    if paths.config.is_file():
        saved = _flat(json.loads(paths.config.read_text()))
        wanted = _flat(json.loads(cfg.to_json()))
        same = all(saved.get(k) == v for k, v in wanted.items() if k not in RESUMABLE_FIELDS)
        done = latest_checkpoint(run_dir).name == f"step-{cfg.train.steps:08d}"
        if not (same and done):
            raise SystemExit(f"{run_dir} holds another or an unfinished run; remove it or choose another --out")
        log(f"{run_dir}: reusing the trained run")
    else:
        train(cfg, run_dir, echo=False)
    return read_metrics(run_dir)[-1]["elapsed_s"]


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out |= _flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value}
    return out


def score(run_dir: Path, data_dir: str | None, log: Any, n: int | None = None) -> dict[str, Any]:
    path = run_dir / "eval.json"
    if path.is_file():
        return json.loads(path.read_text())
    result = evaluate_run(run_dir, Protocol(n_fake=n, data_dir=data_dir))
    write_result(result, path)
    log(f"{run_dir}: scored")
    return result


def recognition(run_dir: Path, test: TensorData, log: Any) -> dict[str, Any]:
    """Q as a classifier of the real MNIST ``test`` digits (Chen et al. 2016's measurement), kept in
    ``RUN/recognition.json``: accuracy after the one-to-one matching, the matching and the counts."""
    path = run_dir / "recognition.json"
    if path.is_file():
        record = json.loads(path.read_text())
        if record["checkpoint"] == latest_checkpoint(run_dir).name:
            return record  # else Q has trained on since (a resumed trial): measured again
    recognise, space = load_recognition(run_dir)
    matched = recognition_accuracy(recognise, test.x, test.y, space.categorical, 10)
    record = {"split": "test", "n": len(test), "source": test.source, "checkpoint": latest_checkpoint(run_dir).name}
    record |= matched.to_dict()
    path.write_text(json.dumps(record) + "\n")
    log(f"{run_dir}: Q recognised the test digits")
    return record


def grid(run_dir: Path, by: str, out: Path, *extra: str) -> str:
    gankit_cli(["grid", str(run_dir), "--by", by, "--out", str(out), *extra])
    return out.name


def at_or_above(values: list[float], level: float = PAPER_ACCURACY) -> int:
    """How many of ``values`` (accuracies, one per seed) reach ``level`` (the paper's 95%), up to ``ROUNDING``."""
    return sum(v >= level - ROUNDING for v in values)


def histogram(values: list[float], edges: tuple[float, ...] = HISTOGRAM_EDGES) -> list[int]:
    """Counts of ``values`` below ``edges[0]``, in [edges[i], edges[i + 1]), …, at or above ``edges[-1]``."""
    counts = [0] * (len(edges) + 1)
    for v in values:
        counts[sum(v >= e - ROUNDING for e in edges)] += 1
    return counts


def distribution_row(label: str, values: list[float]) -> list[object]:
    """A measure's row of the distribution table, in %: trials, mean ± s.e., median, min, max, share at 95%."""
    pct, k = [100 * v for v in values], at_or_above(values)
    return [
        label,
        len(values),
        md.mean_se(pct, 1),
        f"{statistics.median(pct):.1f}",
        f"{min(pct):.1f}",
        f"{max(pct):.1f}",
        f"{k} of {len(values)} ({k / len(values):.0%})",
    ]


INFOGAN_FIGURES = ("category", "c2", "c3")  # `gankit grid --by` of a trial: its categories, its c2 and c3 traversals
RECOGNITION = "recognition.json"


def infogan_blocks(args: argparse.Namespace) -> list[tuple[int, ...]]:
    """The seeds of the InfoGAN trials, in blocks of ``--infogan-block`` (each block one trials run)."""
    seeds = list(range(args.infogan_seed0, args.infogan_seed0 + args.infogan_trials))
    size = args.infogan_block or len(seeds)
    return [tuple(seeds[i : i + size]) for i in range(0, len(seeds), size)]


def infogan_block(
    args: argparse.Namespace, common: dict[str, Any], seeds: tuple[int, ...], test: TensorData, scores: Path, log: Any
) -> list[dict[str, Any]]:
    """Train (or resume, or reuse) one block of InfoGAN trials as one trials run, score each trial both ways
    (``RUN/trial-KK/eval.json`` and ``recognition.json``), draw each trial's three figures into its folder, and keep
    the block in ``scores`` with them; a block kept for the same config is reused as it is. Its trials' results,
    each ``run_dir`` the folder that holds the trial's config, log, recognition and figures."""
    overrides = common | {
        "train.steps": args.infogan_steps,
        "train.seed": seeds[0],
        "train.seeds": seeds,
        "train.trials": len(seeds),
        "train.trials_mode": args.infogan_trials_mode,
    }
    cell = Path(args.out) / f"infogan-seeds{seeds[0]}-{seeds[-1]}"

    def finish(result: dict[str, Any]) -> None:
        trial_dir = Path(result["run_dir"])
        recognition(trial_dir, test, log)
        for by in INFOGAN_FIGURES:
            grid(trial_dir, by, trial_dir / f"infogan-{by}.png", "--rows", "matched", "--scale", "2")

    figures = tuple(f"infogan-{by}.png" for by in INFOGAN_FIGURES)
    files = (RECOGNITION, *figures, "config.json", "log.txt")
    return trials_and_score("infogan", overrides, cell, args.eval_samples, log, 100, scores, finish, files)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
    p.add_argument("--out", default="runs/latent", help="folder for the runs")
    p.add_argument("--doc", default="docs/latent-structure.md", help="the Markdown page to write")
    p.add_argument("--cgan-steps", type=int, default=5000)
    p.add_argument("--cgan-ema", type=float, default=0.999, help="EMA decay of G's weights for the CGAN")
    p.add_argument("--infogan-steps", type=int, default=3000, help="steps per InfoGAN trial")
    p.add_argument("--infogan-trials", type=int, default=20, help="InfoGAN trials (seeds), one trials run")
    p.add_argument("--infogan-seed0", type=int, default=0, help="the first trial's seed: trial k has seed0 + k")
    p.add_argument(
        "--infogan-block",
        type=int,
        help="trials per trials run (default: all in one); each finished block is kept in --scores, so the seeds "
        "can be trained over several sessions",
    )
    p.add_argument("--scores", help="folder of the kept InfoGAN blocks (default: <doc's figure folder>/scores)")
    p.add_argument(
        "--infogan-trials-mode",
        choices=("auto", "vectorised", "sequential"),
        default="auto",
        help="how the InfoGAN trials train (train.trials_mode)",
    )
    p.add_argument("--cgan-eval", default=None, help="a scored CGAN's eval.json: reuse it, train and score no CGAN")
    p.add_argument("--device", default="auto")
    p.add_argument("--eval-samples", type=int, default=None, help="samples per FID (default: the protocol's)")
    args = p.parse_args(argv)
    if args.infogan_trials < 1 or (args.infogan_block is not None and args.infogan_block < 1):
        p.error("--infogan-trials and --infogan-block count InfoGAN's trials: at least 1")
    out, doc = Path(args.out), Path(args.doc)
    figures = doc.with_suffix("")
    figures.mkdir(parents=True, exist_ok=True)
    log = print
    common = {"data.dir": args.data_dir, "train.device": args.device, "train.progress": False}

    if args.cgan_eval:
        cgan, cgan_s, cgan_fig = json.loads(Path(args.cgan_eval).read_text()), None, "cgan-classes.png"
    else:
        cgan_dir = out / "cgan"
        cgan_overrides = common | {"train.steps": args.cgan_steps, "train.ema": args.cgan_ema}
        cgan_s = ensure_run("cgan", cgan_overrides, cgan_dir, log)
        cgan = score(cgan_dir, args.data_dir, log, args.eval_samples)
        cgan_fig = grid(cgan_dir, "class", figures / "cgan-classes.png", "--columns", "12", "--scale", "2")

    test = load_data(DataConfig(name="mnist", dir=args.data_dir, split="test"), log=lambda _: None)
    scores = Path(args.scores) if args.scores else figures / "scores"
    results = [r for seeds in infogan_blocks(args) for r in infogan_block(args, common, seeds, test, scores, log)]
    (figures / "eval").mkdir(exist_ok=True)
    info: list[tuple[int, dict[str, Any], float]] = []
    recognised: list[dict[str, Any]] = []
    for result in results:
        seed, trial_dir = result["seed"], Path(result["run_dir"])
        write_result({k: v for k, v in result.items() if k != "run_dir"}, figures / "eval" / f"infogan-seed{seed}.json")
        info.append((seed, result, result["training"]["seconds"]))
        recognised.append(json.loads((trial_dir / RECOGNITION).read_text()))
        (figures / "eval" / f"infogan-seed{seed}-recognition.json").write_text(json.dumps(recognised[-1]) + "\n")
    accuracies = [r["metrics"]["categorical_code_accuracy"]["accuracy"] for _, r, _ in info]
    median = statistics.median_low(accuracies)  # a seed's own value, also for an even number of seeds
    median_trial = accuracies.index(median)
    median_dir = Path(results[median_trial]["run_dir"])
    info_figs = []
    for by in INFOGAN_FIGURES:
        shutil.copy(median_dir / f"infogan-{by}.png", figures / f"infogan-{by}.png")
        info_figs.append(f"infogan-{by}.png")
    protocol = f"{infogan_protocol(Path(results[0]['run_dir']))}; {how_trained(results, args)}"
    page = render(
        args, cgan, cgan_s, cgan_fig, info, recognised, info[median_trial][0], info_figs, figures.name, protocol
    )
    md.write_page(doc, page)  # the page's hand-written sections stay
    log(f"wrote {doc}")


def how_trained(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """How the InfoGAN trials trained, for the protocol line."""
    how = " or ".join(HOW[m] for m in sorted({r["trials_mode"] for r in results}))
    return (
        f"trials: one gankit trials run (`train.seeds`), its trials trained {how} "
        f"(`train.trials_mode={args.infogan_trials_mode}`)"
    )


# G of each InfoGAN architecture (gankit.nets.mnist_conv.MnistConvGenerator, in either order)
INFOGAN_G = {
    "infogan": "the cs231n MNIST G (ReLU, then batch norm)",
    "infogan-authors-g": "the authors' G (batch norm, then ReLU)",
}


def infogan_protocol(run_dir: Path) -> str:
    """The InfoGAN run's settings that decide the result, read from its ``config.json``, and its engine line."""
    cfg = json.loads(RunPaths(run_dir).config.read_text())
    m, loss, t = cfg["model"], cfg["loss"], cfg["train"]
    sigma = "learned" if m["info_continuous_std"] is None else f"fixed at {m['info_continuous_std']:g}"
    engine = next(
        (line.split("engine: ", 1)[1] for line in RunPaths(run_dir).log.read_text().splitlines() if "engine: " in line),
        "not logged",
    )
    g = INFOGAN_G.get(m["arch"], "G of that architecture")
    return (
        f"nets `model.arch={m['arch']}` (Chen et al.'s MNIST D with Q's FC 128 head on D's 1024 features; {g}, "
        f"{m['init']} init), {m['latent_dim']} noise dims ~ {m['latent_dist']} U(−1, 1), "
        f"c1 ~ Cat({m['info_categorical']}), {m['info_continuous']} continuous codes ~ U(−1, 1) with Q(c_i | x) "
        f"Gaussian, σ {sigma}; {loss['objective']} loss, λ = {loss['info_weight']:g} (categorical) and "
        f"{loss['info_continuous_weight']:g} (continuous), Q trained with D (shared trunk) and the bound in G's "
        f"loss too; Adam G {cfg['g_optim']['lr']:g} / D {cfg['d_optim']['lr']:g}, β₁ {cfg['g_optim']['betas'][0]:g}; "
        f"batch {t['batch_size']}, {t['steps']} G steps, {t['n_critic']} D step(s) per G step. Engine: {engine}"
    )


def weakest(result: dict[str, Any]) -> str:
    """The category whose matched digit has the smallest share of its samples, and the digit it most mixes in."""
    code = result["metrics"]["categorical_code_accuracy"]
    shares = []
    for category, (row, digit) in enumerate(zip(code["counts"], code["matching"], strict=True)):
        total, matched = max(sum(row), 1), 0 if digit is None else row[digit]  # None: an unmatched category
        count, other = max((n, d) for d, n in enumerate(row) if d != digit)
        shares.append((matched / total, category, digit, other, count / total))
    share, category, digit, other, other_share = min(shares)
    return f"c{category} → {digit}: {share:.0%} {digit}, {other_share:.0%} {other}"


def histogram_labels(edges: tuple[float, ...] = HISTOGRAM_EDGES) -> list[str]:
    """The bins of ``histogram``: "< 70%", "70–80%", …, "≥ 95%"."""
    inner = [f"{100 * a:g}–{100 * b:g}%" for a, b in itertools.pairwise(edges)]
    return [f"< {100 * edges[0]:g}%", *inner, f"≥ {100 * edges[-1]:g}%"]


def distribution_tables(accuracies: list[float], q_accuracies: list[float]) -> str:
    """Both measures over seeds: their summary (share at the paper's 95% included) and their histogram."""
    measures = [("G's samples", accuracies), ("Q on real digits", q_accuracies)]
    header = ["accuracy", "seeds", "mean ± s.e. (%)", "median (%)", "min (%)", "max (%)"]
    summary = md.table([*header, f"at or above the paper's {PAPER_ACCURACY:.0%}"], "lrrrrrr")
    summary += [md.row(distribution_row(label, values)) for label, values in measures]
    labels = histogram_labels()
    counts = md.table(["seeds with accuracy", *labels], "l" + "r" * len(labels))
    counts += [md.row([label, *histogram(values)]) for label, values in measures]
    return "\n".join([*summary, "", *counts])


def render(
    args: argparse.Namespace,
    cgan: dict[str, Any],
    cgan_s: float | None,
    cgan_fig: str,
    info: list[tuple[int, dict[str, Any], float]],
    recognised: list[dict[str, Any]],
    median_seed: int,
    info_figs: list[str],
    folder: str,
    protocol: str,
) -> str:
    acc = cgan["metrics"]["class_accuracy"]
    per_class = " | ".join(f"{a:.1%}" for a in acc["per_class"])
    accuracies = [r["metrics"]["categorical_code_accuracy"]["accuracy"] for _, r, _ in info]
    q_accuracies = [q["accuracy"] for q in recognised]
    device = "cpu" if args.device == "cpu" or not torch.cuda.is_available() else torch.cuda.get_device_name()
    cgan_table = "\n".join(
        md.table(
            ["", "mean", "lowest class", "FID"],
            "lrrr",
            [["class accuracy", f"**{acc['mean']:.1%}**", f"{acc['min']:.1%}", f"{cgan['metrics']['fid']:.2f}"]],
        )
    )
    header = ["seed", "accuracy: G's samples", "Q on real digits", "matching (category → digit)", "weakest category"]
    rows = []
    by_accuracy = sorted(
        zip(info, recognised, strict=True),
        key=lambda pair: -pair[0][1]["metrics"]["categorical_code_accuracy"]["accuracy"],
    )
    for (seed, r, s), q in by_accuracy:
        code = r["metrics"]["categorical_code_accuracy"]
        cells = [seed, f"{code['accuracy']:.1%}", f"{q['accuracy']:.1%}", code["matching"], weakest(r)]
        rows.append([*cells, f"{r['metrics']['fid']:.2f}", f"{s:.0f}"])
    info_table = "\n".join(md.table([*header, "FID", "train s"], "lrrllrr", rows))
    k, q_k, n = at_or_above(accuracies), at_or_above(q_accuracies), len(accuracies)
    cgan_source = (
        f"--cgan-eval {args.cgan_eval}"
        if args.cgan_eval
        else f"--cgan-steps {args.cgan_steps} --cgan-ema {args.cgan_ema}"
    )
    command = (
        f"python benchmarks/latent_structure.py --data-dir {args.data_dir} --out {args.out} --doc {args.doc} "
        f"{cgan_source} --infogan-steps {args.infogan_steps} --infogan-trials {args.infogan_trials} "
        f"--infogan-seed0 {args.infogan_seed0} --infogan-trials-mode {args.infogan_trials_mode}"
        + (f" --infogan-block {args.infogan_block}" if args.infogan_block else "")
    )
    if cgan_s is None:
        subject = cgan["subject"]
        cgan_trained = (
            f"not retrained by this command: its result is read from `{args.cgan_eval}` (scored "
            f"{cgan['created'][:10]}, step {subject['step']}, {subject['weights']} weights), and the figure below "
            "is from that run"
        )
    else:
        cgan_trained = f"{cgan_s:.0f} s of training"
    return f"""# Structure in the latent space: CGAN and InfoGAN on MNIST

Produced by `benchmarks/latent_structure.py`; every number is read from the runs' `eval.json`.

```bash
{command}
```

gankit {gankit.__version__}, torch {torch.__version__}, {platform.machine()}, {torch.get_num_threads()} threads,
device {device}; {time.strftime("%Y-%m-%d")}. Judge: gankit's MNIST classifier (99.35% test accuracy), which is
also the feature network of the FID (so the FIDs are comparable with `docs/results.md`, not with papers).

## Conditional GAN (`cgan` recipe: DCGAN nets, one-hot label channels into D, label embedding in G)

{args.cgan_steps} generator steps, batch 64, EMA of G's weights (decay {args.cgan_ema}); {cgan_trained}.
`gankit eval` asks G for 1,000 samples of each class (classes in turn) and counts how many the classifier
puts in the class asked for.

{cgan_table}

Per class (0–9): {per_class}

Rows: classes 0–9, columns: 12 latent vectors z, the same z in every row (`gankit grid RUN --by class`).

![CGAN per-class grid]({folder}/{cgan_fig})

## InfoGAN (`infogan` recipe: 62 noise dims, c1 ~ Cat(10), c2, c3 ~ U(−1, 1); Q on D's trunk)

Protocol: {protocol}.

{n} seeds, {args.infogan_seed0}–{args.infogan_seed0 + n - 1}. c1 is learned without labels, so category c need not
be digit c: `gankit eval` draws 1,000 samples per category, classifies them and matches categories to digits
one-to-one (Hungarian method) so that the matched counts are largest; the accuracy is the matched share (*G's
samples*). The paper measures the code the other way round (*Q on real digits*): Q puts each of the
{recognised[0]["n"]:,} real MNIST test digits in its most likely category, and categories are matched to the labels
the same way. Chen et al. (2016, sec. 7.1) report that c1 used as a classifier has a {PAPER_INFOGAN_ERROR:.0%} error
rate on MNIST, i.e. {PAPER_ACCURACY:.0%} accuracy; they give neither the number of seeds nor their spread.

**At or above the paper's {PAPER_ACCURACY:.0%}: {k} of {n} seeds on G's samples and {q_k} of {n} with Q on the real
test digits.** The distribution over seeds (s.e.: standard deviation over seeds / √n):

{distribution_tables(accuracies, q_accuracies)}

Every seed, highest accuracy on G's samples first. "Weakest category": the category with the smallest share of its
matched digit among G's samples, and the digit it mixes in most; *train s*: the trial's clock (trials trained
together share one).

{info_table}

Figures of the median seed on G's samples ({median_seed}; the lower middle one for an even count); rows are
categories ordered by the digit they were matched to (`--rows matched`):

Categories (columns: 10 latent vectors z, c2 = c3 = 0): `gankit grid RUN --by category --rows matched`

![InfoGAN categories]({folder}/{info_figs[0]})

Traversal of c2 over [−2, 2] (z and c3 fixed; the prior is U(−1, 1), so the outer columns extrapolate),
as in Chen et al. Figure 2(c): `gankit grid RUN --by c2 --rows matched`

![InfoGAN c2 traversal]({folder}/{info_figs[1]})

Traversal of c3 over [−2, 2]: `gankit grid RUN --by c3 --rows matched`

![InfoGAN c3 traversal]({folder}/{info_figs[2]})
"""


if __name__ == "__main__":
    main()
