"""The run's JSON files, read as untrusted input and written so that a crash leaves the old file or the new.

:func:`read_json` and :func:`parse_json` turn any bad content (not UTF-8, not JSON, nested deeper than
``MAX_DEPTH``) into a :class:`~gankit.errors.CheckpointError` that names the file, never a
``RecursionError``. :func:`read_jsonl` reads a JSON-lines log (``metrics.jsonl``, ``fid.jsonl``) and
sorts its lines into records, bad lines and a last line cut off by a crash. (They are written by
:func:`gankit.store.outputs.write_atomic` with ``fsync=True``.)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.errors import CheckpointError

MAX_DEPTH = 64  # no file gankit writes nests deeper than about 8


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep lists and dicts nest in ``value`` (without recursion), counting at most to ``limit + 1``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_json(text: str | bytes, where: str) -> Any:
    """JSON from ``text``; a CheckpointError naming ``where`` if it is not UTF-8, not JSON or too deep."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CheckpointError(f"{where} is not UTF-8 text (byte {e.start})") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise CheckpointError(f"{where} nests lists or objects more than {MAX_DEPTH} deep") from None
    except ValueError as e:
        raise CheckpointError(f"{where} is not JSON ({e})") from None
    if nesting_depth(value) > MAX_DEPTH:
        raise CheckpointError(f"{where} nests lists or objects more than {MAX_DEPTH} deep")
    return value


def read_json(path: Path) -> Any:
    """The JSON value in the file ``path`` (see :func:`parse_json`)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from None
    return parse_json(data, str(path))


@dataclass
class JsonLines:
    """A JSON-lines log, sorted: records (JSON objects with an integer ``step``), each with its line's text;
    bad lines (line number, what is wrong); and ``torn``, the text of a last line a crash cut off."""

    records: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    torn: str | None = None


MAX_INT = 2**63  # integers in a record beyond this are no count gankit writes (and overflow a float)


def _record_problem(line: bytes) -> tuple[dict[str, Any] | None, str]:
    try:
        record = parse_json(line, "")
    except CheckpointError as e:
        return None, str(e).strip()
    if not isinstance(record, dict):
        return None, f"is a JSON {type(record).__name__}, not an object"
    step = record.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        return None, f"has no non-negative integer 'step' (got {str(step)[:20]})"
    if any(isinstance(v, int) and abs(v) >= MAX_INT for v in record.values()):
        return None, "holds an integer too large to be a count"
    return record, ""


def read_jsonl(path: Path) -> JsonLines:
    """The lines of ``path`` (an empty log if there is no file)."""
    log = JsonLines()
    if not path.is_file():
        return log
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from None
    lines = data.split(b"\n")
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record, problem = _record_problem(line)
        if record is not None:
            log.records.append(record)
            log.texts.append(line.decode("utf-8"))
        elif n == len(lines):  # no newline after it: cut off while being written
            log.torn = line.decode("utf-8", errors="replace")
        else:
            log.bad.append((n, problem))
    return log


def fsync_dir(path: Path) -> None:
    """Make the names in folder ``path`` (creations, renames, removals) survive a power loss."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
