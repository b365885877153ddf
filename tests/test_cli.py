"""The dispatcher: usage errors, --help, and the one line shown for an unexpected error (the commands' own
tests are in tests/commands/)."""

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


def test_a_path_the_system_refuses_is_a_clear_error_wherever_it_is_used(tmp_path, capsys):
    """Issue 26: names over the OS limit (ENAMETOOLONG) and loops of links (ELOOP) were 'unexpected' (exit 1)."""
    import errno

    from gankit.errors import path_error

    long = str(tmp_path / ("n" * 300))
    cases = [
        (["report", long], "is longer than this system allows"),
        (["eval", "--real", "--data-dir", long, "-n", "10"], "is longer than this system allows"),
        (["train", "--dry-run", "--recipe", "dcgan", "--data-dir", long], "is longer than this system allows"),
    ]
    for argv, says in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("gankit: error: ") and err.count("\n") == 1 and says in err, err
    assert "loop of symbolic links" in str(path_error(OSError(errno.ELOOP, "Too many levels", "/x/y")))
    assert path_error(OSError(errno.EACCES, "Permission denied", "/x")) is None  # not a path's fault alone
