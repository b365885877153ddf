"""What the README and docs/ say agrees with the code and with itself."""

import re
from pathlib import Path

from gankit.data.load import DATASETS

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


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
