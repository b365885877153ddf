"""The ``gankit`` command: one parser assembled from ``gankit.commands``, and ``main``, which runs a command and
turns its errors into one line and an exit status."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import NoReturn

from gankit.commands import demo, eval, export, grid, recipes, report, sample, serve, train
from gankit.errors import DistributedError, GankitError
from gankit.signals import Stopped, stopping_on_signals

COMMANDS = (train, sample, grid, demo, report, serve, eval, export, recipes)  # in the order of `gankit --help`


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one ``gankit: error:`` line pointing at ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"gankit: error: {message} — see `{self.prog} --help`\n")


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="gankit", description="Classic GANs in PyTorch.")
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of an unexpected error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    for command_parser in sub.choices.values():  # --debug also after the command's name
        command_parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
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
    interrupted, 143 if stopped by SIGTERM). Never raises, except with ``--debug``, which re-raises an unexpected
    error."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a usage error argparse has already printed
        return e.code if isinstance(e.code, int) else 2
    try:
        with stopping_on_signals():
            args.func(args)
    except GankitError as e:
        if reports(e):
            print(f"gankit: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM (gankit.signals): one line, exit 130 or 143
        from gankit.training.distributed import launched_by_torchrun

        stop = e if isinstance(e, Stopped) else Stopped(signal.SIGINT)
        print(f"gankit: {stop.line(launched_by_torchrun())}", file=sys.stderr)
        return stop.exit_code
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
