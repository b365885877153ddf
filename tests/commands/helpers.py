"""What the tests of the commands share."""

from __future__ import annotations


def error_line(capsys) -> str:
    """The one line a failed command printed to stderr (asserting it is one clean line)."""
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    return err
