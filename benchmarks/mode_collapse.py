"""Mode collapse: a plain GAN against its remedies on the 2-D mixtures and on Stacked MNIST, beside PacGAN.

    # 2-D ring and grid (CPU), every remedy, three seeds:
    python benchmarks/mode_collapse.py --toy-steps 10000 --seeds 0 1 2 --out runs/modes --doc docs/results.md
    # Stacked MNIST (a GPU machine), then the call above with the same --stacked-* flags writes the doc:
    python benchmarks/mode_collapse.py --toy-steps 0 --stacked-steps 20000 --stacked-seeds 0 --device cuda \
        --data-dir DIR --jobs 6 --out runs/modes --doc docs/results.md
    # PacGAN's own 2-D protocol (Table 1: the pacgan-2d recipe, packs of 1–4, trials = seeds), its own section:
    python benchmarks/mode_collapse.py --toy-steps 0 --pacgan-steps 400000 --pacgan-trials 0 1 2 --jobs 2 \
        --out runs/modes --doc docs/results.md
    # PacGAN's small-D Stacked-MNIST protocol (Table 3: the pacgan-stacked recipe, D = ¼G or ½G, packs 1, 2, 4):
    python benchmarks/mode_collapse.py --toy-steps 0 --small-d-steps 500000 --small-d-widths 2 4 \
        --small-d-trials 0 1 2 --data-dir DIR --out runs/modes --doc docs/results.md
    # PacGAN's Stacked-MNIST protocol in VEEGAN's setting (Table 2: the pacgan-veegan recipe, packs 1–4):
    python benchmarks/mode_collapse.py --toy-steps 0 --veegan-steps 100000 --veegan-packs 1 2 3 4 \
        --veegan-trials 0 1 2 --data-dir DIR --out runs/modes --doc docs/results.md

Every remedy is one recipe's option over the shared parts, added to the *same* plain GAN (same nets,
optimiser, batch, steps and seeds); nothing else changes:

* ``mbd``: minibatch discrimination, the ``mbd`` recipe's layer (Salimans et al. 2016, sec. 3.2);
* ``mbstd``: the minibatch standard-deviation feature instead (Karras et al. 2018, sec. 3);
* ``fm``: feature matching alone as G's loss, the ``fm`` recipe (Salimans et al. 2016, sec. 3.1);
* ``mdgan``: the mode-regularised GAN's encoder, reconstruction and mode terms, the ``mdgan`` recipe
  (Che et al. 2017, sec. 3.1);
* ``pacgan2``/``3``/``4``: D judges packs of m samples (Lin et al. 2018). As in PacGAN's code, D judges as many
  packs per step as the plain GAN judges samples, so each step draws m times the batch (``--pack-batch
  samples`` keeps the samples per step instead).

The plain GAN is the non-saturating GAN (PacGAN's and DCGAN's G loss): on 2-D, the ``nsgan`` recipe on the MLP
that ``compare_objectives.py`` gives every objective (G 2→256→512→1024→2, D 2m→1024→512→256→1, z ~ N(0, I₂));
on Stacked MNIST, the ``dcgan-stacked`` recipe. Scoring follows PacGAN (``gankit.metrics.modes``): 2-D, 2,500
samples, modes with a sample within 3σ, the share of such samples, KL(histogram ‖ uniform) of the
high-quality samples (PacGAN's, ``kl_hq``) and of all samples (``kl_all``);
Stacked MNIST, 26,000 samples, each channel classified, modes (of 1,000) hit at least once, KL to uniform.

Finished runs (those with an ``eval.json``) are reused, so the script can be resumed, and runs trained
elsewhere (the Stacked-MNIST runs of a GPU machine) can be copied into ``--out``: each ``eval.json`` records
the machine and the command that trained it. Each scored PacGAN Table 1 cell is also kept in ``--scores`` (default
``<doc folder>/results/scores``: its trials' results and scored points, small files to commit), so the table can
be finished over several sessions at a budget no one session carries: a kept cell of the same config is not trained
again. The Markdown goes into its own marked section of ``--doc``
(``compare_objectives.py`` keeps it when it rewrites the rest of the file).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

import gankit
from gankit.data.toy import TOY_MODES, sample_toy
from gankit.images import make_grid, save_png, scatter_image
from gankit.metrics.evaluate import evaluate_real, write_result
from gankit.metrics.modes import STACKED_MODES, STACKED_SAMPLES, expected_kl_of_uniform_sample
from gankit.metrics.protocol import Protocol
from gankit.recipes import PACGAN_2D_PACKS, PACGAN_STACKED_PACKS, PACGAN_VEEGAN_PACKS, get_recipe
from gankit.trained import load_generator
from gankit.trials.mode import HOW

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import (
    TOY_DATA,
    cell_seconds,
    hardware,
    image_overrides,
    log,
    machine,
    read_metrics,
    run_and_score,
    toy_overrides,
    trials_and_score,
)

SECTION = "mode-collapse"
TOY_BASE, STACKED_BASE = "nsgan", "dcgan-stacked"
PACGAN_BASE, PACGAN_SECTION = "pacgan-2d", "pacgan-2d"  # PacGAN's own 2-D protocol (Table 1), its own section
# The fields in which a remedy recipe differs from the plain GAN; a remedy sets exactly these.
REMEDY_FIELDS = (
    "model.minibatch",
    "model.mbd_kernels",
    "model.mbd_kernel_dim",
    "model.pack",
    "loss.g_adversarial",
    "loss.feature_matching",
    "loss.reconstruction_weight",
    "loss.mode_weight",
)
POINTS = "scored-points.npy"  # the 2,500 scored samples of a 2-D run (the seed-0 draw of evaluate_run)
TOY_LIMITS = {"ring8": 1.6, "grid25": 5.5}  # half-width of the scatter plots


@dataclass(frozen=True)
class Remedy:
    """A remedy: the remedy fields of ``recipe`` (none: the plain GAN), then ``extra``."""

    name: str
    label: str
    recipe: str | None
    reference: str
    extra: dict[str, Any] = field(default_factory=dict)

    def overrides(self) -> dict[str, Any]:
        """The config fields this remedy sets (empty for the plain GAN)."""
        if self.recipe is None:
            return {}
        cfg = get_recipe(self.recipe).to_dict()
        fields = {}
        for path in REMEDY_FIELDS:
            section, key = path.split(".")
            fields[path] = cfg[section][key]
        return fields | self.extra

    @property
    def pack(self) -> int:
        return int(self.overrides().get("model.pack", 1))


REMEDIES: dict[str, Remedy] = {
    r.name: r
    for r in (
        Remedy("gan", "GAN (no remedy)", None, "Goodfellow et al. 2014 (non-saturating)"),
        Remedy("mbd", "minibatch discrimination", "mbd", "Salimans et al. 2016, sec. 3.2"),
        Remedy("mbstd", "minibatch stddev", "mbd", "Karras et al. 2018, sec. 3", {"model.minibatch": "stddev"}),
        Remedy("fm", "feature matching", "fm", "Salimans et al. 2016, sec. 3.1"),
        Remedy("mdgan", "reconstruction + mode reg. (MDGAN)", "mdgan", "Che et al. 2017, sec. 3.1"),
        Remedy("pacgan2", "packing, m = 2 (PacGAN2)", "pacgan2", "Lin et al. 2018"),
        Remedy("pacgan3", "packing, m = 3 (PacGAN3)", "pacgan2", "Lin et al. 2018", {"model.pack": 3}),
        Remedy("pacgan4", "packing, m = 4 (PacGAN4)", "pacgan2", "Lin et al. 2018", {"model.pack": 4}),
    )
}

# PacGAN (Lin et al. 2018, arXiv:1712.04086), Table 1: 2-D mixtures, mean ± standard error over 10 trials;
# (modes, high-quality %, reverse KL). Their nets: G 4×400 ReLU + batch norm, D 3×200 maxout (5 pieces),
# Adam 1e-4 β₁ 0.8, 100 packs per step, 400 epochs of 1,000 steps.
PACGAN_TABLE1: dict[str, dict[str, tuple[str, str, str]]] = {
    "gan": {"ring8": ("6.3 ± 0.5", "98.2 ± 0.2", "0.45 ± 0.09"), "grid25": ("17.3 ± 0.8", "94.8 ± 0.7", "0.70 ± 0.07")},
    "mbd": {"ring8": ("4.3 ± 0.8", "36.6 ± 8.8", "1.93 ± 0.11"), "grid25": ("23.8 ± 0.5", "79.9 ± 3.2", "0.17 ± 0.03")},
    "pacgan2": {
        "ring8": ("7.9 ± 0.1", "95.6 ± 2.0", "0.07 ± 0.03"),
        "grid25": ("23.8 ± 0.7", "91.3 ± 0.8", "0.13 ± 0.04"),
    },
    "pacgan3": {
        "ring8": ("7.8 ± 0.1", "97.7 ± 0.3", "0.10 ± 0.02"),
        "grid25": ("24.6 ± 0.4", "94.2 ± 0.4", "0.06 ± 0.02"),
    },
    "pacgan4": {
        "ring8": ("7.8 ± 0.1", "95.9 ± 1.4", "0.07 ± 0.02"),
        "grid25": ("24.8 ± 0.2", "93.6 ± 0.6", "0.04 ± 0.01"),
    },
}
# PacGAN Table 2: Stacked MNIST in VEEGAN's setting (DCGAN nets, 128,000 stacks, 50 epochs of batch 64, two G
# steps per D step, 26,000 samples scored); (modes of 1,000, KL). The DCGAN row is VEEGAN's (Srivastava et al.
# 2017, Table 2, no spread given); the others are mean ± standard error over 10 trials.
PACGAN_TABLE2: dict[str, tuple[str, str]] = {
    "gan": ("99.0", "3.40"),
    "mbd": ("24.5 ± 7.67", "5.49 ± 0.418"),
    "pacgan2": ("1000.0 ± 0.0", "0.06 ± 0.003"),
    "pacgan3": ("1000.0 ± 0.0", "0.06 ± 0.003"),
    "pacgan4": ("1000.0 ± 0.0", "0.07 ± 0.005"),
}

# PacGAN Table 3: Stacked MNIST in the unrolled GAN's setting, D = ¼G or ½G; (modes of 1,000 as mean ± standard
# error over 50 trials, KL as the mean), keyed by (D's first width: 2 for ¼G, 4 for ½G) and the packing (1: DCGAN).
PACGAN_TABLE3: dict[tuple[int, int], tuple[str, str]] = {
    (2, 1): ("30.6 ± 20.7", "5.99"),
    (2, 2): ("484.5 ± 33.0", "2.61"),
    (2, 4): ("667.4 ± 29.0", "1.81"),
    (4, 1): ("628.0 ± 140.9", "2.58"),
    (4, 2): ("840.7 ± 15.9", "1.00"),
    (4, 4): ("820.2 ± 25.5", "1.15"),
}
VEEGAN_D_WIDTH = 64  # the pacgan-veegan recipe's D (DCGAN-tensorflow's df_dim)
# PacGAN Table 2 by (D's first width, packing), as Table 3: their own DCGAN row (78.9 ± 6.5, KL 4.50; VEEGAN
# reported 99 modes, KL 3.40 for DCGAN) and the packed rows, mean ± standard error over 10 trials.
PACGAN_TABLE2_BY_PACK: dict[tuple[int, int], tuple[str, str]] = {
    (VEEGAN_D_WIDTH, 1): ("78.9 ± 6.5", "4.50"),
    **{(VEEGAN_D_WIDTH, m): PACGAN_TABLE2[f"pacgan{m}"] for m in (2, 3, 4)},
}


@dataclass(frozen=True)
class StackedProtocol:
    """One of PacGAN's Stacked-MNIST protocols: its recipe, section of the doc, the paper's table and budget."""

    kind: str  # the job kind and the prefix of its command-line flags ("small-d": --small-d-steps, …)
    recipe: str
    title: str
    table: str  # "Table 2"
    paper: dict[tuple[int, int], tuple[str, str]]  # (D's first width, packing) → (modes, KL)
    sizes: dict[int, str]  # their name for D's size, by its first width
    paper_trials: int
    paper_steps: int
    samples: int  # samples scored (their num_test_sample)
    packs_per_step: int
    cell: str  # a cell's name, formatted with D's width and the packing: runs are CELL-trialT, figures CELL.png

    @property
    def section(self) -> str:
        return self.recipe

    @property
    def flags(self) -> str:
        """The prefix of its attributes in the parsed command line (``small_d``: ``args.small_d_steps``, …)."""
        return self.kind.replace("-", "_")

    def size(self, width: int) -> str:
        return self.sizes.get(width, f"width {width}")

    def caption(self, width: int, pack: int) -> str:
        return f"D = {self.size(width)}, m = {pack}" if len(self.sizes) > 1 else f"m = {pack}"


SMALL_D = StackedProtocol(
    "small-d",
    "pacgan-stacked",
    "PacGAN's small-D Stacked-MNIST protocol (Lin et al. 2018, Table 3)",
    "Table 3",
    PACGAN_TABLE3,
    {2: "¼G", 4: "½G"},
    paper_trials=50,
    paper_steps=500_000,
    samples=25_600,
    packs_per_step=PACGAN_STACKED_PACKS,
    cell="small-d{width}-m{pack}",
)
VEEGAN = StackedProtocol(
    "veegan",
    "pacgan-veegan",
    "PacGAN's Stacked-MNIST protocol in VEEGAN's setting (Lin et al. 2018, Table 2)",
    "Table 2",
    PACGAN_TABLE2_BY_PACK,
    {VEEGAN_D_WIDTH: "DCGAN's (64–512)"},
    paper_trials=10,
    paper_steps=100_000,
    samples=STACKED_SAMPLES,
    packs_per_step=PACGAN_VEEGAN_PACKS,
    cell="veegan-m{pack}",
)
STACKED_PROTOCOL_LIST = (VEEGAN, SMALL_D)
PROTOCOLS_BY_KIND = {p.kind: p for p in STACKED_PROTOCOL_LIST}


@dataclass(frozen=True)
class Job:
    """One run to train and score: the base recipe, the overrides (remedy included) and where it goes."""

    kind: str  # "toy", "stacked", "pacgan" (Table 1) or a Stacked-MNIST protocol's kind ("veegan", "small-d")
    data: str
    remedy: str
    seed: int
    recipe: str
    overrides: dict[str, Any]
    run_dir: str
    command: str
    n: int | None = None  # samples scored (None: the protocol's)
    threads: int = 1  # torch threads (2-D runs: one; tiny tensors gain nothing from more)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)


def remedy_run_overrides(remedy: Remedy, base: dict[str, Any], batch: int, pack_batch: str) -> dict[str, Any]:
    """``base`` with the remedy's fields; with ``pack_batch="packs"`` D judges ``batch`` packs of m samples."""
    fields = remedy.overrides()
    per_step = batch * remedy.pack if pack_batch == "packs" else batch
    return base | fields | {"train.batch_size": per_step}


def toy_job(data: str, remedy: Remedy, seed: int, args: argparse.Namespace) -> Job:
    base = toy_overrides(data, args.toy_steps, seed) | {"train.tensorboard": False}
    batch = get_recipe(TOY_BASE).train.batch_size
    overrides = remedy_run_overrides(remedy, base, batch, args.pack_batch)
    run_dir = Path(args.out) / f"{data}-{remedy.name}-seed{seed}"
    return Job("toy", data, remedy.name, seed, TOY_BASE, overrides, str(run_dir), args.command)


def pacgan_cell_job(data: str, pack: int, args: argparse.Namespace) -> Job:
    """One cell of PacGAN's Table 1 (the ``pacgan-2d`` recipe, ``PACGAN_2D_PACKS`` packs of ``pack`` points per step)
    as ONE trials run: trial k has seed ``--pacgan-trials[k]`` (its own initialisation, data order and noise) and
    the trials train as ``--pacgan-trials-mode`` says (default ``auto``: together where gankit's probe measures that
    faster; the probe times both ways, so give ``vectorised`` on a machine busy with other work); a checkpoint
    every ``--pacgan-checkpoint-every`` steps, so a later call with more ``--pacgan-steps`` resumes the cell."""
    seeds = tuple(args.pacgan_trials)
    overrides = image_overrides(args.pacgan_steps, seeds[0], None) | {
        "data.name": data,
        "train.tensorboard": False,
        "model.pack": pack,
        "train.batch_size": PACGAN_2D_PACKS * pack,
        "train.seeds": seeds,
        "train.trials": len(seeds),
        "train.checkpoint_every": args.pacgan_checkpoint_every,
        "train.trials_mode": args.pacgan_trials_mode,
    }
    run_dir = Path(args.out) / f"pacgan-{data}-m{pack}-x{len(seeds)}"
    return Job(
        "pacgan", data, f"m{pack}", seeds[0], PACGAN_BASE, overrides, str(run_dir), args.command, threads=args.threads
    )


def run_cell(job: Job, log: Any = print, scores: Path | None = None) -> list[dict[str, Any]]:
    """Train and score one cell of PacGAN's Table 1 (reusing scored trials, or the cell kept in ``scores``); a
    freshly scored trial's ``eval.json`` also records the machine, the command and how the trials trained, and its
    scored points are saved; the cell is then kept in ``scores`` with each trial's points (its figure's)."""

    def finish(result: dict[str, Any]) -> None:
        trial_dir = Path(result["run_dir"])
        if "command" not in result.get("machine", {}):
            result["machine"] = result.get("machine", machine(job.overrides["train.device"])) | {"command": job.command}
            saved = json.loads((trial_dir / "eval.json").read_text())
            write_result(
                saved | {"machine": result["machine"], "trials_mode": result["trials_mode"]}, trial_dir / "eval.json"
            )
        if not (trial_dir / POINTS).is_file():  # for the figures, without the checkpoint
            points = load_generator(trial_dir).generate(result["protocol"]["n_fake"], seed=0).numpy()
            np.save(trial_dir / POINTS, points)
        result["final_d_loss"] = final_d_loss(trial_dir)

    return trials_and_score(job.recipe, job.overrides, Path(job.run_dir), job.n, log, 100, scores, finish, (POINTS,))


def protocol_job(protocol: StackedProtocol, width: int, pack: int, trial: int, args: argparse.Namespace) -> Job:
    """One trial of a Stacked-MNIST protocol's recipe: D of first width ``width``, the protocol's packs of ``pack``
    stacks per step; the trial is the seed."""
    overrides = image_overrides(getattr(args, f"{protocol.flags}_steps"), trial, args.data_dir) | {
        "train.device": args.device,
        "train.tensorboard": False,
        "model.pack": pack,
        "model.d_width": width,
        "train.batch_size": protocol.packs_per_step * pack,
    }
    run_dir = Path(args.out) / f"{protocol.cell.format(width=width, pack=pack)}-trial{trial}"
    data = get_recipe(protocol.recipe).data.name
    job = Job(protocol.kind, data, f"d{width}-m{pack}", trial, protocol.recipe, overrides, str(run_dir), args.command)
    return Job(**job.__dict__ | {"n": getattr(args, f"{protocol.flags}_n"), "threads": args.threads})


def stacked_job(remedy: Remedy, seed: int, args: argparse.Namespace) -> Job:
    base = image_overrides(args.stacked_steps, seed, args.data_dir) | {
        "train.device": args.device,
        "train.tensorboard": False,
        "data.name": "stacked-mnist",
    }
    batch = get_recipe(STACKED_BASE).train.batch_size
    overrides = remedy_run_overrides(remedy, base, batch, args.pack_batch)
    run_dir = Path(args.out) / f"stacked-{remedy.name}-seed{seed}"
    job = Job("stacked", "stacked-mnist", remedy.name, seed, STACKED_BASE, overrides, str(run_dir), args.command)
    return Job(**job.__dict__ | {"n": args.stacked_n, "threads": args.threads})


def run_job(job: Job, log: Any = print) -> dict[str, Any]:
    """Train and score one run (reusing a finished one); a fresh result also records the machine and command."""
    run_dir = Path(job.run_dir)
    fresh = not (run_dir / "eval.json").is_file()
    result = run_and_score(job.recipe, job.overrides, run_dir, job.n, log, kid_subsets=10 if job.n else 100)
    if fresh:
        result["machine"] = result.get("machine", machine(job.overrides["train.device"])) | {"command": job.command}
        write_result(result, run_dir / "eval.json")
    points = run_dir / POINTS
    if job.kind == "toy" and not points.is_file():  # for the figures, without the checkpoint
        np.save(points, load_generator(run_dir).generate(result["protocol"]["n_fake"], seed=0).numpy())
    return result


def run_jobs(jobs: list[Job], workers: int, log: Any) -> dict[str, dict[str, Any]]:
    """Run the jobs (``workers`` processes at a time when more than one), return their results."""
    pending = [j for j in jobs if not (Path(j.run_dir) / "eval.json").is_file()]
    if workers > 1 and len(pending) > 1:
        running: list[tuple[Job, subprocess.Popen]] = []
        queue = list(pending)
        while queue or running:
            while queue and len(running) < workers:
                job = queue.pop(0)
                Path(job.run_dir).parent.mkdir(parents=True, exist_ok=True)
                out = open(f"{job.run_dir}.log", "w")  # noqa: SIM115 - closed by the child's exit
                env = os.environ | {"OMP_NUM_THREADS": str(job.threads), "PYTHONUNBUFFERED": "1"}
                cmd = [sys.executable, __file__, "--run-one", job.to_json()]
                running.append((job, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)))
            time.sleep(1.0)
            for item in list(running):
                job, proc = item
                if proc.poll() is not None:
                    running.remove(item)
                    log(f"{job.run_dir}: {'done' if proc.returncode == 0 else f'FAILED ({proc.returncode})'}")
    results = {}
    for job in jobs:
        if workers > 1 and not (Path(job.run_dir) / "eval.json").is_file():
            continue  # it failed in its worker (see RUN.log); the table leaves it out
        torch.set_num_threads(job.threads)
        results[job.run_dir] = run_job(job, log)
    return results


# ----------------------------------------------------------------------------------------------- the doc


def final_d_loss(run_dir: str | Path) -> float:
    """D's loss averaged over the last logging window of a run (``metrics.jsonl``); log 4 ≈ 1.386 at chance."""
    return float(read_metrics(run_dir)[-1]["d_loss"])


def toy_table(data: str, names: list[str], results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Ours (mean ± std over seeds) beside PacGAN Table 1 (mean ± standard error over 10 trials)."""
    header = ["remedy", "seeds", f"modes (of {TOY_MODES[data]().num_modes})", "PacGAN", "high quality %", "PacGAN"]
    header += ["reverse KL, all samples", "PacGAN (high-quality samples)", "final D loss", "samples / step", "train s"]
    rows = []
    for name in names:
        runs = results.get(name, [])
        modes = [r["metrics"]["modes"] for r in runs]
        paper = PACGAN_TABLE1.get(name, {}).get(data, ("–", "–", "–"))
        batch = ", ".join(map(str, sorted({r["training"]["config"]["train"]["batch_size"] for r in runs})))
        seconds = md.mean_spread([r["training"]["seconds"] for r in runs], 0)
        ours = [md.mean_spread([m["modes_covered"] for m in modes], 1)]
        ours += [md.mean_spread([100 * m["high_quality"] for m in modes], 1)]
        ours += [md.mean_spread([m["kl_all"] for m in modes], 3)]
        d_loss = md.mean_spread([r["final_d_loss"] for r in runs], 3)
        rows.append([REMEDIES[name].label, len(runs), *beside(ours, paper), d_loss, batch, seconds])
    return md.table(header, "l" + "r" * 10, rows)


def beside(ours: list[str], paper: tuple[str, ...]) -> list[str]:
    """Our cells, each followed by the paper's value of the same column."""
    return [cell for pair in zip(ours, paper, strict=True) for cell in pair]


PACK_ROWS = {1: "gan", 2: "pacgan2", 3: "pacgan3", 4: "pacgan4"}  # PACGAN_TABLE1's row for each packing


def two_se_verdict(ours: list[float], paper: str) -> str:
    """Ours (trials) against the paper's "mean ± s.e.": "≈" when the means differ by at most two standard errors of
    the difference (√(s.e.² + s.e.²)), else "below" or "above"; "–" with fewer than two trials."""
    if len(ours) < 2:
        return "–"
    mean, se = statistics.mean(ours), statistics.stdev(ours) / math.sqrt(len(ours))
    their_mean, their_se = (float(x) for x in paper.split(" ± "))
    if abs(mean - their_mean) <= 2 * math.hypot(se, their_se):
        return "≈"
    return "below" if mean < their_mean else "above"


def pacgan_table(data: str, by_pack: dict[int, list[dict[str, Any]]]) -> list[str]:
    """Ours (mean ± standard error over trials) beside PacGAN Table 1, one row per packing, with the two-standard-error
    verdict of each of the three columns the paper reports."""
    header = ["D judges", "trials", f"modes (of {TOY_MODES[data]().num_modes})", "PacGAN", "high quality %", "PacGAN"]
    header += ["KL, high-quality samples", "PacGAN", "verdict (modes · hq · KL)", "KL, all samples", "final D loss"]
    rows = []
    for pack, runs in sorted(by_pack.items()):
        m = [r["metrics"]["modes"] for r in runs]
        paper = PACGAN_TABLE1[PACK_ROWS[pack]][data]
        modes, hq = [x["modes_covered"] for x in m], [100 * x["high_quality"] for x in m]
        kl_hq = [x["kl_hq"] for x in m if x["kl_hq"] is not None]
        ours = [md.mean_se(modes, 1), md.mean_se(hq, 1)]
        ours += [md.mean_se(kl_hq, 3) + (f" ({len(kl_hq)} of {len(m)} trials)" if len(kl_hq) < len(m) else "")]
        verdict = " · ".join(two_se_verdict(v, p) for v, p in zip((modes, hq, kl_hq), paper, strict=True))
        what = "single points (GAN)" if pack == 1 else f"packs of {pack} (PacGAN{pack})"
        cells = [what, len(runs), *beside(ours, paper), verdict, md.mean_se([x["kl_all"] for x in m], 3)]
        rows.append([*cells, md.mean_se([r["final_d_loss"] for r in runs], 3)])
    return md.table(header, "l" + "r" * 10, rows)


def stacked_floor(out: Path, data_dir: str | None, n: int | None) -> dict[str, Any]:
    """Real Stacked-MNIST training stacks scored like the samples (cached in OUT): the best a model can show."""
    path = out / "real-stacked-mnist.json"
    if not path.is_file():
        protocol = Protocol(n_fake=n or STACKED_SAMPLES, data_dir=data_dir, kid_subsets=10 if n else 100)
        result = evaluate_real("stacked-mnist", protocol)
        write_result(result, path)
    return json.loads(path.read_text())


def stacked_table(names: list[str], results: dict[str, list[dict[str, Any]]], floor: dict[str, Any]) -> list[str]:
    header = ["remedy", "seeds", "modes (of 1,000)", "PacGAN", "KL(p‖uniform)", "PacGAN", "FID (MNIST classifier)"]
    rows = []
    for name in names:
        runs = results.get(name, [])
        m = [r["metrics"] for r in runs]
        paper = PACGAN_TABLE2.get(name, ("–", "–"))
        batch = ", ".join(map(str, sorted({r["training"]["config"]["train"]["batch_size"] for r in runs})))
        seconds = md.mean_spread([r["training"]["seconds"] for r in runs], 0)
        ours = [md.mean_spread([x["modes"]["modes_covered"] for x in m], 1)]
        ours += [md.mean_spread([x["modes"]["reverse_kl"] for x in m], 3)]
        fid = md.mean_spread([x["fid"] for x in m], 2)
        rows.append([REMEDIES[name].label, len(runs), *beside(ours, paper), fid, batch, seconds])
    m = floor["metrics"]
    real = [m["modes"]["modes_covered"], "–", f"{m['modes']['reverse_kl']:.3f}", "–", f"{m['fid']:.2f}", "–", "–"]
    rows.append(["*real training stacks (the floor)*", "–", *real])
    return md.table([*header, "samples / step", "train s"], "l" + "r" * 8, rows)


def toy_figure(data: str, names: list[str], runs: dict[str, list[str]], path: Path, size: int = 160) -> Path:
    """One row per remedy (named in its first tile), one column per seed: the 2,500 scored samples (blue) over
    real points (grey)."""
    real, _ = sample_toy(TOY_MODES[data](), 1000, 0)
    tiles = []
    columns = max(len(runs[name]) for name in names)
    for name in names:
        row = [scatter_image(np.load(Path(r) / POINTS), real, size, TOY_LIMITS[data]) for r in runs[name]]
        row += [np.full((size, size, 3), 255, np.uint8)] * (columns - len(row))
        labelled = Image.fromarray(row[0])
        ImageDraw.Draw(labelled).text((4, 4), name, fill=(0, 0, 0))
        row[0] = np.asarray(labelled)
        tiles += row
    grid = make_grid(np.stack(tiles).transpose(0, 3, 1, 2), nrow=columns)
    return save_png(grid, path)


def figure_lines(data: str, rows: str, columns: str, alt: str, path: str) -> list[str]:
    """The Markdown of a ``toy_figure``: its caption and the image."""
    caption = f"{data}: the 2,500 scored samples of each run (rows: {rows}; columns: {columns}; grey: real points)."
    return [caption, "", md.image(alt, path), ""]


def describe_machines(results: list[dict[str, Any]]) -> list[str]:
    """One line per distinct machine and command that trained the runs."""
    seen: dict[tuple[str, ...], int] = {}
    for r in results:
        m = r.get("machine", {})
        key = (hardware(m), str(m.get("device", "?")), m.get("torch", "?"), m.get("command", "?"))
        seen[key] = seen.get(key, 0) + 1
    return [
        f"- {count} run(s) on {hw} (device {device}, torch {version}), trained by `python benchmarks/mode_collapse.py "
        f"{command}`"
        for (hw, device, version, command), count in seen.items()
    ]


def section_text(
    args: argparse.Namespace, toy: dict[str, dict], stacked: dict[str, list], figures: dict, floor: dict | None
) -> str:
    lines = [
        "## Mode collapse: remedies compared",
        "",
        "Produced by `benchmarks/mode_collapse.py` (this section only; the rest of the file is "
        "`compare_objectives.py`'s). Every number is read from the runs' `eval.json`; the PacGAN columns are the "
        "values of Lin et al. 2018 (arXiv:1712.04086, Tables 1 and 2) as recalled when this script was written: "
        "the tables could not be read here (they are images in the authors' repository), so check them against "
        "the paper before citing them.",
        "",
        *md.code_block("python benchmarks/mode_collapse.py " + args.command),
        "",
        f"gankit {gankit.__version__}; {time.strftime('%Y-%m-%d', time.gmtime())}. Ours: mean ± standard "
        "deviation over seeds; PacGAN's: mean ± standard error over 10 trials.",
        "",
        "Each remedy is one option over the same plain GAN (non-saturating loss; same nets, optimiser, batch, "
        "steps, seeds), with the value of its recipe (`gankit recipes NAME`): `mbd` minibatch discrimination "
        "(B = 100 kernels of dimension 5 before D's last layer), `mbstd` the minibatch standard deviation "
        "feature, `fm` feature matching alone as G's loss on D's last hidden layer, `mdgan` an encoder with "
        "0.2·‖x − G(E(x))‖² + 0.4·l_G(D(G(E(x)))), `pacgan2/3/4` D on packs of m samples. "
        + (
            "As in PacGAN, D judges as many packs per step as the plain GAN judges samples, so a packed run draws m "
            "times the samples per step (the *samples / step* column)."
            if args.pack_batch == "packs"
            else "Packed runs keep the samples per step, so D judges batch/m packs."
        ),
        "",
    ]
    if toy:
        all_runs = [r for by_remedy in toy.values() for runs in by_remedy.values() for r in runs]
        lines += [
            "### 2-D mixtures (PacGAN Table 1 protocol: 2,500 samples, high quality within 3σ)",
            "",
            f"Plain GAN: the `{TOY_BASE}` recipe on the MLP every objective gets in `compare_objectives.py` "
            "(G 2→256→512→1024→2 ReLU, D 2m→1024→512→256→1 LeakyReLU 0.2, PyTorch's default init, z ~ N(0, I₂)), "
            f"Adam 2e-4 β = (0.5, 0.999), batch 64, {args.toy_steps:,} generator steps, one D step per G step, "
            "final weights. PacGAN trained far longer (G 4×400 with batch norm, D 3×200 maxout, Adam 1e-4 β₁ 0.8, "
            "batch 100, 400 epochs × 1,000 steps), so compare the *direction* of each remedy's effect with theirs, "
            "not the levels. *train s*: wall time of one run's training, with `--jobs` runs at once on the cores "
            "of the machine below, which other work shared at times (indicative only). *final D loss*: D's loss "
            "over the last 50 steps; log 4 ≈ 1.386 means D cannot tell real from generated at all. *reverse KL, "
            "all samples*: every sample counted in its nearest mode; PacGAN's KL counts the high-quality samples "
            "only (the `pacgan-2d` section below compares both under PacGAN's own protocol).",
            "",
            *describe_machines(all_runs),
            "",
        ]
        for data in TOY_DATA:
            if data in toy:
                lines += [f"**{data}**", "", *toy_table(data, list(toy[data]), toy[data]), ""]
        for data, path in figures.items():
            lines += figure_lines(data, ", ".join(toy[data]), "seeds", f"{data} remedies", path)
    if stacked:
        runs = [r for rs in stacked.values() for r in rs]
        steps = sorted({r["training"]["steps"] for r in runs})
        n = runs[0]["protocol"]["n_fake"]
        chance = expected_kl_of_uniform_sample(STACKED_MODES, n)
        lines += [
            "### Stacked MNIST (PacGAN Table 2 protocol: 26,000 samples, 1,000 modes)",
            "",
            f"Plain GAN: the `{STACKED_BASE}` recipe (DCGAN nets at 28×28, Adam 2e-4 β₁ 0.5, batch 64, "
            "z ~ U(−1, 1)¹⁰⁰), " + ", ".join(f"{s:,}" for s in steps) + " generator steps, one D step per G step "
            "(PacGAN's DCGAN code: two G steps per D step and 100,000 steps), final weights. Each channel of a "
            "sample is classified by gankit's MNIST classifier; a mode is a triple of digits. A sampler spread "
            f"evenly over the 1,000 modes would still show KL ≈ {chance:.3f} from {n:,} samples by chance, more "
            f"through the classifier's errors: the last row scores the first {floor['protocol']['n_fake']:,} real "
            "training stacks in the same way. *train s* is wall time with all the runs of the command below "
            "training at once on one GPU, not the cost of one run alone.",
            "",
            *describe_machines(runs),
            "",
            *stacked_table(list(stacked), stacked, floor),
            "",
            "Samples (final step, fixed z, first seed):",
            "",
            *md.table(list(stacked), "l" * len(stacked), [[md.image(n, f"results/stacked-{n}.png") for n in stacked]]),
            "",
        ]
    return "\n".join(lines)


def pacgan_reading(data: str, by_pack: dict[int, list[dict[str, Any]]]) -> list[str]:
    """In words: each packing against no packing, ours beside PacGAN's, with D's final loss."""
    means = {}
    for pack, runs in by_pack.items():
        m = [r["metrics"]["modes"] for r in runs]
        means[pack] = (
            statistics.mean(x["modes_covered"] for x in m),
            100 * statistics.mean(x["high_quality"] for x in m),
            statistics.mean(r["final_d_loss"] for r in runs),
        )
    if 1 not in means:
        return []
    k = TOY_MODES[data]().num_modes
    gan = means[1]
    paper_gan = PACGAN_TABLE1["gan"][data]
    words = [
        f"{data}: the GAN covers {gan[0]:.1f} of {k} modes with {gan[1]:.1f}% high-quality samples (PacGAN: "
        f"{paper_gan[0].split(' ')[0]} and {paper_gan[1].split(' ')[0]}%), D's final loss {gan[2]:.3f}."
    ]
    for pack in sorted(means):
        if pack == 1:
            continue
        ours, paper = means[pack], PACGAN_TABLE1[PACK_ROWS[pack]][data]
        at_chance = abs(ours[2] - math.log(4)) < 0.03
        direction = "more than" if ours[0] > gan[0] else "fewer than" if ours[0] < gan[0] else "as many as"
        agree = "as" if ours[0] > gan[0] else "unlike"
        words.append(
            f"Packs of {pack}: {ours[0]:.1f} modes, {direction} the GAN, {agree} in PacGAN ("
            f"{paper[0].split(' ')[0]} against {paper_gan[0].split(' ')[0]}); {ours[1]:.1f}% high quality "
            f"(PacGAN {paper[1].split(' ')[0]}%); D's final loss {ours[2]:.3f}"
            + (", about log 4 ≈ 1.386: D can hardly tell real packs from generated ones." if at_chance else ".")
        )
    if all(means[m][1] < float(PACGAN_TABLE1[PACK_ROWS[m]][data][1].split(" ")[0]) - 20 for m in means):
        words.append(
            "No run is near convergence (every high-quality share is more than 20 points below PacGAN's): this "
            "table shows the start of training, not the end state that Table 1 reports."
        )
    if any(abs(means[m][2] - math.log(4)) < 0.03 for m in means if m > 1):
        words.append(
            "The packed D has not yet left the start at which G's samples match the mixture's spread and D cannot tell "
            "(the `pacgan-stall` section: a packed D learns the mixture's structure more slowly), so this budget "
            "cannot show PacGAN's result: whether packing wins later, as they report, is not tested here."
        )
    return [" ".join(words), ""]


# PacGAN's Stacked-MNIST settings (their code, stacked_MNIST_experiments/*/config.py and model.py) against
# gankit's presets: checked, not trained (a DCGAN run of 100,000 steps alone is hours on this project's CPU).
STACKED_PROTOCOLS = [
    "**Stacked MNIST (PacGAN Tables 2 and 3).** Both settings are trained at a small fraction of their length, in "
    "the `pacgan-veegan` (Table 2) and `pacgan-stacked` (Table 3) sections. How the recipes compare with the "
    "authors' settings:",
    "",
    "- *Table 2, VEEGAN's setting* (`VEEGAN_experiment`, on Kim's DCGAN-tensorflow): the `pacgan-veegan` recipe "
    "is their setting: DCGAN-tensorflow's nets (`gankit.nets.dcgan_tf`: 5×5 kernels, G 512-256-128-64 channels "
    "from 2×2 to 28×28, D 64-128-256-512 with batch norm after all but the first layer, LeakyReLU 0.2), z ~ "
    "U(−1, 1)¹⁰⁰, Adam 2e-4 β₁ 0.5, 64 packs per step, one D step then two G steps, all three on the same z "
    "(`train.g_steps=2`, `train.g_noise=shared`), 50 epochs of 128,000 stacks drawn from the 70,000 MNIST digits "
    "(train and test: the `stacked-mnist-128k` data set) = 100,000 steps, 26,000 samples classified, KL to uniform "
    "over the 1,000 modes. Deviations: every trial trains on the same 128,000 stacks (theirs drew a new set per "
    "trial) in a new order each epoch (theirs in one fixed order); real stacks are scaled to [−1, 1] like G's tanh "
    "output (their loader scales them to [0, 1]); G makes the m members of a pack in one batch (theirs in m, so "
    'their batch-norm statistics are per member); TensorFlow\'s "SAME" padding shifts the maps by up to a pixel '
    "against PyTorch's; batch-norm scales start at N(1, 0.02) (theirs at 1). Both samplers use batch norm's running "
    "statistics. (25,600, the training-set size sometimes quoted, is the default argument of their DCGAN class; "
    "their config sets 128,000.)",
    "- *Table 3, the unrolled GAN's small-D setting* (`unrolled_GAN_experiment/D=0.25G`, `D=0.5G`): the "
    "`pacgan-stacked` recipe is their setting: their nets (`gankit.nets.small_dcgan`: 3×3 convolutions, G "
    "64-32-16-8 channels, D 2-4-8 with batch norm in every layer and LeakyReLU 0.3; `model.d_width=4` for D = "
    "½G), z ~ N(0, I₂₅₆), Adam D 2e-4 / G 1e-4, β = (0.5, 0.99), 128 packs per step, one D step per G step, "
    "500,000 steps, 25,600 samples scored. Deviations: a fixed set of 60,000 stacks instead of "
    "stacks drawn afresh each step, G's step draws its own z (theirs reuses the D step's; `train.g_noise=shared` "
    "does that now, the runs below predate it), G makes the m members of a pack in one batch (theirs in m, so "
    "their batch-norm statistics are per member), and G is scored with batch norm's running statistics (their "
    "sampler uses each batch's).",
    "",
]


def protocol_table(protocol: StackedProtocol, results: dict[tuple[int, int], list[dict[str, Any]]]) -> list[str]:
    """Ours (mean ± standard error over trials) beside the paper's table, one row per D size and packing."""
    header = ["D", "D judges", "trials", "modes (of 1,000)", "PacGAN", "KL(p‖uniform)", "PacGAN"]
    header += ["FID (MNIST classifier)", "final D loss", "train s"]
    rows = []
    for (width, pack), runs in sorted(results.items()):
        m = [r["metrics"]["modes"] for r in runs]
        paper = protocol.paper.get((width, pack), ("–", "–"))
        ours = [md.mean_se([x["modes_covered"] for x in m], 1), md.mean_se([x["reverse_kl"] for x in m], 3)]
        what = "single stacks (DCGAN)" if pack == 1 else f"packs of {pack} (PacDCGAN{pack})"
        cells = [protocol.size(width), what, len(runs), *beside(ours, paper)]
        cells += [md.mean_se([r["metrics"]["fid"] for r in runs], 1), md.mean_se([r["final_d_loss"] for r in runs], 3)]
        rows.append([*cells, md.mean_se([r["training"]["seconds"] for r in runs], 0)])
    return md.table(header, "ll" + "r" * 8, rows)


def section_head(
    title: str, table: str, trials: int, args: argparse.Namespace, runs: list[dict[str, Any]]
) -> list[str]:
    """The opening of a PacGAN-protocol section: title, provenance, the command, the machines and the date."""
    return [
        f"## {title}: packing against collapse",
        "",
        "Produced by `benchmarks/mode_collapse.py` (this section only); every number of ours is read from the runs' "
        f"`eval.json`, PacGAN's are {table} of arXiv:1712.04086 (mean ± standard error over {trials} trials).",
        "",
        *md.code_block("python benchmarks/mode_collapse.py " + args.command),
        "",
        *describe_machines(runs),
        "",
        f"gankit {gankit.__version__}; {time.strftime('%Y-%m-%d', time.gmtime())}.",
        "",
    ]


def protocol_reading(protocol: StackedProtocol, results: dict[tuple[int, int], list[dict[str, Any]]]) -> list[str]:
    """What a Stacked-MNIST protocol's table says, in words read from its numbers: does packing beat single stacks
    in every trial?"""
    words = []
    for width in sorted({w for w, _ in results}):
        base_runs = results.get((width, 1), [])
        base = [r["metrics"]["modes"]["modes_covered"] for r in base_runs]
        base_fid = [r["metrics"]["fid"] for r in base_runs]
        single = f"With D = {protocol.size(width)}, single stacks" if len(protocol.sizes) > 1 else "Single stacks"
        if base and max(base) == 1:
            n = base_runs[0]["metrics"]["modes"]["n_samples"]
            words.append(f"{single} put all {n:,} samples in one mode in every trial.")
        elif base:
            words.append(f"{single} cover {md.span(base)} of the 1,000 modes.")
        for pack in sorted(m for w, m in results if w == width and m > 1):
            packed = [r["metrics"]["modes"]["modes_covered"] for r in results[(width, pack)]]
            fid = [r["metrics"]["fid"] for r in results[(width, pack)]]
            if base and min(packed) > max(base):
                words.append(f"Every trial with packs of {pack} covers more ({md.span(packed)}).")
            elif base:
                words.append(
                    f"Packs of {pack} ({md.span(packed)}) do not cover more modes than single stacks in every trial."
                )
            if base_fid and max(fid) < min(base_fid):
                words.append(
                    f"Their FID is lower in every trial ({md.span(fid, '.0f')} against {md.span(base_fid, '.0f')})."
                )
    words += paper_comparison(protocol, results)
    most = max(r["metrics"]["modes"]["modes_covered"] for rs in results.values() for r in rs)
    if most < 50:
        words.append(
            f"At this budget no setting draws stacks that the classifier reads as varied digits (at most {most} of "
            "1,000 modes), so the mode counts cannot yet show PacGAN's result; FID and the samples below separate "
            "the settings."
        )
    return [" ".join(words), ""] if words else []


def _paper_value(text: str) -> tuple[float, float | None]:
    """A table entry "78.9 ± 6.5" as (78.9, 6.5); "99.0" as (99.0, None)."""
    mean, _, se = text.partition("±")
    return float(mean), float(se) if se else None


def paper_comparison(protocol: StackedProtocol, results: dict[tuple[int, int], list[dict[str, Any]]]) -> list[str]:
    """Ours against the paper, cell by cell, in words: the mean modes covered, and whether ours lies within two
    standard errors of theirs (theirs ± 2·SE_theirs widened by ours)."""
    parts = []
    for (width, pack), runs in sorted(results.items()):
        if (width, pack) not in protocol.paper:
            continue
        theirs, their_se = _paper_value(protocol.paper[(width, pack)][0])
        ours = [r["metrics"]["modes"]["modes_covered"] for r in runs]
        mean = statistics.mean(ours)
        our_se = statistics.stdev(ours) / math.sqrt(len(ours)) if len(ours) > 1 else 0.0
        slack = 2 * math.hypot(their_se or 0.0, our_se)
        verdict = "below" if mean < theirs else "above"
        verdict = "within two standard errors" if abs(mean - theirs) <= slack else verdict
        cell = "single stacks" if pack == 1 else f"packs of {pack}"
        where = f", D = {protocol.size(width)}" if len(protocol.sizes) > 1 else ""
        parts.append(f"{cell}{where} {mean:.1f} against {theirs:g} ({verdict})")
    return [f"Modes covered, ours against PacGAN's {protocol.table}: {'; '.join(parts)}."] if parts else []


def protocol_section(
    protocol: StackedProtocol,
    args: argparse.Namespace,
    results: dict[tuple[int, int], list[dict[str, Any]]],
    figures: dict[str, str],
) -> str:
    """A Stacked-MNIST protocol's section: PacGAN's table and gankit's runs of the same protocol beside it."""
    runs = [r for rs in results.values() for r in rs]
    steps = sorted({r["training"]["steps"] for r in runs})
    trials = md.span([len(rs) for rs in results.values()])
    scored = md.span([r["protocol"]["n_fake"] for r in runs], ",")
    per_step = [r["training"]["seconds"] / r["training"]["steps"] for r in runs if r["training"]["steps"]]
    lines = [
        *section_head(protocol.title, protocol.table, protocol.paper_trials, args, runs),
        f"**Setting**: the `{protocol.recipe}` recipe (`gankit recipes {protocol.recipe}`; the `pacgan-2d` section's "
        "*Stacked MNIST* notes say what it matches in the authors' code and where it differs). Scored as they score: "
        f"{scored} samples of G (theirs {protocol.samples:,}), each channel classified (gankit's MNIST classifier), "
        "modes of 1,000 hit at least once, KL(generated mode histogram ‖ uniform).",
        "",
        f"**Budget** (the deviation that matters): {', '.join(f'{s:,}' for s in steps)} steps per trial instead of "
        f"their {protocol.paper_steps:,} ({100 * max(steps) / protocol.paper_steps:.1f}% of it), and {trials} trials "
        f"per cell instead of {protocol.paper_trials}. At the step times measured here "
        f"({md.span(per_step, '.2f')} s), one {protocol.paper_steps:,}-step trial would take "
        f"{md.span([protocol.paper_steps * t / 3600 for t in per_step], '.0f')} h on this CPU. These numbers say where "
        "each setting stands early in training; they are not the paper's end point.",
        "",
        *protocol_table(protocol, results),
        "",
        *protocol_reading(protocol, results),
    ]
    first_trial = min(getattr(args, f"{protocol.flags}_trials"))
    for cell, path in figures.items():
        lines += [f"Samples of trial {first_trial}, {cell} (the run's last grid):", "", md.image(cell, path), ""]
    return "\n".join(lines)


def pacgan_section(args: argparse.Namespace, results: dict[str, dict[int, list]], figures: dict[str, str]) -> str:
    """The ``pacgan-2d`` section: PacGAN's Table 1 protocol, gankit beside the paper."""
    runs = [r for by_pack in results.values() for rs in by_pack.values() for r in rs]
    cells = [rs for by_pack in results.values() for rs in by_pack.values()]
    steps = sorted({r["training"]["steps"] for r in runs})
    cell_ms = [1000 * cell_seconds(rs) / rs[0]["training"]["steps"] for rs in cells]
    trial_ms = [ms / len(rs) for ms, rs in zip(cell_ms, cells, strict=True)]
    packs = [r["training"]["config"]["model"]["pack"] for r in runs]
    trials = md.span([len(rs) for rs in cells])
    modes = sorted({r["trials_mode"] for r in runs})
    lines = [
        *section_head("PacGAN's 2-D protocol (Lin et al. 2018, Table 1)", "Table 1", 10, args, runs),
        f"**Setting** (the `{PACGAN_BASE}` recipe, `gankit recipes {PACGAN_BASE}`; checked against the authors' code, "
        "`synthetic_data_experiments/2D*_GAN&PacGAN` of github.com/fjxmlzn/PacGAN): G z ~ N(0, I₂) → 4 × [Linear 400 "
        "without bias, batch norm, ReLU] → Linear 2; D 3 maxout layers of 200 units × 5 pieces (Goodfellow et al. "
        "2013) → Linear 1, reading m points concatenated; weights N(0, 0.02), biases 0; non-saturating loss; both "
        "players' gradients at the same point, applied together (`train.scheme=simultaneous`, as their ALI "
        "`GradientDescent`); Adam 1e-4, β = (0.8, 0.999); 100 packs per step (100·m samples for D and for G); a "
        "fixed training set of 100,000 points. Scored as their `MetricLogger`: 2,500 samples of G (batch norm "
        "with its running statistics), nearest mode, high quality within 3σ, a mode covered by ≥ 1 high-quality "
        "sample, reverse KL of the high-quality histogram (*KL, all samples*: every sample in its nearest mode, "
        "the variant gankit reported before).",
        "",
        f"**Budget** (the only deviation that matters): {', '.join(f'{s:,}' for s in steps)} steps per trial "
        f"({', '.join(f'{s / 1000:g}' for s in steps)} epoch{'' if steps == [1000] else 's'}, "
        f"{100 * max(steps) / 400_000:.2g}% of theirs) instead "
        f"of their 400 epochs × 1,000 steps, {trials} trials per cell (theirs 10). Each cell is one trials run "
        f"(`train.seeds`), its trials trained {' or '.join(HOW[m] for m in modes)} (`train.trials_mode="
        f"{args.pacgan_trials_mode}`). A step of a cell's trials took {min(cell_ms):,.0f}–{max(cell_ms):,.0f} ms "
        f"({min(trial_ms):.0f}–{max(trial_ms):.0f} ms per trial, m = {min(packs)}–{max(packs)}) on the machine "
        "above, sharing it with other work (so these are upper bounds); at that rate one full 400,000-step cell "
        f"would take {0.4 * min(cell_ms) / 3.6:,.0f}–{0.4 * max(cell_ms) / 3.6:,.0f} h and the whole table "
        f"{0.4 * sum(cell_ms) / 3.6:,.0f} h: beyond this project's 2-core CPU, a task for a lent GPU. "
        "*Verdict*: ≈ where our mean and theirs differ by at most two standard errors of the difference, else "
        "below or above. Other small differences: every trial trains on the same 100,000 points "
        "(theirs drew a new set per trial), batch-norm running averages use PyTorch's momentum 0.1 (theirs "
        "0.05). G's gradient uses the z of D's (`train.g_noise=shared`), as their one graph does.",
        "",
    ]
    missing = [f"{d} m = {m}" for d in TOY_DATA for m in PACK_ROWS if m not in results.get(d, {})]
    if missing:
        lines += [f"Not run at this budget (PacGAN's Table 1 has them): {', '.join(missing)}.", ""]
    for data, by_pack in results.items():
        lines += [f"**{data}**", "", *pacgan_table(data, by_pack), "", *pacgan_reading(data, by_pack)]
    for data, path in figures.items():
        rows = "m = " + ", ".join(str(m) for m in results[data])
        lines += figure_lines(data, rows, "trials", f"{data}, PacGAN protocol", path)
    lines += STACKED_PROTOCOLS
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--toy-steps", type=int, default=10_000, help="generator steps per 2-D run (0: no 2-D runs)")
    p.add_argument("--toy-data", nargs="+", default=list(TOY_DATA), choices=TOY_DATA)
    p.add_argument("--remedies", nargs="+", default=list(REMEDIES), choices=list(REMEDIES), help="2-D remedies")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the 2-D runs")
    p.add_argument("--stacked-steps", type=int, default=0, help="generator steps per Stacked-MNIST run (0: none)")
    p.add_argument("--stacked-remedies", nargs="+", default=["gan", "pacgan2", "mbd"], choices=list(REMEDIES))
    p.add_argument("--stacked-seeds", type=int, nargs="+", default=[0])
    p.add_argument("--stacked-n", type=int, help="samples scored per Stacked-MNIST run (default: PacGAN's 26,000)")
    p.add_argument("--data-dir", help="folder with the MNIST IDX files (Stacked MNIST)")
    p.add_argument("--device", default="cpu", help="device of the Stacked-MNIST runs (2-D runs use the CPU)")
    p.add_argument("--pacgan-steps", type=int, default=0, help="steps per trial of PacGAN's 2-D protocol (0: none)")
    p.add_argument("--pacgan-data", nargs="+", default=list(TOY_DATA), choices=TOY_DATA)
    p.add_argument("--pacgan-packs", type=int, nargs="+", default=list(PACK_ROWS), choices=list(PACK_ROWS))
    p.add_argument("--pacgan-trials", type=int, nargs="+", default=list(range(10)), help="trials (seeds) per cell")
    p.add_argument(
        "--pacgan-trials-mode",
        choices=("auto", "vectorised", "sequential"),
        default="auto",
        help="how a cell's trials train (train.trials_mode)",
    )
    p.add_argument("--pacgan-checkpoint-every", type=int, default=1000, help="steps between a cell's checkpoints")
    p.add_argument("--veegan-steps", type=int, default=0, help="steps per trial of PacGAN Table 2's protocol (0: none)")
    p.add_argument("--veegan-packs", type=int, nargs="+", default=[1, 2], choices=list(PACK_ROWS))
    p.add_argument("--veegan-trials", type=int, nargs="+", default=[0, 1], help="trials (seeds) per setting")
    p.add_argument("--veegan-n", type=int, default=VEEGAN.samples, help="samples scored per Table 2 run")
    p.add_argument(
        "--small-d-steps", type=int, default=0, help="steps per trial of PacGAN Table 3's protocol (0: none)"
    )
    p.add_argument("--small-d-widths", type=int, nargs="+", default=[2], help="D's first width: 2 (D = ¼G), 4 (½G)")
    p.add_argument("--small-d-packs", type=int, nargs="+", default=[1, 2, 4], choices=list(PACK_ROWS))
    p.add_argument("--small-d-trials", type=int, nargs="+", default=[0, 1, 2], help="trials (seeds) per setting")
    p.add_argument("--small-d-n", type=int, default=SMALL_D.samples, help="samples scored per small-D run")
    p.add_argument("--pack-batch", choices=("packs", "samples"), default="packs", help="what the batch of 64 counts")
    p.add_argument("--jobs", type=int, default=1, help="runs trained at once, each in its own process")
    p.add_argument("--threads", type=int, default=1, help="torch threads per Stacked-MNIST run (2-D runs: one)")
    p.add_argument("--out", default="runs/modes", help="folder of the runs")
    p.add_argument("--doc", default="docs/results.md", help="Markdown file whose mode-collapse section is written")
    p.add_argument("--no-doc", action="store_true", help="train and score only (e.g. on a GPU machine)")
    p.add_argument("--scores", help="folder of the kept PacGAN cells (default: <doc folder>/results/scores; committed)")
    p.add_argument("--run-one", help=argparse.SUPPRESS)  # a worker: one Job as JSON
    args = p.parse_args(argv)
    if args.run_one:
        job = Job(**json.loads(args.run_one))
        torch.set_num_threads(job.threads)
        run_job(job)
        return
    args.command = " ".join(sys.argv[1:] if argv is None else argv)

    jobs: list[Job] = []
    if args.stacked_steps > 0:  # first: the longest runs
        jobs += [stacked_job(REMEDIES[n], s, args) for n in args.stacked_remedies for s in args.stacked_seeds]
    widths = {VEEGAN.kind: [VEEGAN_D_WIDTH], SMALL_D.kind: args.small_d_widths}
    for protocol in STACKED_PROTOCOL_LIST:  # trial by trial, so that an interrupted call has finished whole trials
        if getattr(args, f"{protocol.flags}_steps") > 0:
            jobs += [
                protocol_job(protocol, w, m, t, args)
                for t in getattr(args, f"{protocol.flags}_trials")
                for w in widths[protocol.kind]
                for m in getattr(args, f"{protocol.flags}_packs")
            ]
    if args.toy_steps > 0:
        # seed by seed, so that an interrupted call has finished every cell of the first seeds
        jobs += [toy_job(d, REMEDIES[n], s, args) for s in args.seeds for d in args.toy_data for n in args.remedies]
    cells = [pacgan_cell_job(d, m, args) for d in args.pacgan_data for m in args.pacgan_packs if args.pacgan_steps > 0]
    scores = Path(args.scores) if args.scores else Path(args.doc).parent / "results" / "scores"
    threads = torch.get_num_threads()
    try:
        results = run_jobs(jobs, args.jobs, log)
        for job in cells:  # each cell one trials run, in this process
            torch.set_num_threads(job.threads)
            results[job.run_dir] = run_cell(job, log, scores)
    finally:
        torch.set_num_threads(threads)

    toy: dict[str, dict[str, list[dict[str, Any]]]] = {}
    pacgan: dict[str, dict[int, list[dict[str, Any]]]] = {}
    pacgan_runs: dict[str, dict[str, list[str]]] = {}
    toy_runs: dict[str, dict[str, list[str]]] = {}
    stacked: dict[str, list[dict[str, Any]]] = {}
    by_protocol: dict[str, dict[tuple[int, int], list[dict[str, Any]]]] = {}
    first_runs: dict[str, dict[tuple[int, int], str]] = {}  # the first trial's run of each cell, for the figures
    for job in cells:
        pack = int(job.overrides["model.pack"])
        for result in results[job.run_dir]:
            pacgan.setdefault(job.data, {}).setdefault(pack, []).append(result)
            pacgan_runs.setdefault(job.data, {}).setdefault(job.remedy, []).append(result["run_dir"])
            m = result["metrics"]["modes"]
            log(f"{job.data} m={pack} trial {result['trial']}: {m['modes_covered']} modes, {m['high_quality']:.1%} hq")
    for job in jobs:
        if job.run_dir not in results:
            continue
        result = results[job.run_dir] | {"final_d_loss": final_d_loss(job.run_dir)}
        if job.kind in PROTOCOLS_BY_KIND:
            cell = (int(job.overrides["model.d_width"]), int(job.overrides["model.pack"]))
            by_protocol.setdefault(job.kind, {}).setdefault(cell, []).append(result)
            first_runs.setdefault(job.kind, {}).setdefault(cell, job.run_dir)
            m = result["metrics"]["modes"]
            log(f"{job.kind} {job.remedy} trial {job.seed}: {m['modes_covered']} modes, KL {m['reverse_kl']:.3f}")
        elif job.kind == "toy":
            toy.setdefault(job.data, {}).setdefault(job.remedy, []).append(result)
            toy_runs.setdefault(job.data, {}).setdefault(job.remedy, []).append(job.run_dir)
            m = result["metrics"]["modes"]
            log(f"{job.data} {job.remedy} seed {job.seed}: {m['modes_covered']} modes, {m['high_quality']:.1%} hq")
        else:
            stacked.setdefault(job.remedy, []).append(result)
            m = result["metrics"]["modes"]
            log(f"stacked {job.remedy} seed {job.seed}: {m['modes_covered']} modes, KL {m['reverse_kl']:.3f}")
    if args.no_doc:
        return
    doc = Path(args.doc)
    figures = {}
    for data, runs in toy_runs.items():
        path = doc.parent / "results" / f"modes-{data}.png"
        toy_figure(data, list(runs), runs, path)
        figures[data] = f"results/{path.name}"
    for name in stacked:
        grid = sorted((Path(args.out) / f"stacked-{name}-seed{args.stacked_seeds[0]}" / "samples").glob("step-*.png"))
        if grid:
            (doc.parent / "results").mkdir(parents=True, exist_ok=True)
            (doc.parent / "results" / f"stacked-{name}.png").write_bytes(grid[-1].read_bytes())
    if toy or stacked:
        floor = stacked_floor(Path(args.out), args.data_dir, args.stacked_n) if stacked else None
        md.write_section(doc, SECTION, section_text(args, toy, stacked, figures, floor))
        log(f"wrote the {SECTION} section of {doc}")
    for kind, results_by_cell in by_protocol.items():
        protocol, paths = PROTOCOLS_BY_KIND[kind], {}
        for (width, pack), run_dir in first_runs[kind].items():
            grid = sorted((Path(run_dir) / "samples").glob("step-*.png"))
            if grid:
                name = f"{protocol.cell.format(width=width, pack=pack)}.png"
                (doc.parent / "results").mkdir(parents=True, exist_ok=True)
                (doc.parent / "results" / name).write_bytes(grid[-1].read_bytes())
                paths[protocol.caption(width, pack)] = f"results/{name}"
        md.write_section(doc, protocol.section, protocol_section(protocol, args, results_by_cell, paths))
        log(f"wrote the {protocol.section} section of {doc}")
    if pacgan:
        paths = {}
        for data, runs in pacgan_runs.items():
            path = toy_figure(data, list(runs), runs, doc.parent / "results" / f"pacgan-{data}.png")
            paths[data] = f"results/{path.name}"
        md.write_section(doc, PACGAN_SECTION, pacgan_section(args, pacgan, paths))
        log(f"wrote the {PACGAN_SECTION} section of {doc}")


if __name__ == "__main__":
    main()
