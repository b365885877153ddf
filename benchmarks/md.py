"""Markdown for the benchmark scripts: tables, marked sections of a shared page, code blocks, numbers.

Every script that writes Markdown (a page, a section of one, or a table on stdout) writes it with these, so that
the layout of a table or a section is decided in one place. Standard library only: the kill-trials zygote and
eval_speed.py's child processes import it beside an older gankit.

Named ``md``, not ``markdown``: ``python benchmarks/NAME.py`` puts benchmarks/ first on ``sys.path``, where a
``markdown.py`` would hide the ``markdown`` package (a dependency of tensorboard) from everything the script imports.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

ALIGN = {"l": "---", "r": "---:"}  # a column's rule by its letter: left or right aligned


# ----------------------------------------------------------------------------------------------- tables


def row(cells: Iterable[object]) -> str:
    """One table line: ``| a | b |`` (an empty cell: ``|  |``)."""
    return "| " + " | ".join(map(str, cells)) + " |"


def header_row(cells: Iterable[object]) -> str:
    """A table's header line: a row, but a blank cell (the corner above a column of row names) is ``| |``."""
    return "|" + "|".join(f" {text} " if text else " " for text in map(str, cells)) + "|"


def rule(align: str) -> str:
    """The line under a table's header, a column per letter of ``align`` (``l`` left, ``r`` right):
    ``rule("lr")`` is ``|---|---:|``."""
    if set(align) - set(ALIGN):
        raise ValueError(f"align {align!r}: a letter per column, l (left) or r (right)")
    return "|" + "".join(ALIGN[a] + "|" for a in align)


def table(header: Sequence[object], align: str, rows: Iterable[Sequence[object]] = ()) -> list[str]:
    """A table's lines: the header (``header_row``), its rule (``align``: see ``rule``), then a line per row."""
    if len(align) != len(header):
        raise ValueError(f"align {align!r} for {len(header)} columns")
    lines = [header_row(header), rule(align)]
    for cells in rows:
        if len(cells) != len(header):
            raise ValueError(f"a row of {len(cells)} cells in a table of {len(header)} columns: {cells}")
        lines.append(row(cells))
    return lines


def image(alt: str, path: str) -> str:
    """An image: ``![alt](path)``."""
    return f"![{alt}]({path})"


def code_block(text: str, language: str = "bash") -> list[str]:
    """A fenced code block's lines (the command that produced a page, in the page)."""
    return [f"```{language}", text, "```"]


# ----------------------------------------------------------------------------------------------- numbers


def mean_spread(values: Sequence[float], digits: int = 2, standard_error: bool = False) -> str:
    """Mean ± standard deviation over seeds (with ``standard_error``: ± s / √n, as PacGAN reports trials); one
    value alone; none: "–"."""
    if len(values) < 2:
        return f"{values[0]:.{digits}f}" if values else "–"
    spread = statistics.stdev(values) / (math.sqrt(len(values)) if standard_error else 1.0)
    return f"{statistics.mean(values):.{digits}f} ± {spread:.{digits}f}"


def mean_se(values: Sequence[float], digits: int) -> str:
    """Mean ± standard error (s / √n) over trials, as PacGAN reports them; a single value alone."""
    return mean_spread(values, digits, standard_error=True)


def mean_sd(values: Sequence[float], digits: int) -> str:
    """Mean ± standard deviation, both always (± 0 for a single value); at least one value."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {spread:.{digits}f}"


def span(values: Iterable[float], fmt: str = "d") -> str:
    """The range of ``values`` as "a–b" (each formatted with ``fmt``), or "a" when both ends read the same."""
    values = list(values)
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low}–{high}"


def joined(values: Iterable[float | None], fmt: str) -> str:
    """Values in one cell, "a · b · c" (each formatted with ``fmt``), a missing one (None) as "–"."""
    return " · ".join("–" if v is None else format(v, fmt) for v in values)


# ----------------------------------------------------------------------------------------------- sections


def markers(name: str) -> tuple[str, str]:
    """The comments that open and close section ``name`` of a page."""
    return f"<!-- {name}: begin -->", f"<!-- {name}: end -->"


def marked_sections(text: str) -> list[str]:
    """The marked sections of a Markdown text (markers included), in order."""
    return [m.group(0) for m in re.finditer(r"<!-- ([\w-]+): begin -->.*?<!-- \1: end -->", text, flags=re.S)]


def write_section(path: Path, name: str, body: str) -> None:
    """Put ``body`` into the section ``name`` of the Markdown file ``path``, replacing it or appending it."""
    begin, end = markers(name)
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.is_file() else ""
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), flags=re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + ("\n\n" if text.strip() else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def publish(text: str, doc: str | Path | None, section: str) -> None:
    """Print a benchmark's Markdown ``text`` and, given a ``doc`` page, put it in that page's marked ``section``."""
    print(text, flush=True)
    if doc:
        write_section(Path(doc), section, text)
        print(f"wrote {doc}", flush=True)


def write_page(path: Path, text: str) -> None:
    """Write the page ``path`` as ``text``, keeping the marked sections it already holds (other scripts' tables
    and hand-written notes) after it."""
    kept = marked_sections(path.read_text()) if path.is_file() else []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join([text.rstrip(), *kept]) + "\n")
