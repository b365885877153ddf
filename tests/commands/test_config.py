"""gankit config: the field reference, read from the dataclasses (and docs/config.md, its Markdown)."""

import dataclasses
from pathlib import Path

import pytest

from gankit.cli import main
from gankit.commands import config as reference
from gankit.config import FACTS, Config, field_paths
from gankit.training.choices import FIELD_CHOICES
from tests.commands.helpers import error_line


@pytest.fixture(autouse=True)
def _terminal_of_100_columns(monkeypatch):
    """`gankit config` wraps to the terminal: the same width whether or not a terminal runs the tests."""
    monkeypatch.setenv("COLUMNS", "100")


DOC = Path(__file__).parents[2] / "docs" / "config.md"


def _dataclass_fields(cls, prefix=""):
    """Every (dotted name, dataclasses.Field) of a config dataclass, read from the classes themselves."""
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            yield from _dataclass_fields(type(default), f"{prefix}{f.name}.")
        else:
            yield prefix + f.name, f


def test_every_dataclass_field_declares_a_one_line_meaning():
    found = dict(_dataclass_fields(Config))
    assert len(found) > 70 and "g_optim.lr" in found and "recipe" in found
    for path, f in found.items():
        assert FACTS in f.metadata, f"{path} is declared without option(…): give it its one-line meaning"
        meaning = f.metadata[FACTS].help
        assert 8 <= len(meaning) <= 250 and "\n" not in meaning, f"{path}: {meaning!r}"


def test_the_reference_lists_every_field_with_type_default_and_allowed_values():
    rows = {f.path: f for f in reference.fields()}
    assert list(rows) == field_paths() == [path for path, _ in _dataclass_fields(Config)]
    lr = rows["g_optim.lr"]
    assert (lr.type, lr.default, lr.allowed, lr.facts.help) == ("float", "0.0002", (), "learning rate")
    assert (rows["g_optim.betas"].type, rows["g_optim.betas"].default) == ("2 floats", "0.5,0.999")
    assert (rows["train.ema"].type, rows["train.ema"].default) == ("float or none", "none")
    assert (rows["train.seeds"].type, rows["train.seeds"].default) == ("ints", "()")
    precision = rows["train.precision"]
    assert precision.allowed == ("auto", "fp32", "bf16", "fp16") and precision.facts.resumable
    assert rows["model.spectral_norm"].allowed == ("true", "false")
    for path, registry in FIELD_CHOICES.items():  # registry fields: exactly the registry's names
        assert rows[path].allowed == tuple(registry.choices), path
    assert "folder" in rows["data.name"].allowed


def test_each_default_reads_back_as_the_default():
    defaults = Config().flat()
    assert Config().override({f.path: f.default for f in reference.fields()}).flat() == defaults


def test_docs_config_md_is_the_current_reference():
    assert DOC.read_text() == reference.markdown(), f"docs/config.md is stale: run `{reference.MARKDOWN_COMMAND}`"


def test_the_markdown_has_a_table_per_section_with_a_row_per_field():
    text = reference.markdown()
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## top level", "## `data`", "## `model`", "## `loss`", "## `g_optim`", "## `d_optim`", "## `train`"
    ]  # fmt: skip
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(field_paths())
    assert "| `g_optim.lr` | float | `0.0002` |  | yes | learning rate |" in rows


def test_gankit_config_shows_a_section_a_field_or_a_name_in_every_section(capsys):
    assert main(["config", "train"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[train] The training loop") and "train.steps: int = 2000  (resumable)" in out
    assert "g_optim" not in out and "Set a field with" not in out
    assert main(["config", "g_optim.lr"]) == 0
    assert capsys.readouterr().out == "[g_optim] One player's optimiser (the sections `g_optim` and `d_optim`: see " \
        "`OPTIMIZER_SECTIONS`).\ng_optim.lr: float = 0.0002  (resumable)\n    learning rate\n"  # fmt: skip
    assert main(["config", "lr"]) == 0
    out = capsys.readouterr().out
    assert "g_optim.lr: float" in out and "d_optim.lr: float" in out and "train." not in out


def test_gankit_config_lists_every_field_and_how_to_set_one(capsys):
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    heads = [line.partition(":")[0] for line in out.split("\n\nSet a field")[0].splitlines()]
    assert [h for h in heads if h and not h.startswith((" ", "["))] == field_paths()
    assert "one of: adam, rmsprop, sgd" in out and "Set a field with `gankit train --set FIELD=VALUE`" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["config", "trian"], "no config section or field 'trian'. Did you mean 'train'"),
        (["config", "train.lr"], "Did you mean 'g_optim.lr', 'd_optim.lr'"),
        (["config", "--markdown", "train"], "--markdown prints the whole reference"),
    ],
)
def test_an_unknown_name_gets_suggestions(argv, message, capsys):
    assert main(argv) == 2
    assert message in error_line(capsys)
