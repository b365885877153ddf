"""The ``gankit`` command: one parser assembled from ``gankit.commands``, and ``main``, which runs a command and
turns its errors into one line and an exit status.

Building the parser imports no torch (each command imports what it runs inside its handler, and the names the
help shows come from ``gankit.commands.names``), so ``gankit``, ``--help`` and ``gankit recipes`` start at once;
``benchmarks/cli_start.py`` times them.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import NoReturn

from gankit.commands import animate, config, demo, eval, export, grid, options, recipes, report, sample, serve, train
from gankit.errors import DistributedError, GankitError, path_error
from gankit.signals import Stopped, stopping_on_signals

COMMANDS = (train, sample, grid, animate, demo, report, serve, eval, export, recipes, config)  # `gankit --help` order


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
    error. Bare ``gankit`` prints the help to stdout and returns 0, as ``gankit --help`` does."""
    parser = make_parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help()
        return 0
    try:
        args = parser.parse_args(argv)
        options.refuse_empty(parser, args)
    except SystemExit as e:  # --help, or a usage error argparse has already printed
        return e.code if isinstance(e.code, int) else 2
    try:
        try:
            with stopping_on_signals():
                args.func(args)
        except OSError as e:  # a path too long or looping, wherever it was used: bad input, not a bug
            if path_error(e) is None:
                raise
            raise path_error(e) from None
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
