"""The dispatcher: usage errors, --help, and the one line shown for an unexpected error (the commands' own
tests are in tests/commands/)."""

import subprocess
import sys

import pytest

from gankit.cli import COMMANDS, main
from gankit.commands import recipes
from tests.commands.helpers import error_line


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(args):
        raise KeyError("boom\nsecond line")

    monkeypatch.setattr(recipes, "cmd_recipes", broken)
    assert main(["recipes"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "gankit: error: unexpected KeyError: 'boom\\nsecond line' — rerun with --debug for the traceback "
        "(and please report it)\n"
    )
    for argv in (["--debug", "recipes"], ["recipes", "--debug"]):
        with pytest.raises(KeyError, match="boom"):
            main(argv)


def test_help_and_usage_errors_return_instead_of_exiting(capsys):
    assert main(["--help"]) == 0
    assert main(["nope"]) == 2
    assert "gankit: error: argument command: invalid choice: 'nope'" in error_line(capsys)


@pytest.mark.parametrize("command", [c.__name__.rpartition(".")[2] for c in COMMANDS])
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: gankit {command} ")


def test_bare_gankit_prints_the_help_to_stdout_and_succeeds(capsys):
    assert main([]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: gankit ") and "recipes" in out and "config" in out and err == ""


HEAVY = ("torch", "numpy", "scipy", "safetensors")
NO_TORCH = f"""
import contextlib, io, sys
import gankit.cli
gankit.cli.make_parser()
for argv in [[], ["--help"], ["recipes"], ["recipes", "wgan-gp"], ["config"], ["config", "g_optim.lr"]] + [
    [command.__name__.rpartition(".")[2], "--help"] for command in gankit.cli.COMMANDS
]:
    with contextlib.redirect_stdout(io.StringIO()):
        assert gankit.cli.main(argv) == 0, argv
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_the_parser_help_recipes_and_config_import_no_torch():
    """`gankit --help`, every `gankit CMD --help`, `gankit recipes` and `gankit config` start in well under a second:
    nothing on their path imports torch (or numpy, scipy, safetensors). A fresh interpreter, so that no other
    test's imports count."""
    done = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_a_path_the_system_refuses_is_a_clear_error_wherever_it_is_used(tmp_path, capsys):
    """Issue 26: names over the OS limit (ENAMETOOLONG) and loops of links (ELOOP) were 'unexpected' (exit 1)."""
    import errno

    from gankit.errors import path_error

    long = str(tmp_path / ("n" * 300))
    cases = [
        (["report", long], "is longer than this system allows"),
        (["eval", "--real", "--data-dir", long, "-n", "10", "--out", str(tmp_path / "r.json")], "is longer than this"),
        (["train", "--dry-run", "--recipe", "dcgan", "--data-dir", long], "is longer than this system allows"),
    ]
    for argv, says in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("gankit: error: ") and err.count("\n") == 1 and says in err, err
    assert "loop of symbolic links" in str(path_error(OSError(errno.ELOOP, "Too many levels", "/x/y")))
    assert path_error(OSError(errno.EACCES, "Permission denied", "/x")) is None  # not a path's fault alone
