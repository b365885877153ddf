"""Trials per second: N trials of a recipe as one vectorised model against the same N trials one after another.

For each recipe and N, two loops step the *same* N trials (one config, seeds 0 … N−1, built afresh for each):

* **one after another**: each trial's ``train_step()`` in turn — what N one-at-a-time runs do per game step;
* **vectorised**: :class:`gankit.trials.vectorised.VectorisedTrials`, one game step of all N at once.

The two are timed alternately (one after another, vectorised, one after another, …; ``--rounds`` rounds of
``--steps`` game steps after one warm-up step each) and the median is reported, so both see the same machine
state. Trials/s = N / (seconds per game step of all N). ``auto`` is what ``train.trials_mode=auto`` picks from
these timings (vectorised where it takes at most ``gankit.trials.mode.MARGIN`` of the time) and its speed-up.
A recipe that cannot be vectorised is listed with the reason. The machine (CPU model, the instruction set
PyTorch's kernels use, threads) is printed with the table: speed-ups differ between CPUs.

``--compiled-cases`` adds rows "RECIPE (compiled)" for both modes compiled: one after another with
``train.compile=on`` (G and D compiled), vectorised with the vmapped losses compiled
(``VectorisedTrials(compiled=True)``). Runs refuse compiled vectorised trials (it was slower here), so ``auto``
there is one after another.

On a GPU (issue 22, item 7; ``benchmarks/gpu_checks.sh`` runs it): ``--device cuda`` times N = 1 … 64 trials of
pacgan-2d by default; ``--fp32`` trains every mode in fp32 eager (``train.precision=fp32``, ``train.compile=off``:
vectorised trials are fp32 eager, so the modes then do the same arithmetic); ``--graphed`` adds the third mode,
``train.trials_mode=graphed`` (:class:`gankit.trials.graphed.GraphedTrials`: the vectorised step captured in a CUDA
graph and replayed; its warm-up steps and the capture come before the timing), or the reason it cannot run here;
``--peak`` adds each mode's share of the device's fp32 peak: the FLOPs of one trial's game step (counted by
``torch.utils.flop_counter.FlopCounterMode`` on a one-trial run's ``train_step``) × N ÷ seconds per game step,
against the best of a few large fp32 matrix products measured in the same run (TF32 off, as gankit's fp32).

    python benchmarks/trials_speed.py                                    # the issue's cases, embedded MNIST sample
    python benchmarks/trials_speed.py --data-dir ../shared/data/mnist --doc docs/benchmarks.md
    python benchmarks/trials_speed.py --cases pacgan-2d=1,10 lsgan=2 --steps 3 --rounds 1
    python benchmarks/trials_speed.py --cases pacgan-2d=10 --compiled-cases pacgan-2d=10
    python benchmarks/trials_speed.py --device cuda --fp32 --graphed --peak   # pacgan-2d, N = 1 … 64, on a GPU
"""

from __future__ import annotations

import argparse
import statistics
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from gankit.config import Config
from gankit.device import cpu_model, describe_machine, resolve_device
from gankit.training.state import build_training
from gankit.trials.graphed import WARMUP_STEPS, build_graphed, graphed_refusal
from gankit.trials.mode import MARGIN, together_refusal
from gankit.trials.vectorised import build_vectorised, sequential_steps

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import gemm_peak, gemm_sizes, in_turn, log, step_flops, trial_configs

CASES = {"pacgan-2d": (1, 10, 50), "lsgan": (1, 2, 4, 8), "dcgan": (1, 2, 4, 8), "wgan-gp": (1, 2, 4, 8)}
GPU_CASES = {"pacgan-2d": (1, 2, 4, 8, 16, 32, 64)}  # issue 22, item 7: N = 1 … 64 on a GPU
FP32 = {"train.precision": "fp32", "train.compile": "off"}  # --fp32: every mode as vectorised trials compute
MODES = ("one after another", "vectorised", "graphed")
quiet = lambda _: None  # noqa: E731


@dataclass(frozen=True)
class Setup:
    """How the cases are run: the device, every mode in fp32 eager, the graphed mode, the FLOP count."""

    device: str = "auto"
    fp32: bool = False
    graphed: bool = False
    peak: bool = False

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes timed: one after another, vectorised, and graphed with ``graphed``."""
        return MODES if self.graphed else MODES[:2]

    def configs(self, recipe: str, n: int, data_dir: str | None) -> list[Config]:
        extra = {"train.device": self.device} | (FP32 if self.fp32 else {})
        return [cfg.override(extra) for cfg in trial_configs(recipe, n, data_dir)]


def _failure(what: str, error: Exception) -> str:
    """The error's first line for the table's notes; its traceback goes to stderr."""
    print(f"{what} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def graphed_step(cfgs: list[Config]) -> Callable[[], object]:
    """The step of the trials replayed from a CUDA graph, after its eager warm-up steps, the capture and one replay
    (so that a capture that fails, fails here, not in the timing)."""
    trials = build_graphed(cfgs, quiet)
    for _ in range(WARMUP_STEPS + 1):
        trials.step()
    return trials.step


def seconds_per_step(
    cfgs: list, steps: int, rounds: int, compiled: bool = False, graphed: bool = False
) -> tuple[dict[str, float], str | None]:
    """Median seconds per game step of all the trials in each mode (one after another, vectorised, and with
    ``graphed`` replayed from a CUDA graph), both first two ``compiled`` or eager; and why the graphed mode is missing
    (None: it was timed, or not asked for)."""
    one_by_one = [cfg.override({"train.compile": "on"}) for cfg in cfgs] if compiled else cfgs
    together = build_vectorised(cfgs, quiet, compiled)
    modes = {"one after another": sequential_steps(one_by_one, quiet), "vectorised": together.step}
    missing = graphed_refusal(cfgs[0]) if graphed else None
    if graphed and missing is None:
        try:
            modes["graphed"] = graphed_step(cfgs)
        except Exception as e:  # unmeasured until a GPU is lent: reported in the table, not fatal
            missing = _failure(f"graphed, N = {len(cfgs)}", e)
    times = in_turn(modes, rounds, steps, together.device)
    return {mode: statistics.median(t) for mode, t in times.items()}, missing


def trial_flops(cfg: Config) -> int:
    """FLOPs of one trial's game step: a one-trial run's ``train_step``, counted by torch."""
    return step_flops(build_training(cfg, quiet))


def measure(
    cases: dict[str, Sequence[int]],
    steps: int,
    rounds: int,
    data_dir: str | None,
    compiled: bool = False,
    setup: Setup = Setup(),
    peak: float | None = None,
) -> tuple[list[list[str]], list[str]]:
    """The table's rows for ``cases`` and its notes (why a mode is missing). ``peak``: the device's fp32 GFLOP/s,
    for each mode's share of it (``setup.peak``)."""
    rows, notes = [], []
    modes = setup.modes
    for recipe, ns in cases.items():
        label = f"{recipe} (compiled)" if compiled else recipe
        first = setup.configs(recipe, 1, data_dir)[0]
        reason = together_refusal(first)
        if reason is not None:
            cells = header(setup)
            rows.append([label, *("" for _ in cells[1:])])
            rows[-1][cells.index("auto")] = f"not vectorised: {reason}"
            continue
        flops = trial_flops(first) if setup.peak else None
        for n in ns:
            seconds, missing = seconds_per_step(
                setup.configs(recipe, n, data_dir), steps, rounds, compiled, setup.graphed
            )
            if missing is not None:
                notes.append(f"{label}, N = {n}: graphed not timed: {missing}")
            sequential, vectorised = seconds["one after another"], seconds["vectorised"]
            auto = sequential / vectorised if vectorised <= MARGIN * sequential and not compiled else 1.0
            chosen = "vectorised" if auto != 1.0 else "one after another"
            per_s = [f"{n / seconds[m]:.1f}" if m in seconds else "–" for m in modes]
            ratios = [f"{sequential / seconds[m]:.2f}×" if m in seconds else "–" for m in modes[1:]]
            row = [label, str(n), *per_s, *ratios, f"{auto:.2f}× ({chosen})"]
            if setup.peak:
                rate = [n * flops / seconds[m] / 1e9 if m in seconds else None for m in modes]
                row += [f"{flops / 1e9:.3f}", md.joined([None if r is None else 100 * r / peak for r in rate], ".2f")]
            rows.append(row)
            log(" | ".join(rows[-1]))
    return rows, notes


def alignment(cells: Sequence[str]) -> str:
    """Each column's alignment: words left (the recipe, auto's choice, the peak shares), numbers right."""
    return "".join("l" if c in ("recipe", "auto") or c.startswith("% of") else "r" for c in cells)


def header(setup: Setup) -> list[str]:
    """The table's columns: the modes' trials/s, their ratios to one after another, auto, the peak's share."""
    modes = setup.modes
    cells = ["recipe", "N", *(f"{m} (trials/s)" for m in modes), *(f"{m} ÷ one after another" for m in modes[1:])]
    cells.append("auto")
    if setup.peak:
        cells += ["GFLOP per trial step", f"% of fp32 peak ({' · '.join(modes)})"]
    return cells


def parse_cases(items: Sequence[str]) -> dict[str, tuple[int, ...]]:
    cases = {}
    for item in items:
        recipe, _, ns = item.partition("=")
        cases[recipe] = tuple(int(n) for n in ns.split(",")) if ns else CASES.get(recipe, (1, 2, 4))
    return cases


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--cases",
        nargs="+",
        help="RECIPE=N,N,… (default: "
        + " ".join(f"{r}={','.join(map(str, n))}" for r, n in CASES.items())
        + "; on a GPU "
        + " ".join(f"{r}={','.join(map(str, n))}" for r, n in GPU_CASES.items())
        + ")",
    )
    p.add_argument("--device", default="auto", help="train.device of every trial (default auto)")
    p.add_argument("--fp32", action="store_true", help="every mode in fp32 eager (train.precision=fp32, compile off)")
    p.add_argument("--graphed", action="store_true", help="also time train.trials_mode=graphed (CUDA graphs)")
    p.add_argument("--peak", action="store_true", help="each mode's share of the device's fp32 GEMM peak")
    p.add_argument(
        "--gemm-sizes", type=int, nargs="+", help="square GEMM sizes of the peak (default 4096 8192 on a GPU)"
    )
    p.add_argument("--compiled-cases", nargs="+", default=[], help="RECIPE=N,N,… also timed with both modes compiled")
    p.add_argument("--steps", type=int, default=5, help="game steps per timed round (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds of each mode (default 3)")
    p.add_argument("--data-dir", help="MNIST folder (default: the embedded sample)")
    p.add_argument("--doc", help="write the table into this Markdown file's trials-speed section")
    p.add_argument(
        "--section",
        help="the marked section to write (default trials-speed, on a GPU trials-speed-cuda): another machine's "
        "table goes beside the first instead of over it",
    )
    args = p.parse_args(argv)
    device = resolve_device(args.device)
    setup = Setup(args.device, args.fp32, args.graphed, args.peak)
    cases = parse_cases(args.cases) if args.cases else dict(GPU_CASES if device.type == "cuda" else CASES)
    machine = describe_machine(device)
    log(f"machine: {machine}")
    peak = None
    if args.peak:
        sizes = args.gemm_sizes or gemm_sizes(device)
        peak = gemm_peak(torch.float32, device, sizes)
        log(f"fp32 GEMM peak (best square matmul, n = {', '.join(map(str, sizes))}; TF32 off): {peak:,.0f} GFLOP/s")
    rows, notes = measure(cases, args.steps, args.rounds, args.data_dir, setup=setup, peak=peak)
    more = measure(parse_cases(args.compiled_cases), args.steps, args.rounds, args.data_dir, True, setup, peak)
    rows, notes = rows + more[0], notes + more[1]
    cells = header(setup)
    flags = [
        f" --cases {' '.join(args.cases)}" if args.cases else "",
        f" --compiled-cases {' '.join(args.compiled_cases)}" if args.compiled_cases else "",
        f" --device {args.device}" if args.device != "auto" else "",
        " --fp32" if args.fp32 else "",
        " --graphed" if args.graphed else "",
        " --peak" if args.peak else "",
        f" --steps {args.steps} --rounds {args.rounds}",
        " --data-dir DIR" if args.data_dir else "",
    ]
    lines = [
        "## Many trials: vectorised against one after another"
        + (" (GPU)" if device.type == "cuda" else f" ({cpu_model()}, {torch.backends.cpu.get_cpu_capability()})"),
        "",
        f"Machine: {machine}. Trials/s = N ÷ seconds per game step of all N (median of {args.rounds} rounds of "
        f"{args.steps} steps, the modes alternating). Made by `python benchmarks/trials_speed.py{''.join(flags)}`."
        + (f" fp32 GEMM peak measured in the same run: {peak:,.0f} GFLOP/s (TF32 off)." if peak else ""),
        "",
        *md.table(cells, alignment(cells), rows),
        *([""] + [f"- {note}" for note in notes] if notes else []),
    ]
    section = args.section or ("trials-speed" if device.type != "cuda" else "trials-speed-cuda")
    md.publish("\n".join(lines), args.doc, section)


if __name__ == "__main__":
    main()
