"""What the benchmark scripts share: a run trained and scored once, the shared setups' overrides, timing steps, a
step's FLOPs and the GEMM peak they are set against."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from gankit.config import Config
from gankit.device import bf16_units, cpu_model, cpu_words
from gankit.metrics.evaluate import evaluate_run, write_result
from gankit.metrics.protocol import Protocol
from gankit.recipes import get_recipe
from gankit.training.state import Training
from gankit.training.trainer import train

TOY_DATA = ("ring8", "grid25")  # the 2-D mixtures of the mode-collapse tables (PacGAN's Table 1)


def log(msg: str) -> None:
    """A script's progress line, printed at once."""
    print(msg, flush=True)


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The records of a run's ``metrics.jsonl``, in order."""
    lines = (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def run_and_score(
    name: str, overrides: dict[str, Any], run_dir: Path, n: int | None, log: Any, kid_subsets: int = 100
) -> dict[str, Any]:
    """Train (unless already done with this config) and evaluate one run; the evaluation is cached in RUN/eval.json.

    A finished run whose config differs from the one asked for (e.g. a recipe changed since) is trained again.
    """
    cfg = get_recipe(name).override(overrides)
    result = cached_result(run_dir, cfg, log)
    if result is not None:
        return result
    if run_dir.exists():
        shutil.rmtree(run_dir)  # an unfinished run of an earlier call, or one of another config
    t0 = time.perf_counter()
    train(cfg, run_dir, echo=False)
    log(f"{run_dir}: trained {cfg.train.steps} steps in {time.perf_counter() - t0:.0f} s")
    return score_run(run_dir, cfg, n, kid_subsets)


def cached_result(run_dir: Path, cfg: Config, log: Any) -> dict[str, Any] | None:
    """RUN/eval.json when it scores a run trained with exactly ``cfg``, else None."""
    result_path = run_dir / "eval.json"
    if not result_path.is_file():
        return None
    result = json.loads(result_path.read_text())
    if "training" in result and Config.from_dict(result["training"]["config"]).to_dict() == cfg.to_dict():
        log(f"{run_dir}: reusing {result_path}")
        return result
    log(f"{run_dir}: its eval.json scores another config (or budget) than the one asked for now: not reused")
    return None


def machine(device: str) -> dict[str, Any]:
    """What a run was trained on, recorded in its ``eval.json``: the CPU model and the instruction set PyTorch's
    kernels use and its bf16 units (as ``gankit.device.describe_machine`` names them), cores, threads, the GPU,
    torch's version and the run's ``train.device``."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    cpu = {"cpu": cpu_model(), "isa": torch.backends.cpu.get_cpu_capability(), "bf16_units": bf16_units()}
    cpu["cores"] = os.cpu_count()
    return cpu | {"threads": torch.get_num_threads(), "gpu": gpu, "torch": torch.__version__, "device": device}


def hardware(record: dict[str, Any]) -> str:
    """A :func:`machine` record's hardware in words, as ``describe_machine`` names it: the GPU, else the CPU model,
    its instruction set and its bf16 units (records written before they were kept lack them)."""
    if record.get("gpu"):
        return record["gpu"]
    return cpu_words(record.get("cpu", "?"), record.get("isa"), record.get("bf16_units"))


def trained_precision(run_dir: Path) -> str | None:
    """The precision a run trained in, as its engine line in ``log.txt`` says (``train.precision=auto`` resolves by
    machine: bf16 on a CPU with bf16 units where the probe measured it faster); the last such line (a resumed run
    chooses again); None if the log has none."""
    from gankit.store.layout import RunPaths

    log_path = RunPaths(run_dir).log
    lines = log_path.read_text().splitlines() if log_path.is_file() else []
    chosen = [line.split()[2] for line in lines if line.startswith("engine: precision ")]
    return chosen[-1] if chosen else None


def score_run(run_dir: Path, cfg: Config, n: int | None, kid_subsets: int = 100) -> dict[str, Any]:
    """Evaluate a trained run (``n`` samples; None: the protocol's), add how it trained (steps, seconds, images/s,
    config: from its ``metrics.jsonl``; precision: :func:`trained_precision`) and on what (:func:`machine`: it was
    trained here, as run folders do not travel), and write it to RUN/eval.json."""
    result = evaluate_run(run_dir, Protocol(n_fake=n, kid_subsets=kid_subsets))
    records = read_metrics(run_dir)
    elapsed = records[-1]["elapsed_s"]
    result["training"] = {
        "steps": cfg.train.steps,
        "seconds": elapsed,
        "images_per_s": records[-1]["images_seen"] / elapsed if elapsed else None,
        "config": cfg.to_dict(),
        "precision": trained_precision(run_dir),
    }
    result["machine"] = machine(cfg.train.device)
    write_result(result, run_dir / "eval.json")
    return result


def kept_scores(scores: Path | None, run_dir: Path, cfg: Config, log: Any) -> list[dict[str, Any]] | None:
    """The results of a cell kept in ``scores`` (:func:`keep_scores`) when they score exactly ``cfg``'s trials run,
    else None."""
    folder = None if scores is None else scores / run_dir.name
    if folder is None or not (folder / "cell.json").is_file():
        return None
    cell = json.loads((folder / "cell.json").read_text())
    if Config.from_dict(cell["config"]).to_dict() != cfg.to_dict():
        log(f"{folder}: kept for another config (or budget) than the one asked for now: not reused")
        return None
    log(f"{run_dir.name}: reusing the scores of its {len(cell['scored'])} trials kept in {folder}")
    kept = [json.loads((folder / f"trial-{k:02d}.json").read_text()) for k in cell["scored"]]
    return [r | {"run_dir": str(folder / f"trial-{r['trial']:02d}")} for r in kept]  # where its kept files are


def last_figure(run_dir: Path, scores: Path | None = None) -> Path | None:
    """A cell's first trial's last sample figure: from its run folder, else the one kept in ``scores``, else None."""
    from gankit.store.layout import RunPaths

    figures = sorted((RunPaths(run_dir).trial(0) / "samples").glob("step-*.png"))
    if figures:
        return figures[-1]
    kept = None if scores is None else scores / run_dir.name / "samples.png"
    return kept if kept is not None and kept.is_file() else None


def keep_scores(
    scores: Path | None, run_dir: Path, cfg: Config, results: list[dict[str, Any]], files: tuple[str, ...] = ()
) -> None:
    """Write a cell's results into ``SCORES/<cell folder>/``: each trial's (``trial-KK.json``, what
    :func:`trials_and_score` returned, with the machine it trained on), ``cell.json`` (the trials run's config,
    the trials scored), the first trial's last sample figure (``samples.png``) and each trial's ``files`` (into
    ``trial-KK/``, which a kept result's ``run_dir`` names). Small files committed beside a page, so a table can be
    finished over several sessions or machines without training a cell twice."""
    if scores is None:
        return
    folder = scores / run_dir.name
    folder.mkdir(parents=True, exist_ok=True)
    figure = last_figure(run_dir)
    if figure is not None:
        shutil.copy(figure, folder / "samples.png")
    for result in results:
        trial = f"trial-{result['trial']:02d}"
        if files:
            (folder / trial).mkdir(exist_ok=True)
        for name in files:
            shutil.copy(Path(result["run_dir"]) / name, folder / trial / name)
        write_result({k: v for k, v in result.items() if k != "run_dir"}, folder / f"{trial}.json")
    write_result({"config": cfg.to_dict(), "scored": [r["trial"] for r in results]}, folder / "cell.json")


def trials_and_score(
    name: str,
    overrides: dict[str, Any],
    run_dir: Path,
    n: int | None,
    log: Any,
    kid_subsets: int = 100,
    scores: Path | None = None,
    finish: Callable[[dict[str, Any]], None] | None = None,
    keep_files: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Train the trials run ``overrides`` asks for (``train.trials`` / ``train.seeds``) in ``run_dir`` and score each
    trial (RUN/trial-KK/eval.json); trials already scored with their config are reused, and so is a cell whose
    results ``scores`` keeps (:func:`kept_scores`). Otherwise ``finish`` completes each trial's result (a script's
    own measurements, written into its folder) and the cell is kept in ``scores`` with each trial's ``keep_files``
    (:func:`keep_scores`).

    A folder holding the same trials run at fewer steps is resumed to ``train.steps`` (each trial from its newest
    checkpoint), so a budget can be raised call by call; a folder of another config, or one trained past
    ``train.steps`` (a lowered budget), is trained again. Each result gets ``trial``, its seed and ``diverged_at``
    (None, or the step at which the trial diverged), ``trials_mode`` (how it trained: ``vectorised`` or
    ``sequential``, as ``RUN/trials.jsonl`` records it) and ``run_dir`` (its folder); a trial that diverged before its
    first checkpoint has nothing to score and is left out (logged), so a table's trial count says how many were
    scored.
    """
    from gankit.store.checkpoint import checkpoint_step, list_checkpoints
    from gankit.store.layout import RunPaths, ended_trials
    from gankit.store.resume import resume_config
    from gankit.trials.outcome import diverged_trials
    from gankit.trials.runner import train_trials

    cfg = get_recipe(name).override(overrides)
    kept = kept_scores(scores, run_dir, cfg, log)
    if kept is not None:
        return kept
    paths = RunPaths(run_dir)
    trials = range(len(cfg.train.trial_seeds))
    cached = [cached_result(paths.trial(k), cfg.trial(k), log) for k in trials]
    if any(r is None for r in cached):
        newest = [list_checkpoints(RunPaths(paths.trial(k)).checkpoints)[-1:] for k in trials]
        saved = resume_config(run_dir, {"train.steps": cfg.train.steps}) if paths.config.is_file() else None
        resumable = (
            saved is not None
            and all(checkpoint_step(c[0]) <= cfg.train.steps for c in newest if c)  # never past the budget
            and saved.to_dict() == cfg.to_dict()
        )
        if not resumable and run_dir.exists():
            shutil.rmtree(run_dir)  # an unfinished run of another config
        t0 = time.perf_counter()
        train_trials(saved if resumable else cfg, run_dir, resume=resumable, echo=False)
        log(f"{run_dir}: {len(trials)} trials trained to step {cfg.train.steps} in {time.perf_counter() - t0:.0f} s")
    ended, diverged = ended_trials(paths), diverged_trials(paths)
    results = []
    for k in trials:
        if cached[k] is None and not list_checkpoints(RunPaths(paths.trial(k)).checkpoints):
            log(f"{paths.trial(k)}: diverged at step {diverged.get(k)} before its first checkpoint: nothing to score")
            continue
        result = cached[k] or score_run(paths.trial(k), cfg.trial(k), n, kid_subsets)
        trial = {"trial": k, "seed": cfg.train.trial_seeds[k], "diverged_at": diverged.get(k)}
        results.append(result | trial | {"trials_mode": ended[k]["mode"], "run_dir": str(paths.trial(k))})
        if finish is not None:
            finish(results[-1])
    keep_scores(scores, run_dir, cfg, results, keep_files)
    return results


def cell_seconds(runs: list[dict[str, Any]]) -> float:
    """A cell's training time: the shared clock of trials trained together, the sum of trials trained in turn."""
    seconds = [r["training"]["seconds"] for r in runs]
    return max(seconds) if runs[0].get("trials_mode") == "vectorised" else sum(seconds)


def image_overrides(steps: int, seed: int, data_dir: str | None) -> dict[str, Any]:
    """A benchmark run's budget and seed, on the CPU, without progress bar; a checkpoint at the end only, sample
    grids at step 0 and at the end."""
    return {
        "train.steps": steps,
        "train.seed": seed,
        "data.dir": data_dir,
        "train.progress": False,
        "train.checkpoint_every": 0,
        "train.sample_at": (0,),
        "train.device": "cpu",
    }


def toy_overrides(data: str, steps: int, seed: int) -> dict[str, Any]:
    """The recipe's objective, regulariser, optimisers, batch and n_critic on a shared 2-D MLP.

    The MLP is the same for every recipe: no batch norm in G, no spectral norm in D. Spectral norm is the
    ``hinge`` recipe's choice for its DCGAN D on images; kept on this D it left D's mean logits on real and
    generated ring points 0.003 apart after 2,000 steps, far inside the hinge's margins of ±1, and G covered
    0 of 8 ring modes (with the non-saturating loss too; docs/results.md).
    """
    return image_overrides(steps, seed, None) | {
        "data.name": data,
        "model.arch": "mlp",
        "model.latent_dim": 2,
        "model.latent_dist": "normal",
        "model.g_width": 256,
        "model.d_width": 256,
        "model.mlp_layers": 3,
        "model.g_norm": "none",
        "model.spectral_norm": False,
        "model.init": "default",
    }


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a GPU's), so that a clock read after it counts that work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(step: Callable[[], object], steps: int, device: torch.device) -> float:
    """Seconds for ``steps`` calls of ``step`` on ``device``, its queued work included."""
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return time.perf_counter() - start


CPU = torch.device("cpu")


def in_turn(
    variants: dict[str, Callable[[], object]], rounds: int, calls: int, device: torch.device = CPU
) -> dict[str, list[float]]:
    """Seconds per call of each variant in each of ``rounds`` rounds of ``calls`` calls, the variants taking turns
    round by round (after one warm-up call each), so that load which comes and goes falls on all of them."""
    for fn in variants.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            times[name].append(timed(fn, calls, device) / calls)
    return times


def trial_configs(recipe: str, n: int, data_dir: str | None = None) -> list[Config]:
    """The configs of the N trials of ``recipe`` (trial k with its own seed), quiet; MNIST from ``data_dir``."""
    overrides: dict[str, Any] = {"train.progress": False, "train.tensorboard": False, "train.trials": n}
    if data_dir is not None and get_recipe(recipe).data.name in ("mnist", "fashion-mnist"):
        overrides["data.dir"] = data_dir
    cfg = get_recipe(recipe).override(overrides)
    return [cfg.trial(k) for k in range(n)]


def time_gankit(training: Training, steps: int) -> float:
    """Seconds for ``steps`` gankit training steps."""
    return timed(training.train_step, steps, training.device)


class _NoModuleTracking:
    """Stands in for FlopCounterMode's per-module tracker, whose backward hooks make ``autograd.grad`` on a leaf
    (the gradient penalty's) fail in torch 2.13; only the total is needed, which all counts go to."""

    parents = ("Global",)

    def __enter__(self) -> _NoModuleTracking:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def step_flops(training: Training) -> int:
    """FLOPs of one gankit training step (forward, backward and any double backward), counted by torch."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _NoModuleTracking()
    with counter:
        training.train_step()
    return counter.get_total_flops()


def gemm_sizes(device: torch.device) -> tuple[int, ...]:
    """Square GEMM sizes that reach the device's peak: larger on a GPU, whose matrix units a 4096² product
    does not keep busy for long enough."""
    return (4096, 8192) if device.type == "cuda" else (2048, 4096)


def gemm_peak(dtype: torch.dtype, device: torch.device, sizes: Sequence[int], repeats: int = 3) -> float:
    """This machine's GEMM speed in GFLOP/s: the best of ``repeats`` square n × n matmuls over ``sizes``
    (IEEE fp32 on CUDA: TF32 off, as gankit's fp32)."""
    best = 0.0
    torch.backends.cuda.matmul.allow_tf32 = False
    for n in sizes:
        a, b = torch.randn(n, n, device=device).to(dtype), torch.randn(n, n, device=device).to(dtype)
        a @ b  # warm-up
        for _ in range(repeats):
            seconds = timed(lambda a=a, b=b: a @ b, 1, device)
            best = max(best, 2 * n**3 / seconds / 1e9)
    return best
