import pytest

from gankit.errors import ConfigError
from gankit.theory.demos import check_option, run_demo


@pytest.mark.parametrize(
    "name,value", [("eta", 0.0), ("eta", -1.0), ("eta", 2.5), ("eta", float("nan")), ("steps", 0), ("steps", 10**9)]
)
def test_options_outside_their_range_are_refused(name, value):
    with pytest.raises(ConfigError, match=f"--{name} is"):
        check_option(name, value)


def test_options_inside_their_range_pass():
    check_option("eta", 2.0)
    check_option("steps", 1)


def test_a_bad_option_writes_nothing(tmp_path):
    with pytest.raises(ConfigError):
        run_demo("bilinear", tmp_path / "out", eta=float("inf"))
    assert not (tmp_path / "out").exists()
