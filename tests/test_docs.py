"""What the README and docs/ say agrees with the code and with itself."""

import json
import math
import re
from pathlib import Path

import pytest
import torch

import gankit
from gankit.data.load import DATASETS
from gankit.losses import OBJECTIVES
from tests.helpers import tiny

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _expand(name: str) -> list[str]:
    """``emnist-{a,b}`` → ``emnist-a``, ``emnist-b``."""
    match = re.fullmatch(r"(.*)\{(.*)\}(.*)", name)
    return [f"{match[1]}{part}{match[3]}" for part in match[2].split(",")] if match else [name]


def test_the_readme_data_section_names_every_data_set():
    data = _section((ROOT / "README.md").read_text(), "Data")
    named = {n for quoted in re.findall(r"`([^`\s]+)`", data) for n in _expand(quoted)}
    assert set(DATASETS.choices) - named == set()


def test_every_kid_column_in_the_docs_says_its_scale():
    """KID is shown ×10³ in every table of the docs, and the header (or row name) says so; the timings of the
    KID stage (a table in seconds) aside."""
    cells = [
        (doc.name, cell.strip())
        for doc in DOCS
        for line in doc.read_text().splitlines()
        if line.startswith("|") and "seconds" not in line
        for cell in line.split("|")
        if re.match(r"\s*kid\b", cell, re.IGNORECASE)
    ]
    assert len(cells) >= 6  # results.md 2, benchmarks.md 3, schemes.md 1
    assert [(name, cell) for name, cell in cells if "×10³" not in cell] == []


def _headings(text: str, level: str = "## ") -> list[str]:
    fenced = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return [line[len(level) :] for line in fenced.splitlines() if line.startswith(level)]


def _anchor(title: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but hyphens dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def test_no_doc_names_this_machines_paths_or_lock_files():
    """Docs commands use paths relative to the repository or an environment variable, never a machine's own
    folders or the lock files of its shared CPUs."""
    found = [
        (doc.relative_to(ROOT).as_posix(), word)
        for doc in DOCS
        for word in ("/work/", "flock", "cpu.lock")
        if word in doc.read_text()
    ]
    assert found == []


def test_the_readme_opens_with_a_table_of_contents_of_every_section():
    readme = (ROOT / "README.md").read_text()
    intro, _ = readme.split("\n## ", 1)
    links = re.findall(r"\]\(#([^)]+)\)", intro)
    assert "**Contents:**" in intro and len(intro.splitlines()) < 20
    assert links == [_anchor(title) for title in _headings(readme)]


def test_contributor_material_is_in_contributing_not_in_the_readme():
    readme, contributing = (ROOT / "README.md").read_text(), (ROOT / "CONTRIBUTING.md").read_text()
    for title in ("What is where", "Development"):
        assert title in _headings(contributing) and title not in _headings(readme)
    assert "(CONTRIBUTING.md)" in readme
    assert "gankit/training/step.py" in _section(contributing, "What is where")  # the code map moved whole
    assert "pytest --durations=25" in _section(contributing, "Development")


def test_the_license_file_is_the_mit_license_pyproject_names():
    license_text = (ROOT / "LICENSE").read_text()
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()
    assert license_text.startswith("MIT License\n\nCopyright (c) the gankit developers\n")
    assert "[LICENSE](LICENSE)" in _section((ROOT / "README.md").read_text(), "License")


def _readme_code(heading: str) -> str:
    """The first fenced Python block under the README's ``### heading``."""
    text = (ROOT / "README.md").read_text().split(f"\n### {heading}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", text, re.DOTALL)[1]


def test_the_readmes_new_objective_example_registers_and_trains_it(tmp_path, monkeypatch):
    """The README's worked example runs as printed; only its training is shrunk to a few tiny steps here."""
    code = _readme_code("A new objective")
    runs = []

    def tiny_train(cfg, run_dir):
        small = tiny("dcgan").override({"loss.objective": cfg.loss.objective})
        runs.append((cfg, tmp_path / run_dir))
        return real_train(small, tmp_path / run_dir, echo=False)

    real_train, known = gankit.train, set(OBJECTIVES)
    monkeypatch.setattr(gankit, "train", tiny_train)
    try:
        exec(compile(code, "README.md", "exec"), {})
        [(cfg, run)] = runs
        objective = OBJECTIVES.lookup(cfg.loss.objective)
        # one-sided label smoothing: a confident D (logit 10 on real data) still pays about 0.1·10 on real data
        loss = objective.d_loss(torch.full((4,), 10.0), torch.full((4,), -10.0)).item()
        assert 0.99 < loss < 1.01
        assert json.loads((run / "config.json").read_text())["loss"]["objective"] == cfg.loss.objective
        records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert records and all(math.isfinite(r["d_loss"]) for r in records)
    finally:
        for name in set(OBJECTIVES) - known:  # the example's objective is no other test's
            del OBJECTIVES[name]


@pytest.mark.parametrize("heading", ["Quick start", "Next steps"])
def test_the_readmes_first_sections_fit_a_screen(heading):
    assert len(_section((ROOT / "README.md").read_text(), heading).splitlines()) <= 40
