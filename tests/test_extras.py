import sys
from pathlib import Path

import pytest

from gankit import extras
from gankit.errors import GankitError

CHECKOUT = Path(extras.__file__).resolve().parent.parent


def test_from_inside_the_checkout_an_extra_is_an_editable_install_of_dot(monkeypatch):
    monkeypatch.chdir(CHECKOUT)
    assert extras.checkout_root() == CHECKOUT
    assert extras.install_command("viz") == "pip install -e '.[viz]'"


def test_from_elsewhere_it_names_the_checkout(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert extras.install_command("tensorboard") == f"pip install -e '{CHECKOUT}[tensorboard]'"


def test_an_installed_package_gets_the_package_extra(monkeypatch):
    monkeypatch.setattr(extras, "checkout_root", lambda: None)
    assert extras.install_command("viz") == "pip install 'gankit[viz]'"


def test_a_command_that_needs_flask_says_how_to_install_it_from_this_checkout(monkeypatch):
    from gankit.commands import options

    monkeypatch.chdir(CHECKOUT)
    monkeypatch.setitem(sys.modules, "flask", None)  # as if flask were not installed
    monkeypatch.delitem(sys.modules, "gankit.viz.explorer", raising=False)
    with pytest.raises(GankitError) as e:
        options.viz_module("explorer")
    assert str(e.value) == "this command needs flask: pip install -e '.[viz]'"
