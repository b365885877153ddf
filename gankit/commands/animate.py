"""``gankit animate``: a GIF (or MP4) of a run's sample grids over training, of a loop through fixed z's, or of
InfoGAN's continuous codes swept with z fixed."""

from __future__ import annotations

import argparse
from pathlib import Path

from gankit.commands import options
from gankit.errors import ConfigError

WHATS = ("training", "interpolation", "codes")
LATENT_FPS = 15.0  # default --fps of the latent walks (training: gankit.viz.animate.TRAINING_FPS)
FRAMES = {"training": None, "interpolation": 60, "codes": 30}  # default --frames (training: every grid)
MAX_FRAMES = 1000  # --frames


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    a = sub.add_parser(
        "animate",
        help="a GIF of the sample grids over training, of latent interpolations or of InfoGAN code sweeps",
        description="training: the run's sample grids (RUN/samples, all from one fixed z), each labelled with its "
        "step. interpolation: --samples z's each walked through 4 fixed z's and back (slerp for a normal prior, "
        "straight lines for a uniform one). codes (InfoGAN): each continuous code swept over [-2, 2] and back, z "
        "fixed. A conditional run shows a row per class or category, the z's in the columns. The GIF loops for "
        "ever; --out X.mp4 writes an MP4 where imageio with ffmpeg is installed.",
    )
    options.run_argument(a)
    a.add_argument("--what", choices=WHATS, default="training", help="what to animate (default training)")
    a.add_argument(
        "--out", help="the .gif (or .mp4) to write (default RUN/animation-WHAT.gif); replaced only with --force"
    )
    a.add_argument("--force", action="store_true", help="replace --out if it exists")
    a.add_argument(
        "--fps", type=options.finite, help="frames per second (default 4 for training, 15 for the latent walks)"
    )
    a.add_argument(
        "--frames",
        type=options.ranged(2, MAX_FRAMES),
        metavar="N",
        help="training: the most grids shown, evenly spread, first and last kept (default all); interpolation: "
        "frames of the loop (default 60); codes: frames per code (default 30)",
    )
    a.add_argument("--samples", type=options.integer, default=16, metavar="N", help="z's walked at once (default 16)")
    a.add_argument("--seed", type=options.seed, default=0, help="seed of the fixed z's (default 0)")
    options.generator_options(a)
    a.set_defaults(func=cmd_animate)
    return a


def cmd_animate(args: argparse.Namespace) -> None:
    run = options.trial_run(args)
    out = output_path(args, run)
    from gankit.viz.animate import FPS_RANGE, TRAINING_FPS, write_animation

    fps = args.fps if args.fps is not None else TRAINING_FPS if args.what == "training" else LATENT_FPS
    if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        low, high = FPS_RANGE
        raise ConfigError(f"--fps must lie in {low:g}..{high:g} (a GIF's delays are whole centiseconds), got {fps:g}")
    if args.what == "training":
        frames, labels, hold_s, shown = training_animation(args, run)
    else:
        frames, labels, shown = latent_animation(args, run)
        hold_s = 0.0
    write_animation(out, frames, fps, labels, hold_s)
    print(f"wrote {out}: {shown}; {len(frames)} frames at {fps:g} fps")


def output_path(args: argparse.Namespace, run: str) -> Path:
    """``--out`` (default RUN/animation-WHAT.gif), checked before any work: a .gif or .mp4 that may be written,
    and not an existing file unless ``--force``."""
    from gankit.store.outputs import check_output_file
    from gankit.viz.animate import check_format

    out = Path(args.out) if args.out is not None else Path(run) / f"animation-{args.what}.gif"
    check_format(out)
    return check_output_file(out, replace=args.force)


def training_animation(args: argparse.Namespace, run: str) -> tuple[list, list[str], float, str]:
    """The run's sample grids (at most ``--frames``), their step labels, the hold of the last one, in words."""
    from gankit.store.layout import RunPaths
    from gankit.viz.animate import TRAINING_HOLD_S, sample_grids, strip_of, training_frames

    given = [flag for flag, on in (("--checkpoint", args.checkpoint is not None), ("--no-ema", args.no_ema)) if on]
    if given:
        raise ConfigError(
            f"{' and '.join(given)} choose G's weights for --what interpolation or codes; "
            "the training animation shows the saved sample grids"
        )
    paths = RunPaths(Path(run))
    grids = sample_grids(paths)
    if len(grids) < 2:
        raise ConfigError(
            f"{paths.samples} holds {len(grids)} sample grid(s); an animation needs at least 2: train longer "
            "(grids are saved at train.sample_at, every train.sample_every steps and at the end)"
        )
    shown = strip_of(grids, args.frames or len(grids))
    frames, labels = training_frames(shown)
    return frames, labels, TRAINING_HOLD_S, f"sample grids of steps {shown[0][0]:,} to {shown[-1][0]:,}"


def latent_animation(args: argparse.Namespace, run: str) -> tuple[list, list[str] | None, str]:
    """The frames of ``--what interpolation`` or ``codes`` (labels for the codes), and what they show in words."""
    from gankit.viz.latent import latent_layout
    from gankit.viz.walks import KEYFRAMES, code_frames, interpolation_frames

    trained = options.load_generator(args, run)
    layout = latent_layout(trained)
    if layout.output != "images":
        raise ConfigError(f"{run} makes 2-D points; --what {args.what} animates images: use --what training")
    if not 1 <= args.samples <= layout.max_batch:
        raise ConfigError(f"--samples must lie in 1..{layout.max_batch}, got {args.samples}")
    frames = args.frames or FRAMES[args.what]
    rows = " per class" if layout.classes else " per category" if layout.categories else ""
    if args.what == "interpolation":
        path = "slerp" if layout.dist == "normal" else "straight lines"
        shown = f"{args.samples} z's{rows} looping through {KEYFRAMES} fixed z's ({path}, seed {args.seed})"
        return interpolation_frames(trained, layout, args.samples, frames, args.seed), None, shown
    if not layout.continuous:
        raise ConfigError(f"{run} has no continuous InfoGAN codes to sweep: use --what interpolation")
    code = layout.continuous[0]
    names = ", ".join(c.name for c in layout.continuous)
    pictures, labels = code_frames(trained, layout, args.samples, frames, args.seed)
    shown = f"{names} each swept over [{code.low:g}, {code.high:g}] and back, {args.samples} fixed z's{rows}"
    return pictures, labels, shown
