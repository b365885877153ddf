"""The ``gankit`` command: train, sample, grid, eval, recipes, demo, report, serve."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from gankit.config import Config, convert, load_config_file
from gankit.errors import ConfigError, DistributedError, GankitError
from gankit.metrics.catalog import describe as describe_metrics
from gankit.metrics.catalog import metrics
from gankit.metrics.extractors import EXTRACTORS
from gankit.metrics.feature_cache import ENV_DIR
from gankit.metrics.precision import PRECISIONS
from gankit.metrics.protocol import KID_SUBSET_SIZE, KID_SUBSETS, describe_sample_counts
from gankit.recipes import RECIPES, get_recipe
from gankit.store.outputs import check_output_file, check_output_folder
from gankit.training.choices import check_choices

if TYPE_CHECKING:
    from gankit.viz.latent import LatentLayout

DEFAULT_RECIPE = "lsgan"
MAX_CLASSES = 1_000_000  # class indices of --class, --rows, --only-class lie below this
MAX_SCALE = 64  # gankit grid --scale
MAX_PICTURE_SIDE = 16_384  # pixels of the longer side of a picture gankit grid writes
MAX_BLUR = 100.0  # gankit eval --blur: σ in pixels
MAX_EVAL_SAMPLES = 200_000  # gankit eval -n: scored at once, in memory (protocols use 10,000 to 50,000)
SEED_RANGE = (0, 2**63 - 1)

# Shortcut flags of `gankit train`, each the same as --set FIELD=VALUE.
SHORTCUTS = {
    "data": "data.name",
    "data_dir": "data.dir",
    "steps": "train.steps",
    "time_budget": "train.time_budget",
    "batch_size": "train.batch_size",
    "device": "train.device",
    "seed": "train.seed",
}


def _parse_assignments(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes FIELD=VALUE (e.g. --set g_optim.lr=1e-4), got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        field: getattr(args, flag) for flag, field in SHORTCUTS.items() if getattr(args, flag) is not None
    }
    if args.download:
        overrides["data.download"] = True
    if args.no_progress:
        overrides["train.progress"] = False
    overrides.update(_parse_assignments(args.set))
    return overrides


def build_config(recipe: str | None, config_file: str | None, overrides: dict[str, Any]) -> Config:
    """Recipe defaults, then the config file's fields, then the command line's overrides."""
    file_fields = load_config_file(config_file) if config_file else {}
    name = recipe or convert(file_fields.get("recipe") or DEFAULT_RECIPE, str, "recipe")
    cfg = get_recipe(name)
    if file_fields:
        cfg = Config.from_dict(_merge(cfg.to_dict(), file_fields) | {"recipe": name})
    cfg = check_choices(cfg.override(overrides))
    if cfg.recipe != "custom":
        RECIPES.check(cfg.recipe, "value for recipe:")
    return cfg


def run_name(text: str, limit: int = 64) -> str:
    """``text`` made safe as one folder name: letters, digits, ``.``, ``_`` and ``-`` only, no leading dot."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:limit].lstrip(".-")
    return name or "run"


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def cmd_train(args: argparse.Namespace) -> None:
    from gankit.store.resume import resume_config
    from gankit.training.distributed import launched_by_torchrun
    from gankit.training.trainer import train

    overrides = _overrides(args)
    restart = restarted_run(args, overrides)
    if args.resume:
        if args.recipe or args.config or args.run_dir:
            raise ConfigError(
                "--resume continues a run with its saved config; do not combine it with --recipe, --config or --run-dir"
            )
        cfg, run_dir = resume_config(args.resume, overrides), args.resume
    elif restart is not None:
        cfg, run_dir = restart, args.run_dir
    else:
        if launched_by_torchrun() and not args.run_dir:
            raise ConfigError(
                "under torchrun give --run-dir (or --resume): every rank, and every restart, must use the same folder"
            )
        cfg = build_config(args.recipe, args.config, overrides)
        run_dir = args.run_dir or str(Path("runs") / f"{run_name(cfg.recipe)}-{time.strftime('%Y%m%d-%H%M%S')}")
        check_output_folder(run_dir, "--run-dir")
    if args.dry_run:
        dry_run(cfg, run_dir, resume=bool(args.resume))
        return
    train(cfg, run_dir, resume=bool(args.resume), restart=restart is not None)


def restarted_run(args: argparse.Namespace, overrides: dict[str, Any]) -> Config | None:
    """The saved config of ``--run-dir`` when torchrun restarted this job's workers (``--max-restarts``) after the
    run had started, with the command line's resumable fields; None otherwise (a first start)."""
    from gankit.store.layout import RunPaths
    from gankit.store.resume import RESUMABLE_FIELDS, resume_config
    from gankit.training.distributed import restart_count

    if args.resume or not args.run_dir or not restart_count() or not RunPaths(Path(args.run_dir)).config.is_file():
        return None
    return resume_config(args.run_dir, {k: v for k, v in overrides.items() if k in RESUMABLE_FIELDS})


def dry_run(cfg: Config, run_dir: str, resume: bool = False) -> None:
    """Check a run as ``train`` would before building it (folder, data, memory); print it; write nothing."""
    from gankit.training.dryrun import check_training

    report = check_training(cfg, run_dir, resume)
    print(cfg.to_json())
    print(report)


def cmd_sample(args: argparse.Namespace) -> None:
    from gankit.sample import write_samples

    if args.n < 1:
        raise ConfigError(f"-n must be at least 1, got {args.n}")
    if Path(args.out).suffix == ".npz":
        check_output_file(args.out)
    else:
        check_output_folder(args.out)
    classes = parse_classes(args.classes) if args.classes is not None else None
    trained = _load_generator(args)
    if classes is not None and not trained.space.num_classes:
        hint = (
            f"; its categorical code is shown by `gankit grid {args.run} --by category`"
            if trained.space.categorical
            else ""
        )
        raise ConfigError(f"--class: {args.run} (recipe {trained.config.recipe}) is not class-conditional{hint}")
    files = write_samples(trained, args.n, args.out, seed=args.seed, labels=classes)
    weights = "EMA" if (trained.config.train.ema is not None and not args.no_ema) else "raw"
    of_classes = f" of class {', '.join(map(str, classes))}" if classes else ""
    print(
        f"wrote {args.n} samples{of_classes} from {trained.checkpoint} ({weights} G weights, step {trained.step}): "
        f"{files[0]}" + (f" … {files[-1]}" if len(files) > 1 else "")
    )


def parse_classes(text: str, flag: str = "--class") -> list[int]:
    """``3`` or ``0,2,4`` → the class indices (checked against the run where they are used)."""
    try:
        indices = [int(part) for part in text.split(",")]
    except ValueError:
        indices = []
    if not indices or any(abs(k) >= MAX_CLASSES for k in indices):
        raise ConfigError(f"{flag} takes indices separated by commas, e.g. {flag} 3,7; got {text[:40]!r}")
    return indices


def cmd_grid(args: argparse.Namespace) -> None:
    from gankit.images import save_png
    from gankit.viz.grids import figure_grid
    from gankit.viz.latent import latent_layout

    out = Path(args.out or Path(args.run) / f"grid-{args.by}.png")
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out must be a .png file, got {str(out)!r}")
    if not 1 <= args.scale <= MAX_SCALE:
        raise ConfigError(f"--scale must lie in 1..{MAX_SCALE}, got {args.scale}")
    check_output_file(out)
    rows = grid_rows(args.run, args.rows)
    trained = _load_generator(args)
    layout = latent_layout(trained)
    picture = figure_grid(trained, layout, args.by, args.columns, args.seed, rows)
    if max(picture.shape[:2]) * args.scale > MAX_PICTURE_SIDE:
        raise ConfigError(
            f"--scale {args.scale} makes the picture {max(picture.shape[:2]) * args.scale:,} pixels wide; "
            f"the most is {MAX_PICTURE_SIDE:,}: lower --scale (or --columns)"
        )
    save_png(picture, out, scale=args.scale)
    print(f"wrote {out}: {describe_grid(layout, args.by, args.columns, args.seed, rows)} (step {trained.step})")


def grid_rows(run: str, text: str | None) -> list[int] | None:
    """``--rows``: indices, or "matched": InfoGAN categories in the order of the digits that ``gankit eval``
    matched them to (RUN/eval.json), so that row d shows digit d."""
    if text != "matched":
        return None if text is None else parse_classes(text, "--rows")
    from gankit.store.jsonfiles import read_json

    path = Path(run) / "eval.json"
    try:
        matching = read_json(path)["metrics"]["categorical_code_accuracy"]["matching"]
    except (GankitError, KeyError, TypeError):
        matching = None
    if not isinstance(matching, list) or not all(d is None or type(d) is int for d in matching):
        raise ConfigError(f"--rows matched reads the matching in {path}: run `gankit eval {run}` first")
    return [c for _, c in sorted((d, c) for c, d in enumerate(matching) if d is not None)]


def describe_grid(layout: LatentLayout, by: str, columns: int, seed: int, rows: list[int] | None) -> str:
    """What the picture of ``gankit grid`` shows, in words."""
    kind = "classes" if by == "class" else "categories"
    count = len(layout.classes) if by == "class" else layout.categories
    shown = ", ".join(map(str, rows)) if rows is not None else f"0..{count - 1}"
    if by in ("class", "category"):
        return f"rows = {kind} {shown}, columns = {columns} z (seed {seed}), the same z in every row"
    code = next(c for c in layout.continuous if c.name == by)
    sweep = f"{by} from {code.low:g} to {code.high:g} in {columns} steps"
    return f"rows = {kind} {shown}, columns = {sweep}, z (seed {seed}) and the other codes fixed"


def _viz_module(name: str):
    """Import a ``gankit.viz`` module that needs the ``viz`` extra, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(f"gankit.viz.{name}")
    except ModuleNotFoundError as e:
        raise GankitError(f"this command needs {e.name}: pip install 'gankit[viz]'") from None


def cmd_report(args: argparse.Namespace) -> None:
    if args.out is not None:
        check_output_file(args.out)
    out = _viz_module("report").write_report(args.run, args.out)
    print(f"wrote {out} (one self-contained HTML file; open it in a browser)")


def cmd_serve(args: argparse.Namespace) -> None:
    from gankit.viz.latent import latent_layout

    explorer = _viz_module("explorer")
    trained = _load_generator(args)
    layout = latent_layout(trained)
    reference = None
    if layout.output == "points":
        from gankit.data import load_data

        reference = load_data(trained.config.data, log=lambda _: None).x[:2000]
    app = explorer.create_app(trained, layout, reference, title=Path(args.run).resolve().name)
    try:
        server = explorer.make_explorer_server(app, args.host, args.port)
    except OSError as e:
        raise GankitError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}; try another --port") from None
    if not explorer.is_loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach this machine can use the explorer")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"gankit explorer: http://{host}:{server.port}/ (step {trained.step}; Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("gankit explorer: stopped")
    finally:
        server.server_close()


def cmd_eval(args: argparse.Namespace) -> None:
    from gankit.metrics.catalog import parse_metrics
    from gankit.metrics.evaluate import evaluate_real, evaluate_run, write_result
    from gankit.metrics.protocol import Protocol

    if args.out is not None:
        check_output_file(args.out)
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
    if args.blur is not None and not 0 < args.blur <= MAX_BLUR:
        raise ConfigError(f"--blur is a Gaussian's σ in pixels, in (0, {MAX_BLUR:g}]; got {args.blur}")
    if args.real:
        if args.run:
            raise ConfigError("--real scores a data set against itself; give no RUN with it")
        result = evaluate_real(args.data, protocol, split=args.split, blur=args.blur, only=args.only_class, **cache)
        out = Path(args.out or f"eval-real-{args.data}-{args.split}.json")
    else:
        if not args.run:
            raise ConfigError("give the run to score (gankit eval RUN), or --real to score the data itself")
        if args.blur is not None or args.only_class is not None:
            raise ConfigError("--blur and --only-class change a real set; use them with --real")
        result = evaluate_run(args.run, protocol, checkpoint=args.checkpoint, use_ema=not args.no_ema, **cache)
        out = Path(args.out or Path(args.run) / "eval.json")
    write_result(result, out)
    print(format_metrics(result["metrics"]))
    print(f"wrote {out}")


def format_metrics(metrics: dict[str, Any]) -> str:
    """One line per metric; histograms shortened to their summary."""
    lines = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            summary = {k: v for k, v in value.items() if k != "counts"}
            lines.append(f"{key}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in summary.items()))
        else:
            lines.append(f"{key}: {_fmt(value)}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(_fmt, value)) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def cmd_recipes(args: argparse.Namespace) -> None:
    if args.name:
        print(get_recipe(args.name).to_json())
        return
    width = max(map(len, RECIPES))
    for r in RECIPES.values():
        print(f"{r.name:<{width}}  {r.summary}  [{r.reference}]")
    print("\nShow one with `gankit recipes NAME`; train it with `gankit train --recipe NAME`.")


def cmd_demo(args: argparse.Namespace) -> None:
    from gankit.theory.demos import DEMOS, run_demo

    if args.name is None:
        width = max(map(len, DEMOS))
        for name, demo in DEMOS.items():
            print(f"{name:<{width}}  {demo.summary}")
        return
    options = {key: getattr(args, key) for key in ("eta", "steps", "scheme") if getattr(args, key) is not None}
    results = run_demo(args.name, args.out, **options)
    print(json.dumps(results, indent=2))


def _generator_options(parser: argparse.ArgumentParser) -> None:
    """Which G a command loads: --checkpoint, --no-ema, --device (see ``_load_generator``)."""
    parser.add_argument("--checkpoint", help="a checkpoint folder of the run (default: the latest)")
    parser.add_argument("--no-ema", action="store_true", help="use G's raw weights even if the run kept an EMA")
    parser.add_argument("--device", default="cpu")


def _load_generator(args: argparse.Namespace):
    from gankit.trained import load_generator

    return load_generator(args.run, args.checkpoint, use_ema=not args.no_ema, device=args.device)


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one ``gankit: error:`` line pointing at ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"gankit: error: {message} — see `{self.prog} --help`\n")


def _integer(text: str) -> int:
    """An integer written as 1000, 1_000 or 1e3."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return int(value)


def _ranged(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``low``..``high``."""

    def parse(text: str) -> int:
        value = _integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must lie in {low}..{high}, got {text}")
        return value

    parse.__name__ = "integer"
    return parse


def _finite(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


_seed = _ranged(*SEED_RANGE)


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="gankit", description="Classic GANs in PyTorch.")
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of an unexpected error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser(
        "train",
        help="train a recipe (default: lsgan on MNIST)",
        description="Train a GAN. Fields are set, in order, by the recipe, --config, the shortcut flags and --set.",
    )
    t.add_argument("--recipe", help=f"one of: {', '.join(RECIPES)} (default {DEFAULT_RECIPE})")
    t.add_argument("--config", help="a .json or .toml file of fields (as printed by `gankit recipes NAME`)")
    t.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override any field, e.g. --set g_optim.lr=1e-4 (repeatable)",
    )
    t.add_argument("--run-dir", help="where the run is written (default runs/RECIPE-TIME)")
    t.add_argument("--resume", metavar="RUN", help="continue the run in RUN from its latest checkpoint")
    t.add_argument(
        "--data",
        help="data set name (data.name): mnist, fashion-mnist, kmnist, emnist-*, stacked-mnist, "
        "stacked-mnist-128k, ring8, grid25, folder",
    )
    t.add_argument("--data-dir", help="folder with the IDX files or images (data.dir)")
    t.add_argument("--download", action="store_true", help="download missing data files (data.download)")
    t.add_argument("--steps", type=int, help="game steps: generator steps with train.g_steps=1 (train.steps)")
    t.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="train for this many seconds instead of --steps, then write the final checkpoint and grid",
    )
    t.add_argument("--batch-size", type=int, help="train.batch_size")
    t.add_argument("--device", help="auto, cpu, cuda, cuda:N, mps (train.device)")
    t.add_argument("--seed", type=int, help="train.seed")
    t.add_argument("--no-progress", action="store_true", help="no progress bar; print log lines instead")
    t.add_argument(
        "--dry-run",
        action="store_true",
        help="check the config, the run folder, the data and the memory estimate, print the config; write nothing",
    )
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="generate images from a trained run")
    s.add_argument("run", help="the run directory")
    s.add_argument("-n", type=_integer, default=64, help="number of samples (default 64; written in batches)")
    s.add_argument("--out", required=True, help="FILE.npz (uint8 array + grid PNG) or a folder (PNGs + grid)")
    s.add_argument("--seed", type=_seed, default=0)
    s.add_argument(
        "--class",
        dest="classes",
        metavar="K[,K…]",
        help="class-conditional runs: only these classes, in turn (default: every class in turn)",
    )
    _generator_options(s)
    s.set_defaults(func=cmd_sample)

    g = sub.add_parser(
        "grid",
        help="figures of a conditional run: one row per class or InfoGAN category",
        description="CGAN: rows = classes, columns = fixed z. InfoGAN: rows = categories (c1), columns = fixed z "
        "(--by category) or a continuous code swept over [-2, 2] with z fixed (--by c2, c3: Chen et al. 2016, Fig. 2).",
    )
    g.add_argument("run", help="the run directory")
    g.add_argument("--by", required=True, help="class (CGAN); category, c2, c3, … (InfoGAN)")
    g.add_argument("--out", help="the PNG file (default RUN/grid-BY.png)")
    g.add_argument("--columns", type=int, default=10, help="z's per row, or steps of the code sweep (default 10)")
    g.add_argument(
        "--rows",
        metavar="K[,K…]|matched",
        help="the classes / categories shown, in this order (default all); matched: InfoGAN categories in the "
        "order of the digits `gankit eval` matched them to",
    )
    g.add_argument("--seed", type=_seed, default=0, help="seed of z")
    g.add_argument("--scale", type=_integer, default=1, help="enlarge the picture this many times (default 1)")
    _generator_options(g)
    g.set_defaults(func=cmd_grid)

    from gankit.theory.demos import DEMOS
    from gankit.training.schemes import SCHEMES

    d = sub.add_parser("demo", help=f"runnable GAN theory: {', '.join(DEMOS)}")
    d.add_argument("name", nargs="?", choices=DEMOS.choices)
    d.add_argument("--out", default="demos", help="folder for the figure and NAME.json (default demos/)")
    d.add_argument("--eta", type=_finite, help="bilinear: the step size η")
    d.add_argument("--steps", type=_integer, help="bilinear, optimal-d, mode-collapse: number of steps")
    d.add_argument(
        "--scheme",
        choices=SCHEMES.choices,
        help="mode-collapse: the update scheme",
    )
    d.set_defaults(func=cmd_demo)

    rp = sub.add_parser("report", help="write a run's report: one self-contained HTML page")
    rp.add_argument("run", help="the run directory")
    rp.add_argument("--out", help="the HTML file to write (default RUN/report.html)")
    rp.set_defaults(func=cmd_report)

    sv = sub.add_parser("serve", help="explore a trained run's latent space in the browser")
    sv.add_argument("run", help="the run directory")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=_ranged(0, 65535), default=8000, help="port (default 8000; 0 picks a free one)")
    _generator_options(sv)
    sv.set_defaults(func=cmd_serve)

    e = sub.add_parser(
        "eval",
        help="score a trained run (FID, KID, precision/recall, modes) or, with --real, the data itself",
        description="Score samples against the reference split; the result (with its protocol) is written as JSON. "
        "By default every metric that applies is computed, except those only on request; --metrics NAME,… computes "
        "those only (each must apply).",
        epilog="metrics (--metrics NAME,…):\n" + describe_metrics(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("run", nargs="?", help="the run directory (result: RUN/eval.json)")
    e.add_argument("--real", action="store_true", help="score real images of --data (--split) instead of a run")
    e.add_argument("--data", default="mnist", help="with --real: the data set (default mnist)")
    e.add_argument("--data-dir", help="folder with the IDX files (default: the run's data.dir)")
    e.add_argument("--split", default="train", choices=["train", "test"], help="with --real: the split scored")
    e.add_argument("--reference", default="test", choices=["train", "test"], help="the reference split (default test)")
    e.add_argument(
        "-n", type=_ranged(1, MAX_EVAL_SAMPLES), help=f"samples scored (default: {describe_sample_counts()})"
    )
    e.add_argument("--features", choices=EXTRACTORS.choices, help="feature extractor")
    e.add_argument("--weights", help="weights file for --features (required for inception)")
    e.add_argument("--blur", type=_finite, help="with --real: blur the images by a Gaussian of this σ (pixels)")
    e.add_argument(
        "--only-class", type=_ranged(0, MAX_CLASSES - 1), help="with --real: score only the images of this class"
    )
    e.add_argument("--seed", type=_seed, default=0, help="seed of z and of the KID subsets")
    e.add_argument(
        "--kid-subsets",
        type=_ranged(1, 10_000),
        default=KID_SUBSETS,
        help=f"KID subsets of {KID_SUBSET_SIZE:,} (default {KID_SUBSETS}, the paper's)",
    )
    e.add_argument(
        "--metrics",
        metavar="NAME[,NAME…]",
        help=f"compute only these (default: every one that applies, unless only on request): {', '.join(metrics())}",
    )
    e.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="arithmetic of generation and feature extraction (default: bf16 for the mnist classifier on CPUs "
        "with native bfloat16, checked against fp32; fp32 otherwise)",
    )
    e.add_argument(
        "--no-cache",
        action="store_true",
        help=f"compute the reference features afresh and write no cache (default: cached in ${ENV_DIR}, "
        "else ~/.cache/gankit/features)",
    )
    e.add_argument("--checkpoint", help="a checkpoint folder of the run (default: the latest)")
    e.add_argument("--no-ema", action="store_true", help="use G's raw weights even if the run kept an EMA")
    e.add_argument("--out", help="the JSON file written (default RUN/eval.json or eval-real-DATA-SPLIT.json)")
    e.set_defaults(func=cmd_eval)

    r = sub.add_parser("recipes", help="list recipes, or print one as JSON")
    r.add_argument("name", nargs="?")
    r.set_defaults(func=cmd_recipes)
    for command in sub.choices.values():  # --debug also after the command's name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def reports(error: GankitError) -> bool:
    """Whether this process prints ``error``: under torchrun an error every rank raised alike (a config error,
    or one the ranks agreed on) is printed by rank 0 alone; an error of one rank by that rank."""
    from gankit.training.distributed import launched_by_torchrun

    if not launched_by_torchrun() or os.environ["RANK"] == "0":
        return True
    return isinstance(error, DistributedError) and not error.agreed


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status (0; 2 for bad input; 1 for an unexpected error; 130 if
    interrupted). Never raises, except with ``--debug``, which re-raises an unexpected error."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a usage error argparse has already printed
        return e.code if isinstance(e.code, int) else 2
    try:
        args.func(args)
    except GankitError as e:
        if reports(e):
            print(f"gankit: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gankit: interrupted; `gankit train --resume RUN` continues from the last checkpoint", file=sys.stderr)
        return 130
    except Exception as e:
        if args.debug:
            raise
        print(f"gankit: error: {unexpected(e)}", file=sys.stderr)
        return 1
    return 0


def unexpected(error: BaseException, limit: int = 300) -> str:
    """The one line shown for an error gankit did not foresee (a bug): its type, its message, what to do."""
    text = " ".join(str(error).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"unexpected {type(error).__name__}: {text} — rerun with --debug for the traceback (and please report it)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
