"""``gankit grid``: figures of a conditional run, one row per class (CGAN) or InfoGAN category."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from gankit.commands import options
from gankit.errors import ConfigError, GankitError

if TYPE_CHECKING:
    from gankit.viz.latent import LatentLayout

MAX_SCALE = 64  # gankit grid --scale
MAX_PICTURE_SIDE = 16_384  # pixels of the longer side of a picture gankit grid writes


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    g = sub.add_parser(
        "grid",
        help="figures of a conditional run: one row per class or InfoGAN category",
        description="CGAN: rows = classes, columns = fixed z. InfoGAN: rows = categories (c1), columns = fixed z "
        "(--by category) or a continuous code swept over [-2, 2] with z fixed (--by c2, c3: Chen et al. 2016, Fig. 2).",
    )
    options.run_argument(g)
    g.add_argument("--by", required=True, help="class (CGAN); category, c2, c3, … (InfoGAN)")
    g.add_argument("--out", help="the PNG file (default RUN/grid-BY.png)")
    g.add_argument("--columns", type=int, default=10, help="z's per row, or steps of the code sweep (default 10)")
    g.add_argument(
        "--rows",
        metavar="K[,K…]|matched",
        help="the classes / categories shown, in this order (default all); matched: InfoGAN categories in the "
        "order of the digits `gankit eval` matched them to",
    )
    g.add_argument("--seed", type=options.seed, default=0, help="seed of z")
    g.add_argument("--scale", type=options.integer, default=1, help="enlarge the picture this many times (default 1)")
    options.generator_options(g)
    g.set_defaults(func=cmd_grid)
    return g


def cmd_grid(args: argparse.Namespace) -> None:
    from gankit.images import save_png
    from gankit.store.outputs import check_output_file
    from gankit.viz.grids import figure_grid
    from gankit.viz.latent import latent_layout

    run = options.trial_run(args)
    out = Path(args.out or Path(run) / f"grid-{args.by}.png")
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out must be a .png file, got {str(out)!r}")
    if not 1 <= args.scale <= MAX_SCALE:
        raise ConfigError(f"--scale must lie in 1..{MAX_SCALE}, got {args.scale}")
    check_output_file(out)
    rows = grid_rows(run, args.rows)
    trained = options.load_generator(args, run)
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
        return None if text is None else options.parse_classes(text, "--rows")
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
