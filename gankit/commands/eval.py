"""``gankit eval``: score a trained run (FID, KID, precision/recall, modes) or, with --real, the data itself."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gankit.commands import options
from gankit.commands.names import (
    EVAL_PRECISIONS,
    EXTRACTORS,
    FEATURE_CACHE_ENV,
    KID_SUBSET_SIZE,
    KID_SUBSETS,
    METRICS,
    METRICS_HELP,
    SAMPLE_COUNTS,
)
from gankit.errors import ConfigError

MAX_BLUR = 100.0  # gankit eval --blur: σ in pixels
MAX_EVAL_SAMPLES = 200_000  # gankit eval -n: scored at once, in memory (protocols use 10,000 to 50,000)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    e = sub.add_parser(
        "eval",
        help="score a trained run (FID, KID, precision/recall, modes) or, with --real, the data itself",
        description="Score samples against the reference split; the result (with its protocol) is written as JSON. "
        "By default every metric that applies is computed, except those only on request; --metrics NAME,… computes "
        "those only (each must apply).",
        epilog="metrics (--metrics NAME,…):\n" + METRICS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.run_argument(e, nargs="?", help="the run directory (result: RUN/eval.json)")
    e.add_argument("--real", action="store_true", help="score real images of --data (--split) instead of a run")
    e.add_argument("--data", default="mnist", help="with --real: the data set (default mnist)")
    e.add_argument("--data-dir", help="folder with the IDX files (default: the run's data.dir)")
    e.add_argument("--split", default="train", choices=["train", "test"], help="with --real: the split scored")
    e.add_argument("--reference", default="test", choices=["train", "test"], help="the reference split (default test)")
    e.add_argument("-n", type=options.ranged(1, MAX_EVAL_SAMPLES), help=f"samples scored (default: {SAMPLE_COUNTS})")
    e.add_argument("--features", choices=EXTRACTORS, help="feature extractor")
    e.add_argument("--weights", help="weights file for --features (required for inception)")
    e.add_argument("--blur", type=options.finite, help="with --real: blur the images by a Gaussian of this σ (pixels)")
    e.add_argument(
        "--only-class",
        type=options.ranged(0, options.MAX_CLASSES - 1),
        help="with --real: score only the images of this class",
    )
    e.add_argument("--seed", type=options.seed, default=0, help="seed of z and of the KID subsets")
    e.add_argument(
        "--kid-subsets",
        type=options.ranged(1, 10_000),
        default=KID_SUBSETS,
        help=f"KID subsets of {KID_SUBSET_SIZE:,} (default {KID_SUBSETS}, the paper's)",
    )
    e.add_argument(
        "--metrics",
        metavar="NAME[,NAME…]",
        help=f"compute only these (default: every one that applies, unless only on request): {', '.join(METRICS)}",
    )
    e.add_argument(
        "--precision",
        choices=EVAL_PRECISIONS,
        help="arithmetic of generation and feature extraction (default: bf16 for the mnist classifier on CPUs "
        "with native bfloat16, checked against fp32; fp32 otherwise)",
    )
    e.add_argument(
        "--no-cache",
        action="store_true",
        help=f"compute the reference features afresh and write no cache (default: cached in ${FEATURE_CACHE_ENV}, "
        "else ~/.cache/gankit/features)",
    )
    options.weights_options(e)
    e.add_argument(
        "--out",
        help="the result: FILE.json, or a folder DIR/ that receives it under its default name (eval-RUN.json, "
        "eval-real-DATA-SPLIT[-blurS][-classK]….json); default RUN/eval.json; --real needs --out",
    )
    e.add_argument("--force", action="store_true", help="replace an existing --out file")
    e.set_defaults(func=cmd_eval)
    return e


def cmd_eval(args: argparse.Namespace) -> None:
    from gankit.metrics.catalog import parse_metrics
    from gankit.metrics.evaluate import evaluate_real, evaluate_run, write_result
    from gankit.metrics.protocol import Protocol

    if args.blur is not None and not 0 < args.blur <= MAX_BLUR:
        raise ConfigError(f"--blur is a Gaussian's σ in pixels, in (0, {MAX_BLUR:g}]; got {args.blur}")
    out = result_path(args)
    protocol = Protocol(
        n_fake=args.n,
        reference_split=args.reference,
        data_dir=args.data_dir,
        features=args.features,
        weights=args.weights,
        seed=args.seed,
        kid_subsets=args.kid_subsets,
        metrics=parse_metrics(args.metrics) if args.metrics is not None else None,
        precision=args.precision,
    )
    cache = {"cache": not args.no_cache, "log": print}
    if args.real:
        result = evaluate_real(args.data, protocol, split=args.split, blur=args.blur, only=args.only_class, **cache)
    else:
        if _all_trials(args):
            _evaluate_trials(args, protocol, cache, out)
            return
        run = options.trial_run(args)
        result = evaluate_run(run, protocol, checkpoint=args.checkpoint, use_ema=not args.no_ema, **cache)
    write_result(result, out)
    print(format_metrics(result["metrics"]))
    print(f"wrote {out}")


def result_path(args: argparse.Namespace) -> Path:
    """Where the result goes, checked before any work: ``--out`` (a file, or a folder that receives the default
    name), else ``RUN/eval.json``; an existing file given by ``--out`` only with ``--force``."""
    from gankit.store.outputs import check_output_file

    if args.real:
        if args.run:
            raise ConfigError("--real scores a data set against itself; give no RUN with it")
        if args.out is None:
            raise ConfigError(f"--real: say where the result goes: --out FILE.json, or --out DIR/ (DIR/{_name(args)})")
    else:
        if not args.run:
            raise ConfigError("give the run to score (gankit eval RUN), or --real to score the data itself")
        if args.blur is not None or args.only_class is not None:
            raise ConfigError("--blur and --only-class change a real set; use them with --real")
        if args.out is None:
            from gankit.store.layout import read_config

            read_config(args.run)  # first, the error that RUN is no run
            run = options.trial_run(args) if args.trial is not None else args.run
            return check_output_file(Path(run) / "eval.json")
    out = Path(args.out)
    if args.out.endswith(("/", os.sep)) or os.path.isdir(out):
        out = out / _name(args)
    check_output_file(out, replace=args.force)
    if out.suffix.lower() != ".json":
        raise ConfigError(f"--out {args.out}: the result is JSON: give FILE.json, or a folder (DIR/{_name(args)})")
    return out


def _name(args: argparse.Namespace) -> str:
    """The default file name of a result: what was scored, and each option that changes the numbers."""
    from gankit.commands.train import run_name

    if args.real:
        parts = ["eval-real", args.data, args.split]
        parts += [f"blur{args.blur:g}"] if args.blur is not None else []
        parts += [f"class{args.only_class}"] if args.only_class is not None else []
    else:
        run = Path(os.path.abspath(args.run))
        parts = ["eval", run.name] + ([f"trial-{args.trial:02d}"] if args.trial is not None else [])
    parts += [f"vs-{args.reference}"] if args.reference != "test" else []
    parts += [args.features] if args.features is not None else []
    return run_name("-".join(parts), limit=200) + ".json"


def _all_trials(args: argparse.Namespace) -> bool:
    """Whether ``gankit eval RUN`` scores every trial: RUN is a trials run and no --trial was given."""
    from gankit.store.layout import read_config

    if args.trial is not None or not read_config(args.run).has_trials:
        return False
    if args.checkpoint is not None:
        raise ConfigError("--checkpoint names one run's checkpoint: with a trials run give --trial K too")
    return True


def _evaluate_trials(args: argparse.Namespace, protocol: Any, cache: dict[str, Any], out: Path) -> None:
    from gankit.metrics.evaluate import write_result
    from gankit.metrics.spread import format_spread
    from gankit.trials.evaluate import evaluate_trials

    result = evaluate_trials(args.run, protocol, use_ema=not args.no_ema, **cache)
    write_result(result, out)
    for row in result["trials"]:
        if "metrics" not in row:
            print(f"trial {row['trial']} (seed {row['seed']}): {row['status']}")
            continue
        line = format_metrics(row["metrics"]).replace("\n", "; ")
        print(f"trial {row['trial']} (seed {row['seed']}, step {row['step']}, {row['status']}): {line}")
    print("over the trials (mean ± standard error):")
    for name, s in result["spread"].items():
        print(f"  {name}: {format_spread(s)}")
    print(f"wrote {out} (each trial's result: RUN/trial-KK/eval.json)")


# Printed names of result fields whose JSON key is not the name the README and docs give the quantity.
PRINTED_NAMES = {"reverse_kl": "KL(p‖uniform)"}


def format_metrics(metrics: dict[str, Any]) -> str:
    """One line per metric; histograms shortened to their summary."""
    lines = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            summary = {PRINTED_NAMES.get(k, k): v for k, v in value.items() if k != "counts"}
            lines.append(f"{key}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in summary.items()))
        else:
            lines.append(f"{key}: {_fmt(value)}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(_fmt, value)) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
