"""What several commands share: the run and which of its G weights they load, number types, lists of classes.

The number types read their text with ``gankit.config.parse_int`` / ``parse_float``, the reader of config
fields, so "1e3", "1_000" and finite numbers mean the same on every flag and in every ``--set``.
"""

from __future__ import annotations

import argparse
import importlib
import math
from collections.abc import Callable
from types import ModuleType

from gankit.config import MAX_TRIALS, parse_float, parse_int
from gankit.errors import ConfigError, GankitError
from gankit.extras import install_command

MAX_CLASSES = 1_000_000  # class indices of --class, --rows, --only-class lie below this
SEED_RANGE = (0, 2**63 - 1)


def refuse_empty(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A usage error (``parser.error``) for any option or argument given as an empty string: no gankit option
    means anything by one (``--resume ''`` must not start a new run, ``--out ''`` must not write to "."))."""
    command = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[args.command]
    for action in command._actions:
        value = getattr(args, action.dest, None)
        if value == "" or (isinstance(value, list) and "" in value):
            name = "/".join(action.option_strings) or action.dest
            command.error(f"argument {name}: expected a value, got an empty string")


def run_argument(parser: argparse.ArgumentParser, **options) -> None:
    """RUN: the run folder a command reads (``options`` as of ``add_argument``, e.g. ``nargs="?"``)."""
    parser.add_argument("run", **{"help": "the run directory", **options})


def trial_option(parser: argparse.ArgumentParser) -> None:
    """--trial K: which trial of a trials run (``gankit train --trials N``) a command reads."""
    parser.add_argument("--trial", type=ranged(0, MAX_TRIALS - 1), metavar="K", help="trial K of a trials run")


def trial_run(args: argparse.Namespace) -> str:
    """The one-trial run a command reads: ``args.run``, or its trial ``args.trial`` (an error says what to pass)."""
    from gankit.store.layout import trial_run

    return str(trial_run(args.run, args.trial))


def weights_options(parser: argparse.ArgumentParser) -> None:
    """Which of the run's G weights a command uses: --trial, --checkpoint, --no-ema."""
    trial_option(parser)
    parser.add_argument("--checkpoint", help="a checkpoint folder of the run (default: the latest)")
    parser.add_argument("--no-ema", action="store_true", help="use G's raw weights even if the run kept an EMA")


def generator_options(parser: argparse.ArgumentParser) -> None:
    """Which G a command loads and where: the weights options and --device (see ``load_generator``)."""
    weights_options(parser)
    parser.add_argument("--device", default="cpu")


def load_generator(args: argparse.Namespace, run: str):
    """The trained G of ``run`` (``trial_run(args)``) that ``generator_options`` name."""
    from gankit.trained import load_generator

    return load_generator(run, args.checkpoint, use_ema=not args.no_ema, device=args.device)


def integer(text: str) -> int:
    """An argparse type: an integer written as 1000, 1_000 or 1e3."""
    value = parse_int(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return value


def ranged(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``low``..``high``."""

    def parse(text: str) -> int:
        value = integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must lie in {low}..{high}, got {text}")
        return value

    parse.__name__ = "integer"
    return parse


def finite(text: str) -> float:
    """An argparse type: a finite number."""
    value = parse_float(text)
    if value is None or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


seed = ranged(*SEED_RANGE)


def parse_classes(text: str, flag: str = "--class") -> list[int]:
    """``3`` or ``0,2,4`` → the class indices (checked against the run where they are used)."""
    try:
        indices = [int(part) for part in text.split(",")]
    except ValueError:
        indices = []
    if not indices or any(abs(k) >= MAX_CLASSES for k in indices):
        raise ConfigError(f"{flag} takes indices separated by commas, e.g. {flag} 3,7; got {text[:40]!r}")
    return indices


def viz_module(name: str) -> ModuleType:
    """Import a ``gankit.viz`` module that needs the ``viz`` extra, or say how to install it."""
    try:
        return importlib.import_module(f"gankit.viz.{name}")
    except ModuleNotFoundError as e:
        raise GankitError(f"this command needs {e.name}: {install_command('viz')}") from None
