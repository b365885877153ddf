import pytest

from gankit.errors import ConfigError, DataError
from gankit.registry import Registry, unknown_name


def test_lookup_returns_the_entry_and_explains_a_bad_name():
    r = Registry("colour", {"red": 1, "green": 2}, extra=("none",))
    assert r.lookup("green") == 2 and r["red"] == 1 and list(r) == ["red", "green"]
    assert r.choices == ["red", "green", "none"]
    with pytest.raises(ConfigError, match=r"unknown colour 'gren'\. Did you mean 'green'\? Known: red, green, none\."):
        r.lookup("gren")
    with pytest.raises(ConfigError, match="unknown colour 'none'"):
        r.lookup("none")  # an extra name is accepted by check, but has no entry


def test_check_accepts_extra_names_and_uses_the_callers_words():
    r = Registry("colour", {"red": 1}, extra=("none",))
    assert r.check("none") == "none" and r.check("red") == "red"
    with pytest.raises(ConfigError, match="unknown value for paint.colour: 'blue'"):
        r.check("blue", "value for paint.colour:")


def test_the_error_class_and_registration():
    r = Registry("data set", {"mnist": 1}, error=DataError)
    with pytest.raises(DataError, match="Did you mean 'mnist'"):
        r.lookup("mnsit")
    assert r.register("kmnist", 2) == 2 and r.lookup("kmnist") == 2
    with pytest.raises(ValueError, match="registered twice"):
        r.register("kmnist", 3)


def test_no_suggestion_when_nothing_is_close():
    message = str(unknown_name("zzz", ["alpha", "beta"], "thing"))
    assert message == "unknown thing 'zzz'. Known: alpha, beta."
