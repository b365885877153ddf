import argparse

import pytest

from gankit.cli import make_parser
from gankit.commands import options

WEIGHTS = ("checkpoint", "no_ema")


def test_every_command_that_loads_g_takes_the_shared_weights_options(monkeypatch):
    given = []
    shared = options.weights_options
    monkeypatch.setattr(options, "weights_options", lambda parser: given.append(parser.prog) or shared(parser))
    make_parser()
    assert sorted(given) == ["gankit animate", "gankit eval", "gankit grid", "gankit sample", "gankit serve"]


@pytest.mark.parametrize(
    "command", [["eval"], ["sample", "--out", "x.npz"], ["grid", "--by", "class"], ["serve"], ["animate"]]
)
def test_checkpoint_and_no_ema_mean_the_same_on_every_command(command):
    args = make_parser().parse_args([command[0], "RUN", *command[1:], "--checkpoint", "C", "--no-ema"])
    assert (args.run, args.checkpoint, args.no_ema) == ("RUN", "C", True)


def test_eval_takes_the_weights_options_of_the_commands_that_load_g():
    (sub,) = [a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction)]

    def weights(command):
        return [(a.option_strings, a.help, a.default) for a in sub.choices[command]._actions if a.dest in WEIGHTS]

    assert len(weights("eval")) == 2 and weights("eval") == weights("sample") == weights("grid") == weights("serve")
    assert weights("animate") == weights("eval")


@pytest.mark.parametrize("text,value", [("1000", 1000), ("1_000", 1000), ("1e3", 1000), ("-2", -2), ("2.0", 2)])
def test_integers_are_read_as_config_fields_are(text, value):
    assert options.integer(text) == value


@pytest.mark.parametrize("text", ["1.5", "x", "", "inf", "nan", "1e999"])
def test_what_is_not_an_integer(text):
    with pytest.raises(argparse.ArgumentTypeError, match=f"expected an integer, got {text!r}"):
        options.integer(text)


def test_finite_numbers():
    assert options.finite("1e-4") == 1e-4 and options.finite("1_000.5") == 1000.5
    for text in ("nan", "inf", "-inf", "1e999", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"expected a finite number, got {text!r}"):
            options.finite(text)


def test_ranged_integers_name_their_range():
    port = options.ranged(0, 65535)
    assert port("8_000") == 8000
    with pytest.raises(argparse.ArgumentTypeError, match=r"must lie in 0..65535, got 1e30"):
        port("1e30")
