"""Training speed of every recipe: a plain PyTorch loop, gankit in fp32 and gankit's fast defaults, same run.

For each recipe three loops train the *same* networks (same config, same initial weights) with the same
optimiser type and hyper-parameters, batch size, n_critic, losses and regularisers, on the same data held on
the device:

* **plain**: the loop a user writes from the PyTorch examples (:class:`PlainLoop`): index a random batch,
  ``G(z).detach()``, the loss written inline with ``torch.nn.functional``, ``zero_grad``/``backward``/``step``,
  ``p.data.clamp_`` for WGAN, the gradient penalty with ``autograd.grad``, Q's cross-entropy and Gaussian NLL for
  InfoGAN, D(x) again in G's step for the relativistic losses and feature matching, G(E(x)) for the mode-regularised
  GAN. It runs copies of the gankit networks (same architecture and initial weights) with stock PyTorch layers where
  gankit has faster ones of its own (DCGAN's first layer ``Project`` → ``nn.ConvTranspose2d``, the WGAN-GP critic's
  ``LayerNorm2d`` → ``nn.GroupNorm(1, C)``: same parameters, same function), and none of gankit's losses or step
  code; its optimisers are built as a user builds them (``torch.optim.Adam(params, lr=…, betas=…)``).
* **gankit fp32**: the recipe with ``train.precision=fp32`` and ``train.compile=off``.
* **gankit fast**: the recipe as it is (``precision`` and ``compile`` on ``auto``).

The three are timed alternately in one process (plain, fp32, fast, plain, …) and the median of the repeats is
reported, so all see the same machine state. The first ``--warmup`` steps of each loop are timed apart (compile
and allocator warm-up) and left out of the steady-state speed. Images/s counts the real images D consumes per
generator step (n_critic × batch) times generator steps/s. FLOPs per step are counted once per recipe on gankit's
fp32 step with ``torch.utils.flop_counter.FlopCounterMode`` (forward and backward, the gradient penalty's double
backward included) and used for all three columns (the work to do; the plain loop does a little more: D's weight
gradients in G's step). The fp32 and bf16 GEMM peaks of the machine are measured in the same run (best of a few
large square matmuls) and each column's GFLOP/s is given as a fraction of both; where bf16 is emulated (a CPU
without AMX or AVX-512 BF16) its peak is not measured.

    python benchmarks/train_step_speed.py                                   # embedded MNIST sample, CPU
    python benchmarks/train_step_speed.py --data-dir ../shared/data/mnist   # full MNIST
    python benchmarks/train_step_speed.py --recipes lsgan dcgan wgan-gp --out speed.md

Run time at the defaults (3 rounds of >= 1.5 s per column): about 17 s per recipe on the project's 2-core CPU, so
about 5 minutes for all 18 recipes (about 5 min on full MNIST, 2026-11-28), plus the fast column's compile time.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import math
import os
import re
import statistics
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit import get_recipe
from gankit.device import describe_machine, native_bf16
from gankit.nets.dcgan import Project
from gankit.nets.discriminator import QOutput
from gankit.nets.norms import LayerNorm2d
from gankit.recipes import RECIPES
from gankit.training.state import Training, build_training
from gankit.training.step import unwrap

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import gemm_peak, gemm_sizes, step_flops, time_gankit, timed

Loss = Callable[[Tensor, Tensor], Tensor]
# The recipes the plain loop can play: alternating ones (pacgan-2d is simultaneous, as its authors' code)
ALTERNATING = [name for name in RECIPES if get_recipe(name).train.scheme == "alternating"]


def _bce(logits: Tensor, target: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _mse(x: Tensor, target: float) -> Tensor:
    return F.mse_loss(x, torch.full_like(x, target))


# Each objective's losses as a user writes them inline: (d_loss(real, fake), g_loss(real, fake)) on D's logits.
# G's loss reads the real logits only for the relativistic objectives (PLAIN_G_READS_REAL).
PLAIN_LOSSES: dict[str, tuple[Loss, Loss]] = {
    "minimax": (lambda r, f: _bce(r, 1) + _bce(f, 0), lambda r, f: -_bce(f, 0)),
    "nonsaturating": (lambda r, f: _bce(r, 1) + _bce(f, 0), lambda r, f: _bce(f, 1)),
    "least-squares": (lambda r, f: 0.5 * _mse(r, 1) + 0.5 * _mse(f, 0), lambda r, f: 0.5 * _mse(f, 1)),
    "hinge": (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda r, f: -f.mean()),
    "wasserstein": (lambda r, f: f.mean() - r.mean(), lambda r, f: -f.mean()),
    "relativistic": (lambda r, f: _bce(r - f, 1), lambda r, f: _bce(f - r, 1)),
    "relativistic-average": (
        lambda r, f: _bce(r - f.mean(), 1) + _bce(f - r.mean(), 0),
        lambda r, f: _bce(f - r.mean(), 1) + _bce(r - f.mean(), 0),
    ),
    "relativistic-average-ls": (
        lambda r, f: _mse(r - f.mean(), 1) + _mse(f - r.mean(), -1),
        lambda r, f: _mse(f - r.mean(), 1) + _mse(r - f.mean(), -1),
    ),
}
PLAIN_G_READS_REAL = {"relativistic", "relativistic-average", "relativistic-average-ls"}
# Only the hyper-parameters are copied from gankit's optimisers; the implementation (foreach, fused, …) is torch's
# default, as in a plain script.
HYPER_PARAMETERS = ("lr", "betas", "eps", "weight_decay", "momentum", "alpha", "centered", "amsgrad", "dampening")


# gankit's faster versions of stock layers (subclasses with the same parameters and the same function), and the
# stock layer a plain script uses instead.
STOCK_LAYERS: dict[type[nn.Module], type[nn.Module]] = {Project: nn.ConvTranspose2d, LayerNorm2d: nn.GroupNorm}


def plain_copy(module: nn.Module | None) -> nn.Module | None:
    """A deep copy of a gankit network as a plain module: no compile/DDP wrapper, default memory format, and the
    stock PyTorch layer wherever gankit uses a faster equivalent of its own (``STOCK_LAYERS``)."""
    if module is None:
        return None
    plain = copy.deepcopy(unwrap(module)).to(memory_format=torch.contiguous_format)
    for layer in plain.modules():
        layer.__class__ = STOCK_LAYERS.get(type(layer), type(layer))  # same state: only the forward changes
    return plain


def plain_optimizer(like: torch.optim.Optimizer, params: Sequence[nn.Parameter]) -> torch.optim.Optimizer:
    """The optimiser a user writes: the type and hyper-parameters of ``like``, torch's default implementation."""
    return type(like)(params, **{k: v for k, v in like.defaults.items() if k in HYPER_PARAMETERS})


Noise = tuple[Tensor, Tensor | None, Tensor | None, Tensor | None]  # G's input, category, codes, class


class PlainLoop:
    """A plain PyTorch training loop for a recipe, over deep copies of a :class:`Training`'s networks.

    ``d_step`` and ``g_step`` are the two updates written out inline; ``step`` plays one game step (n_critic D steps
    on fresh batches, then g_steps G steps) and returns the last D step's and the last G step's loss values, named
    as gankit's stats (``d_loss``, ``gp``, ``g_loss``). It plays the alternating recipes (``ALTERNATING``).
    ``batch`` and ``noise`` draw the inputs (the tests replace ``batch`` to feed gankit's batches).
    """

    def __init__(self, training: Training):
        cfg = training.cfg
        if cfg.train.scheme != "alternating":
            raise ValueError(f"the plain loop is alternating; {cfg.recipe} uses train.scheme={cfg.train.scheme}")
        self.cfg, self.loss, self.device = cfg, cfg.loss, training.device
        self.space = training.space
        self.x, self.y = training.data.x, training.data.y if training.space.num_classes else None
        self.G, self.D = plain_copy(training.gan.generator), plain_copy(training.gan.discriminator)
        self.E = plain_copy(training.gan.encoder)  # mdgan's encoder, trained with G
        g_params = list(self.G.parameters()) + (list(self.E.parameters()) if self.E is not None else [])
        self.opt_g = plain_optimizer(training.gan.g_optimizer, g_params)
        self.opt_d = plain_optimizer(training.gan.d_optimizer, list(self.D.parameters()))
        self.d_loss_fn, self.g_loss_fn = PLAIN_LOSSES[cfg.loss.objective]
        # G's step judges a real batch for a relativistic loss and feature matching, and encodes one for mdgan
        self.g_judges_real = cfg.loss.objective in PLAIN_G_READS_REAL or cfg.loss.feature_matching > 0
        self.last_noise: Noise | None = None  # the last D step's, for G's steps with train.g_noise=shared

    def batch(self) -> tuple[Tensor, Tensor | None]:
        """A random real batch in [-1, 1], with its labels for a conditional model."""
        idx = torch.randint(0, len(self.x), (self.cfg.train.batch_size,), device=self.device)
        x = self.x[idx].float() / 127.5 - 1 if self.x.dtype == torch.uint8 else self.x[idx]
        return x, None if self.y is None else self.y[idx]

    def noise(self) -> Noise:
        """G's input z (noise, then InfoGAN's one-hot category and continuous codes), the codes, and a class y."""
        B, s, dev = self.cfg.train.batch_size, self.space, self.device
        if s.dist == "uniform":
            z = torch.rand(B, s.noise_dim, device=dev) * 2 - 1
        else:
            z = torch.randn(B, s.noise_dim, device=dev)
        c = torch.randint(s.categorical, (B,), device=dev) if s.categorical else None
        u = torch.rand(B, s.continuous, device=dev) * 2 - 1 if s.continuous else None
        y = torch.randint(s.num_classes, (B,), device=dev) if s.num_classes else None
        parts = [z] + ([F.one_hot(c, s.categorical).float()] if c is not None else []) + ([u] if u is not None else [])
        return torch.cat(parts, dim=1), c, u, y

    def info_loss(self, q: QOutput, c: Tensor | None, u: Tensor | None) -> Tensor | float:
        """InfoGAN's −λ·L_I up to a constant: Q's cross-entropy on the category, Gaussian NLL on the codes."""
        loss = 0.0
        if c is not None:
            loss = loss + self.loss.info_weight * F.cross_entropy(q.logits, c)
        if u is not None:
            nll = 0.5 * (q.log_var + (u - q.mean) ** 2 * torch.exp(-q.log_var))
            loss = loss + self.loss.info_continuous_weight * nll.sum(dim=1).mean()
        return loss

    def d_step(self) -> dict[str, Tensor]:
        G, D, w = self.G, self.D, self.loss
        real, y_real = self.batch()
        z, c, u, y = self.last_noise = self.noise()
        fake = (G(z) if y is None else G(z, y)).detach()
        d_real = D(real, y_real)
        out_fake = D(fake, y, q=True, full=True)  # logits, features and Q's output (None without a Q head)
        d_loss = self.d_loss_fn(d_real, out_fake.logits)
        stats = {"d_loss": d_loss.detach()}
        loss = d_loss
        if w.gp_weight > 0:
            eps = torch.rand(real.shape[0], *[1] * (real.dim() - 1), device=real.device)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x_hat, y_real).sum(), x_hat, create_graph=True)
            gp = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
            loss = loss + w.gp_weight * gp
            stats["gp"] = gp.detach()
        if out_fake.q is not None:
            loss = loss + self.info_loss(out_fake.q, c, u)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        if w.clip_value is not None:
            for p in D.parameters():
                p.data.clamp_(-w.clip_value, w.clip_value)
        return stats

    def g_step(
        self, noise: tuple[Tensor, Tensor | None, Tensor | None, Tensor | None] | None = None
    ) -> dict[str, Tensor]:
        G, D, w = self.G, self.D, self.loss
        z, c, u, y = noise if noise is not None else self.noise()
        out_fake = D(G(z) if y is None else G(z, y), y, q=True, full=True)
        real, y_real = self.batch() if self.g_judges_real or self.E is not None else (None, None)
        d_real = D(real, y_real, full=True) if self.g_judges_real else None
        g_loss = self.g_loss_fn(d_real.logits if d_real is not None else None, out_fake.logits)
        loss = w.g_adversarial * g_loss
        if w.feature_matching > 0:
            fm = (d_real.features.detach().mean(0) - out_fake.features.mean(0)).pow(2).sum()
            loss = loss + w.feature_matching * fm
        if out_fake.q is not None:
            loss = loss + self.info_loss(out_fake.q, c, u)
        if self.E is not None:  # mode-regularised GAN: x ≈ G(E(x)), and D should take G(E(x)) for real
            rebuilt = G(self.E(real)) if y_real is None else G(self.E(real), y_real)
            mode = self.g_loss_fn(d_real.logits if d_real is not None else None, D(rebuilt, y_real))
            loss = loss + w.reconstruction_weight * F.mse_loss(rebuilt, real) + w.mode_weight * mode
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        return {"g_loss": g_loss.detach()}

    def step(self) -> dict[str, Tensor]:
        stats: dict[str, Tensor] = {}
        t = self.cfg.train
        for _ in range(t.n_critic):
            stats = self.d_step()
        for _ in range(t.g_steps):  # on the last D step's noise with train.g_noise=shared (pacgan-veegan)
            g_stats = self.g_step(self.last_noise if t.g_noise == "shared" else None)
        return stats | g_stats


# PyTorch's own TF32 settings, read before any gankit engine turns TF32 off (on CUDA, torch's defaults let cuDNN's
# fp32 convolutions use TF32): the plain loop runs under them, as a script written from the examples does.
TORCH_TF32 = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)


def time_plain(loop: PlainLoop, steps: int) -> float:
    """Seconds for ``steps`` steps of the plain loop, under PyTorch's default TF32 settings."""
    engine = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = TORCH_TF32
    try:
        return timed(loop.step, steps, loop.device)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = engine


def gemm_peaks(device: torch.device, sizes: Sequence[int]) -> tuple[float, float | None, str]:
    """The fp32 and bf16 GEMM peaks, and how to print the bf16 one. Where bf16 is emulated (no AMX or AVX-512 BF16
    on a CPU) its peak is not measured (None): a 4096² bf16 product takes tens of seconds there, and the benchmark
    seemed to hang."""
    peak_fp32, (native, what) = gemm_peak(torch.float32, device, sizes), native_bf16(device)
    if not native:
        return peak_fp32, None, f"not measured ({what}: emulated)"
    peak_bf16 = gemm_peak(torch.bfloat16, device, sizes)
    return peak_fp32, peak_bf16, f"{peak_bf16:,.0f} GFLOP/s"


def machine(device: torch.device) -> str:
    """What the table was measured on (:func:`gankit.device.describe_machine`: CPU model and ISA, threads, torch),
    with the cores and the device timed."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{describe_machine(device)}, {cores} cores, device {device}"


def section_name(device: torch.device) -> str:
    """docs/benchmarks.md's marked section for this machine's table (``--docs``): one per device kind and ISA, so
    the tables of different machines stand side by side."""
    kind = torch.cuda.get_device_name(device) if device.type == "cuda" else torch.backends.cpu.get_cpu_capability()
    return "train-speed-" + re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")


@dataclass
class Row:
    """One recipe's measurements; times are seconds per generator step (median), warm-up in seconds.
    A column that failed to build or step is in ``failed`` with the error, not in ``per_step``."""

    name: str
    arch: str
    batch: int
    n_critic: int
    flops: int
    per_step: dict[str, float]
    warmup_s: dict[str, float]
    failed: dict[str, str] = field(default_factory=dict)
    graph_skips: int = 0  # CUDA-graph captures torch.compile skipped (reasons in the log: perf_hints)

    @property
    def images(self) -> int:
        return self.batch * self.n_critic


# The loops a run can time (--columns): "plain" is the hand-written loop, the others gankit with these settings.
# "fast" is the recipe as it is (precision and compile on auto); "-graphs" compiles G and D with inductor and
# CUDA graphs (reduce-overhead), "-cudagraphs" replays the eager kernels from CUDA graphs (no code generation).
VARIANTS: dict[str, dict[str, str]] = {
    "fp32": {"train.precision": "fp32", "train.compile": "off"},
    "fast": {},
    "bf16": {"train.precision": "bf16", "train.compile": "off"},
    "fp16": {"train.precision": "fp16", "train.compile": "off"},
    "fp32-graphs": {"train.precision": "fp32", "train.compile": "reduce-overhead"},
    "bf16-graphs": {"train.precision": "bf16", "train.compile": "reduce-overhead"},
    "fp32-cudagraphs": {"train.precision": "fp32", "train.compile": "cudagraphs"},
    "bf16-cudagraphs": {"train.precision": "bf16", "train.compile": "cudagraphs"},
}
COLUMNS = ("plain", "fp32", "fast")  # the default; the plain loop is always first (the ratios' baseline)


def _failure(recipe: str, column: str, error: Exception) -> str:
    """The error's first line for the table's notes; its traceback goes to stderr."""
    print(f"{recipe} / {column} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _graph_skips() -> int:
    return torch._dynamo.utils.counters["inductor"]["cudagraph_skips"]


def measure(name: str, args: argparse.Namespace) -> Row:
    """Build the loops for a recipe, warm them up, count its FLOPs and time them alternately."""
    base = {"data.dir": args.data_dir, "train.device": args.device, "train.progress": False}
    if args.batch_size is not None:
        base["train.batch_size"] = args.batch_size
    cfg = get_recipe(name).override(base)
    fp32 = build_training(cfg.override(VARIANTS["fp32"]), log=lambda _: None)
    plain = PlainLoop(fp32)  # copies fp32's networks before any step
    run: dict[str, Callable[[int], float]] = {"plain": lambda n: time_plain(plain, n)}
    failed: dict[str, str] = {}
    skips = _graph_skips()
    for col in args.columns[1:]:
        try:
            training = fp32 if col == "fp32" else build_training(cfg.override(VARIANTS[col]), log=lambda _: None)
        except Exception as e:  # a variant this device cannot run (e.g. fp16 on a CPU): reported, not fatal
            failed[col] = _failure(name, col, e)
            continue
        run[col] = lambda n, t=training: time_gankit(t, n)
    warmup = {}
    for col in list(run):  # first steps: compile, CUDA-graph capture, allocator, caches
        try:
            warmup[col] = run[col](args.warmup)
        except Exception as e:
            failed[col] = _failure(name, col, e)
            del run[col]
    flops = step_flops(fp32)
    steps = {col: max(1, math.ceil(args.min_time / (run[col](1)))) for col in run}
    times: dict[str, list[float]] = {col: [] for col in run}
    for _ in range(args.repeats):
        for col in run:
            times[col].append(run[col](steps[col]) / steps[col])
    per_step = {col: statistics.median(times[col]) for col in run}
    warmup_s = {col: max(0.0, warmup[col] - args.warmup * per_step[col]) for col in run}
    return Row(
        name,
        cfg.model.arch,
        cfg.train.batch_size,
        cfg.train.n_critic,
        flops,
        per_step,
        warmup_s,
        failed,
        _graph_skips() - skips if fp32.device.type == "cuda" else 0,  # on a CPU there are no CUDA graphs to skip
    )


def speed_table(rows: Sequence[Row], columns: Sequence[str] = COLUMNS) -> list[str]:
    others, names = columns[1:], " · ".join(columns)
    header = ["recipe", "nets", "batch × n_critic", "plain img/s", *(f"gankit {c} img/s" for c in others)]
    header += [*(f"{c} / plain" for c in others), f"G steps/s {names}", f"warm-up s {names}"]
    table = []
    for r in rows:
        speed = {c: 1 / r.per_step[c] if c in r.per_step else None for c in columns}
        img = [f"{r.images * speed[c]:,.0f}" if speed[c] is not None else "failed" for c in columns]
        ratio = [f"{speed[c] / speed['plain']:.2f}" if speed[c] is not None else "–" for c in others]
        speeds, warmups = md.joined(speed.values(), ".2f"), md.joined([r.warmup_s.get(c) for c in columns], ".1f")
        table.append([r.name, r.arch, f"{r.batch} × {r.n_critic}", *img, *ratio, speeds, warmups])
    return md.table(header, "llrr" + "r" * (2 * len(others) + 2), table)


def flops_table(
    rows: Sequence[Row], peak_fp32: float, peak_bf16: float | None, columns: Sequence[str] = COLUMNS
) -> list[str]:
    """GFLOP/s of each column and its share of the GEMM peaks (``peak_bf16`` None: not measured, shares "–")."""
    header = ["recipe", "GFLOP per G step", f"GFLOP/s {' · '.join(columns)}", "% of fp32 peak", "% of bf16 peak"]
    table = []
    for r in rows:
        rate = [r.flops / 1e9 / r.per_step[c] if c in r.per_step else None for c in columns]
        shares = [[None if g is None or not peak else 100 * g / peak for g in rate] for peak in (peak_fp32, peak_bf16)]
        table.append([r.name, f"{r.flops / 1e9:.2f}", *(md.joined(v, ".1f") for v in (rate, *shares))])
    return md.table(header, "lrrrr", table)


def notes(rows: Sequence[Row]) -> list[str]:
    """What failed, and CUDA-graph captures that torch.compile skipped."""
    lines = [f"# {r.name}: {col} failed: {why}" for r in rows for col, why in r.failed.items()]
    lines += [f"# {r.name}: torch.compile skipped {r.graph_skips} CUDA-graph captures" for r in rows if r.graph_skips]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", nargs="*", default=ALTERNATING, choices=ALTERNATING, metavar="RECIPE")
    parser.add_argument("--data-dir", default=None, help="MNIST IDX folder (default: the embedded sample)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds; the median is reported")
    parser.add_argument("--min-time", type=float, default=1.5, help="seconds each timing lasts at least")
    parser.add_argument("--warmup", type=int, default=3, help="first steps of each loop, timed apart")
    parser.add_argument("--out", default=None, help="also write the tables to this markdown file")
    parser.add_argument(
        "--docs",
        default=None,
        metavar="PAGE",
        help="also put the tables into PAGE's marked section for this machine's ISA or GPU (e.g. docs/benchmarks.md; "
        "other machines' sections are kept)",
    )
    parser.add_argument("--batch-size", type=int, default=None, help="train.batch_size (default: the recipe's)")
    parser.add_argument(
        "--gemm-sizes",
        nargs="+",
        type=int,
        default=None,
        metavar="N",
        help="square GEMM sizes of the peak measurement (default 2048 4096 on a CPU, 4096 8192 on a GPU)",
    )
    parser.add_argument(
        "--columns",
        nargs="+",
        default=list(COLUMNS),
        choices=["plain", *VARIANTS],
        metavar="COLUMN",
        help=f"loops to time, plain first (default: {' '.join(COLUMNS)}; also {', '.join(VARIANTS)})",
    )
    parser.add_argument(
        "--torch-config",
        nargs="*",
        default=[],
        metavar="MODULE.KEY=VALUE",
        help="torch.compile settings for the compiled columns: inductor.KEY or dynamo.KEY (torch._inductor.config, "
        "torch._dynamo.config), e.g. dynamo.automatic_dynamic_shapes=False",
    )
    args = parser.parse_args(argv)
    for setting in args.torch_config:
        name, _, value = setting.partition("=")
        module, _, key = name.partition(".")
        configs = {"inductor": "torch._inductor.config", "dynamo": "torch._dynamo.config"}
        if module not in configs or not key:
            parser.error(f"--torch-config {setting}: write inductor.KEY=VALUE or dynamo.KEY=VALUE")
        setattr(importlib.import_module(configs[module]), key, ast.literal_eval(value))
    if args.columns[0] != "plain" or len(set(args.columns)) != len(args.columns):
        parser.error("--columns: start with plain (the baseline of the ratios) and name each column once")
    device = torch.device(args.device)
    if device.type == "cuda":  # why a CUDA-graph capture was skipped, if one is
        torch._logging.set_logs(perf_hints=True)

    settings = f"; torch.compile settings {' '.join(args.torch_config)}" if args.torch_config else ""
    header = [
        f"# gankit training speed: {machine(device)}",
        f"# each timing >= {args.min_time} s after {args.warmup} warm-up steps; median of {args.repeats} "
        f"alternating rounds ({', '.join(args.columns)}){settings}; img/s = real images D consumes per G step "
        "(batch × n_critic) "
        "× G steps/s; warm-up s = first steps' time beyond the steady state (compile, caches)",
    ]
    print("\n".join(header) + "\n", flush=True)
    print("\n".join(speed_table([], args.columns)), flush=True)
    rows = []
    for name in args.recipes:
        rows.append(measure(name, args))
        print(speed_table(rows[-1:], args.columns)[-1], flush=True)
        for line in notes(rows[-1:]):
            print(line, flush=True)
    sizes = args.gemm_sizes or gemm_sizes(device)
    peak_fp32, peak_bf16, bf16_note = gemm_peaks(device, sizes)
    peaks = (
        f"# GEMM peak measured now (best square matmul, n = {', '.join(map(str, sizes))}): "
        f"fp32 {peak_fp32:,.0f} GFLOP/s, "
        f"bf16 {bf16_note}; FLOPs of gankit's fp32 step (FlopCounterMode), the same for all columns"
    )
    text = [*header, "", *speed_table(rows, args.columns), *notes(rows), "", peaks, ""]
    text += flops_table(rows, peak_fp32, peak_bf16, args.columns)
    print("\n" + "\n".join(text[-len(rows) - 4 :]), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(text) + "\n")
    if args.docs:
        command = "python benchmarks/train_step_speed.py " + " ".join(sys.argv[1:] if argv is None else argv)
        body = [f"#### `benchmarks/train_step_speed.py` on {machine(device)}", "", *md.code_block(command), ""]
        body += [*md.code_block("\n".join(header), "text"), "", *speed_table(rows, args.columns), ""]
        body += [*md.code_block("\n".join([*notes(rows), peaks]), "text"), ""]
        body += flops_table(rows, peak_fp32, peak_bf16, args.columns)
        md.write_section(Path(args.docs), section_name(device), "\n".join(body))


if __name__ == "__main__":
    main()
