"""benchmarks/cli_start.py: its rows and the section it writes (nothing here asserts a time)."""

import pytest

from benchmarks import cli_start


def test_the_rows_are_bare_gankit_help_recipes_config_and_every_command_help():
    labels = [label for label, _ in cli_start.cases()]
    assert labels[:4] == ["gankit", "gankit --help", "gankit recipes", "gankit config"]
    assert "gankit train --help" in labels and "gankit eval --help" in labels and "gankit config --help" in labels
    assert dict(cli_start.cases())["gankit train --help"] == ("-m", "gankit", "train", "--help")
    chosen = [label for label, _ in cli_start.cases(["gankit", "recipes"])]
    assert chosen == ["gankit", "gankit recipes", "gankit recipes --help"]


@pytest.mark.slow  # starts fresh interpreters, one of which imports torch
def test_a_short_run_writes_its_table_with_the_machine(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n")
    cli_start.main(["--repeats", "1", "--commands", "help", "config", "--doc", str(doc)])
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n") and "<!-- cli-start: begin -->" in text
    assert "Machine: " in text and "torch " in text  # the CPU model and ISA beside the figures
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    labels = [r.split("|")[1].strip() for r in rows]
    assert labels == ["`gankit --help`", "`gankit config`", "`gankit config --help`", '`python -c "import torch"`']
    assert all(r.split("|")[4].strip() in ("yes", "**no**") for r in rows[:-1]) and rows[-1].split("|")[4] == " – "
    assert "`python benchmarks/cli_start.py --commands help config --repeats 1`" in text
