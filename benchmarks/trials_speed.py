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

    python benchmarks/trials_speed.py                                    # the issue's cases, embedded MNIST sample
    python benchmarks/trials_speed.py --data-dir ../shared/data/mnist --doc docs/benchmarks.md
    python benchmarks/trials_speed.py --cases pacgan-2d=1,10 lsgan=2 --steps 3 --rounds 1
    python benchmarks/trials_speed.py --cases pacgan-2d=10 --compiled-cases pacgan-2d=10
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from gankit.device import describe_machine, resolve_device
from gankit.recipes import get_recipe
from gankit.trials.mode import MARGIN, together_refusal
from gankit.trials.vectorised import build_vectorised, sequential_steps

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md
from benchmarks.common import in_turn, log, trial_configs

CASES = {"pacgan-2d": (1, 10, 50), "lsgan": (1, 2, 4, 8), "dcgan": (1, 2, 4, 8), "wgan-gp": (1, 2, 4, 8)}


def seconds_per_step(cfgs: list, steps: int, rounds: int, compiled: bool = False) -> tuple[float, float]:
    """Median seconds per game step of all the trials: (one after another, vectorised), both ``compiled`` or eager."""
    quiet = lambda _: None  # noqa: E731
    one_by_one = [cfg.override({"train.compile": "on"}) for cfg in cfgs] if compiled else cfgs
    together = build_vectorised(cfgs, quiet, compiled)
    modes = {"one after another": sequential_steps(one_by_one, quiet), "vectorised": together.step}
    a, b = in_turn(modes, rounds, steps, together.device).values()
    return statistics.median(a), statistics.median(b)


def measure(
    cases: dict[str, Sequence[int]], steps: int, rounds: int, data_dir: str | None, compiled: bool = False
) -> list[list[str]]:
    rows = []
    for recipe, ns in cases.items():
        label = f"{recipe} (compiled)" if compiled else recipe
        reason = together_refusal(get_recipe(recipe))
        if reason is not None:
            rows.append([label, "", "", "", "", f"not vectorised: {reason}"])
            continue
        for n in ns:
            sequential, vectorised = seconds_per_step(trial_configs(recipe, n, data_dir), steps, rounds, compiled)
            ratio = sequential / vectorised
            auto = ratio if vectorised <= MARGIN * sequential and not compiled else 1.0
            chosen = "vectorised" if auto != 1.0 else "one after another"
            rows.append(
                [
                    label,
                    str(n),
                    f"{n / sequential:.1f}",
                    f"{n / vectorised:.1f}",
                    f"{ratio:.2f}×",
                    f"{auto:.2f}× ({chosen})",
                ]
            )
            log(" | ".join(rows[-1]))
    return rows


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
        help="RECIPE=N,N,… (default: " + " ".join(f"{r}={','.join(map(str, n))}" for r, n in CASES.items()) + ")",
    )
    p.add_argument("--compiled-cases", nargs="+", default=[], help="RECIPE=N,N,… also timed with both modes compiled")
    p.add_argument("--steps", type=int, default=5, help="game steps per timed round (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds of each mode (default 3)")
    p.add_argument("--data-dir", help="MNIST folder (default: the embedded sample)")
    p.add_argument("--doc", help="write the table into this Markdown file's trials-speed section")
    args = p.parse_args(argv)
    cases = parse_cases(args.cases) if args.cases else dict(CASES)
    machine = describe_machine(resolve_device("auto"))
    log(f"machine: {machine}")
    rows = measure(cases, args.steps, args.rounds, args.data_dir)
    rows += measure(parse_cases(args.compiled_cases), args.steps, args.rounds, args.data_dir, compiled=True)
    header = [
        "recipe",
        "N",
        "one after another (trials/s)",
        "vectorised (trials/s)",
        "vectorised ÷ one after another",
        "auto",
    ]
    lines = [
        "## Many trials: vectorised against one after another",
        "",
        f"Machine: {machine}. Trials/s = N ÷ seconds per game step of all N (median of {args.rounds} rounds of "
        f"{args.steps} steps, the two modes alternating). Made by `python benchmarks/trials_speed.py"
        + (f" --cases {' '.join(args.cases)}" if args.cases else "")
        + (f" --compiled-cases {' '.join(args.compiled_cases)}" if args.compiled_cases else "")
        + f" --steps {args.steps} --rounds {args.rounds}"
        + (" --data-dir DIR" if args.data_dir else "")
        + "`.",
        "",
        *md.table(header, "lrrrrl", rows),
    ]
    md.publish("\n".join(lines), args.doc, "trials-speed")


if __name__ == "__main__":
    main()
