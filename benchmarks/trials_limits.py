"""What bounds vectorised trials on a CPU: pacgan-2d's N trials played together against one after another.

Four measurements, each on pacgan-2d's shapes at N trials (default 10), every timing alternating its variants
round by round and reporting medians:

* **wait policy**: one game step of the N trials one after another and vectorised, with OpenMP's
  ``OMP_WAIT_POLICY`` unset, ``ACTIVE`` and ``PASSIVE``; OpenMP reads it when torch loads, so each policy runs in
  its own subprocess (the policies take turns, ``--policy-turns`` times);
* **products**: one batched product (``bmm``) against N separate ones (``mm``) on G's (200×400 · 400×400) and D's
  (100×200 · 200×1000) linear layers, in GFLOP/s, beside the AVX2 peak (2 FMA units × 8 fp32 lanes × 2 flops ×
  threads × the clock /proc/cpuinfo reports) and the best square product (n = 2048);
* **maxout**: D's maxout over N trials' linear outputs (N × 100 × 1000, 200 units × 5 pieces), forward and
  backward: the current ``max`` over the pieces, ``amax`` (the one-trial layer), the pieces laid out outermost,
  and a chain of ``maximum`` over them;
* **profile**: torch.profiler over ``--steps`` vectorised game steps, each operator's own time grouped into the
  batched products, maxout, the bias additions, batch norm and the rest, as shares of the step.

The machine (CPU model, the instruction set PyTorch's kernels use, threads) is printed first.

    python benchmarks/trials_limits.py
    python benchmarks/trials_limits.py --n 10 --rounds 5 --steps 3 --parts products maxout
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch
from torch.autograd.profiler_util import FunctionEvent

from gankit.device import describe_machine
from gankit.trials.vectorised import build_vectorised, sequential_steps

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import in_turn, log, trial_configs

PARTS = ("wait", "products", "maxout", "profile")
POLICIES = ("unset", "ACTIVE", "PASSIVE")
# (rows, in, out) of pacgan-2d's hidden linear layers: G 4×400 on 100 packs of 2 points, D's maxout 200×5 on 100 packs
PRODUCTS = {"G": (200, 400, 400), "D": (100, 200, 1000)}
MAXOUT = (100, 200, 5)  # D's rows, units, pieces
# an operator's group in the profile: the innermost of it and its callers that one of these names (its own time
# only, so nested calls count once); a broadcast addition inside a linear layer, or the sum its backward reduces
# the bias gradient with, is a bias's
GROUPS = {
    "products": ("aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm", "aten::addbmm"),
    "maxout": ("aten::max", "aten::amax", "aten::value_selecting_reduction_backward"),
    "batch norm": ("aten::native_batch_norm", "aten::native_batch_norm_backward", "aten::batch_norm"),
}
BIAS = {"aten::add": "aten::linear", "aten::sum": "AddBackward0"}


def step_times(n: int, steps: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per game step of N pacgan-2d trials, one after another and vectorised, per round (alternating)."""
    quiet = lambda _: None  # noqa: E731
    cfgs = trial_configs("pacgan-2d", n)
    together = build_vectorised(cfgs, quiet)
    return in_turn({"one after another": sequential_steps(cfgs, quiet), "vectorised": together.step}, rounds, steps)


def policy_times(policy: str, n: int, steps: int, rounds: int) -> dict[str, list[float]]:
    """:func:`step_times` in a fresh interpreter whose ``OMP_WAIT_POLICY`` is ``policy`` ("unset": none)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "unset":
        env["OMP_WAIT_POLICY"] = policy
    command = [sys.executable, __file__, "--child", "--n", str(n), "--steps", str(steps), "--rounds", str(rounds)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def wait_rows(n: int, steps: int, rounds: int, turns: int) -> list[list[str]]:
    """A row per wait policy: each mode's median and range of ms per game step, and their ratio's median."""
    times = {p: {"one after another": [], "vectorised": []} for p in POLICIES}
    for _ in range(turns):
        for policy in POLICIES:
            for mode, seconds in policy_times(policy, n, steps, rounds).items():
                times[policy][mode] += seconds
    rows = []
    for policy, t in times.items():
        seq, vec = t["one after another"], t["vectorised"]
        ratios = [a / b for a, b in zip(seq, vec, strict=True)]
        rows.append(
            [
                policy,
                cell([1e3 * s for s in seq], ".0f"),
                cell([1e3 * s for s in vec], ".0f"),
                cell(ratios, ".2f"),
                str(len(seq)),
            ]
        )
        log(" | ".join(rows[-1]))
    return rows


def avx2_peak() -> str:
    """GFLOP/s of 2 FMA units × 8 fp32 lanes × 2 flops per cycle on each of torch's threads at /proc/cpuinfo's clock,
    with how it was reckoned."""
    try:
        with open("/proc/cpuinfo") as f:
            ghz = next(float(line.split(":")[1]) for line in f if line.startswith("cpu MHz")) / 1e3
    except (OSError, StopIteration):
        return "unknown (no clock in /proc/cpuinfo)"
    threads = torch.get_num_threads()
    return f"{2 * 8 * 2 * threads * ghz:.0f} (2 FMA units × 8 lanes × 2 flops × {threads} threads × {ghz:.2f} GHz)"


def product_variants(x: torch.Tensor, w: torch.Tensor) -> dict[str, Callable[[], object]]:
    """The N trials' products x[k] · w[k]: one batched product, or N separate ones."""
    xs, ws = x.unbind(), w.unbind()
    return {
        "batched": lambda: torch.bmm(x, w),
        "separate": lambda: [torch.mm(a, b) for a, b in zip(xs, ws, strict=True)],
    }


def cell(values: list[float], fmt: str) -> str:
    """ "median (range)"."""
    return f"{format(statistics.median(values), fmt)} ({md.span(values, fmt)})"


def product_rows(n: int, rounds: int, repeats: int, shapes: dict[str, tuple[int, int, int]] = PRODUCTS) -> list:
    """A row per layer: GFLOP/s of one batched product of N trials and of N separate ones (median and range)."""
    rows = []
    for layer, (m, k, o) in shapes.items():
        times = in_turn(product_variants(torch.randn(n, m, k), torch.randn(n, k, o)), rounds, repeats)
        gflop = 2 * n * m * k * o / 1e9
        rows.append(
            [f"{layer}: {n} × {m}×{k} · {k}×{o}"] + [cell([gflop / s for s in t], ".0f") for t in times.values()]
        )
        log(" | ".join(rows[-1]))
    return rows


def square_gflops(size: int, rounds: int) -> float:
    """The best GFLOP/s of a square fp32 product of ``size``."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    times = in_turn({"square": lambda: a @ b}, rounds, 1)["square"]
    return 2 * size**3 / 1e9 / min(times)


def maxout_variants(n: int, rows: int, units: int, pieces: int) -> dict[str, Callable[[], object]]:
    """Forward and backward of D's maxout over N trials' linear outputs, four ways."""
    y = torch.randn(n, rows, units * pieces, requires_grad=True)
    grad = torch.randn(n, rows, units)

    def run(f: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], object]:
        return lambda: torch.autograd.grad(f(y), y, grad)

    def chain(t: torch.Tensor) -> torch.Tensor:
        parts = t.unflatten(-1, (pieces, units)).unbind(-2)
        out = parts[0]
        for p in parts[1:]:
            out = torch.maximum(out, p)
        return out

    return {
        "max (current)": run(lambda t: t.unflatten(-1, (units, pieces)).max(-1).values),
        "amax (one-trial layer)": run(lambda t: t.unflatten(-1, (units, pieces)).amax(-1)),
        "pieces outermost": run(lambda t: t.unflatten(-1, (pieces, units)).max(-2).values),
        "chain of maximum": run(chain),
    }


def maxout_rows(n: int, rounds: int, repeats: int, shape: tuple[int, int, int] = MAXOUT) -> list[list[str]]:
    """A row per maxout variant: ms forward and backward (median and range)."""
    times = in_turn(maxout_variants(n, *shape), rounds, repeats)
    rows = [[name, cell([1e3 * s for s in t], ".2f")] for name, t in times.items()]
    for r in rows:
        log(" | ".join(r))
    return rows


def group_of(event: FunctionEvent) -> str:
    """An operator event's profile group: see GROUPS and BIAS; else "other"."""
    chain = list(_callers(event))
    for k, e in enumerate(chain):
        group = next((group for group, names in GROUPS.items() if e.name in names), None)
        if group is not None:
            return group
        if e.name in BIAS and any(BIAS[e.name] in c.name for c in chain[k + 1 :]):
            return "bias"
    return "other"


def _callers(event: FunctionEvent | None) -> Iterator[FunctionEvent]:
    """The event, its caller, its caller's caller, …"""
    while event is not None:
        yield event
        event = event.cpu_parent


def profile_shares(step: Callable[[], object], steps: int) -> tuple[dict[str, float], float]:
    """ms per step of each group's operators (their own time) and of the whole step, over ``steps`` profiled
    steps after one unprofiled warm-up; "other" is the rest of the step (Python included)."""
    from torch.profiler import ProfilerActivity, profile

    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        total = (time.perf_counter() - start) / steps
    ms = dict.fromkeys([*GROUPS, "bias"], 0.0)
    for event in prof.events():
        group = group_of(event)
        if group != "other":
            ms[group] += event.self_cpu_time_total / 1e3 / steps
    ms["other"] = 1e3 * total - sum(ms.values())
    return ms, 1e3 * total


def profile_rows(n: int, steps: int) -> list[list[str]]:
    """A row per group of the vectorised step's profile: ms per step and share of the step."""
    together = build_vectorised(trial_configs("pacgan-2d", n), lambda _: None)
    ms, total = profile_shares(together.step, steps)
    rows = [[group, f"{t:.1f}", f"{100 * t / total:.0f}%"] for group, t in ms.items()]
    rows.append(["step (profiled)", f"{total:.1f}", "100%"])
    for r in rows:
        log(" | ".join(r))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10, help="trials (default 10)")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure (default: all)")
    p.add_argument("--steps", type=int, default=3, help="game steps per timed round and profiled (default 3)")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds of each variant (default 5)")
    p.add_argument("--policy-turns", type=int, default=3, help="subprocesses per wait policy, in turn (default 3)")
    p.add_argument("--repeats", type=int, default=20, help="calls per round of a product or maxout (default 20)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # one wait policy's step times, as JSON
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(step_times(args.n, args.steps, args.rounds)))
        return
    machine = describe_machine(torch.device("cpu"))
    log(f"machine: {machine}")
    command = f"python benchmarks/trials_limits.py --n {args.n} --steps {args.steps} --rounds {args.rounds}"
    command += f" --policy-turns {args.policy_turns} --repeats {args.repeats} --parts {' '.join(args.parts)}"
    lines = [f"Machine: {machine}. Made by `{command}`."]
    if "wait" in args.parts:
        rows = wait_rows(args.n, args.steps, args.rounds, args.policy_turns)
        lines += ["", f"pacgan-2d, N = {args.n}: ms per game step, median (range) of every round of every process"]
        lines += md.table(["OMP_WAIT_POLICY", "one after another", "vectorised", "ratio", "rounds"], "lrrrr", rows)
    if "products" in args.parts:
        rows = product_rows(args.n, args.rounds, args.repeats)
        peak, square = avx2_peak(), square_gflops(2048, args.rounds)
        lines += ["", f"GFLOP/s, median (range); AVX2 peak {peak}; best square product, n = 2048: {square:.0f}"]
        lines += md.table(["product", "one batched (bmm)", "N separate (mm)"], "lrr", rows)
    if "maxout" in args.parts:
        rows = maxout_rows(args.n, args.rounds, args.repeats)
        lines += ["", f"D's maxout over {args.n} trials ({MAXOUT[0]} rows, {MAXOUT[1]} units × {MAXOUT[2]} pieces)"]
        lines += md.table(["variant", "ms forward + backward, median (range)"], "lr", rows)
    if "profile" in args.parts:
        rows = profile_rows(args.n, args.steps)
        lines += ["", f"torch.profiler, {args.steps} vectorised game steps of pacgan-2d at N = {args.n}"]
        lines += md.table(["operators", "ms per step", "share"], "lrr", rows)
    md.publish("\n".join(lines), None, "trials-limits")


if __name__ == "__main__":
    main()
