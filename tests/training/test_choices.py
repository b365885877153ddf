import pytest

from gankit.cli import main
from gankit.config import Config
from gankit.errors import ConfigError
from gankit.recipes import RECIPES, get_recipe
from gankit.training.choices import FIELD_CHOICES, check_choices


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("model.arch", "resnet9", "unknown value for model.arch: 'resnet9'"),
        ("loss.objective", "least_squares", "Did you mean 'least-squares'"),
        ("data.name", "mnsit", "Did you mean 'mnist'"),
        ("model.minibatch", "mbd", "unknown value for model.minibatch"),
        ("model.init", "xavir", "Did you mean 'xavier'"),
        ("g_optim.name", "adamw", "Did you mean 'adam'"),
        ("train.scheme", "extra-gradient", "Did you mean 'extragradient'"),
    ],
)
def test_unregistered_names_are_rejected_with_suggestions(field, value, message):
    cfg = Config().override({field: value})  # types and ranges are fine: config.py knows no registry
    with pytest.raises(ConfigError, match=message):
        check_choices(cfg)


def test_every_recipe_names_registered_parts():
    for name in RECIPES:
        assert check_choices(get_recipe(name)).recipe == name


def test_extra_names_are_accepted():
    assert check_choices(Config().override({"data.name": "folder", "data.dir": "x", "model.minibatch": "none"}))


def test_every_checked_field_exists_in_the_config():
    fields = Config().to_dict()
    for path in FIELD_CHOICES:
        section, name = path.split(".")
        assert name in fields[section], path


def test_cli_refuses_a_bad_name_before_anything_is_written(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--run-dir", str(run), "--set", "loss.objective=hinj", "--steps", "1"]) == 2
    assert "Did you mean 'hinge'" in capsys.readouterr().err
    assert not run.exists()
