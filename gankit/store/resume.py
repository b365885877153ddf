"""What a resumed run may change of its config, and its JSON-lines logs cut back to the step it resumes from.

A resumed run keeps its config, except the fields in ``RESUMABLE_FIELDS``. Records that its logs
(``metrics.jsonl``, ``fid.jsonl``) hold after the checkpoint it resumes from are dropped, and so is a last
line that a crash cut off; a damaged line stops the resume before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit.config import Config, field_facts
from gankit.errors import CheckpointError, ConfigError
from gankit.store.jsonfiles import JsonLines, read_jsonl
from gankit.store.layout import read_config
from gankit.store.logfile import RunLog
from gankit.store.outputs import write_atomic

# Fields a resumed run may change (declared ``resumable`` in gankit.config): the budget, the schedule of
# logs/grids/checkpoints, where the data is.
RESUMABLE_FIELDS = {path for path, facts in field_facts().items() if facts.resumable}


def resume_config(run_dir: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """The saved config of a run with the allowed ``overrides`` (see ``RESUMABLE_FIELDS``) applied, as if
    ``config.json`` had been edited by hand.

    A new ``train.steps`` without a ``train.time_budget`` clears a saved budget: the run trains to those steps.
    """
    overrides = dict(overrides or {})
    refused = sorted(set(overrides) - RESUMABLE_FIELDS)
    if refused:
        raise ConfigError(
            f"a resumed run keeps its config; cannot change {', '.join(refused)}. "
            f"Fields that may change: {', '.join(sorted(RESUMABLE_FIELDS))}"
        )
    if "train.steps" in overrides:
        overrides.setdefault("train.time_budget", None)
    return read_config(run_dir).override(overrides)


def config_changes(before: Config, after: Config) -> dict[str, tuple[Any, Any]]:
    """``(old, new)`` of each field whose value differs between ``before`` and ``after``, by dotted name."""
    old, new = before.flat(), after.flat()
    return {path: (old[path], new[path]) for path in new if old[path] != new[path]}


@dataclass
class LogTail:
    """A JSON-lines log of the run cut back to the records up to a step (applied when the run opens)."""

    path: Path
    texts: list[str]
    torn: str | None
    changed: bool

    @classmethod
    def plan(cls, path: Path, step: int) -> LogTail:
        """Read ``path`` now (a clear error for a damaged line, before anything is written)."""
        lines: JsonLines = read_jsonl(path)
        if lines.bad:
            n, problem = lines.bad[0]
            raise CheckpointError(
                f"cannot resume: {path} line {n} {problem}; nothing was changed. Delete or repair that line "
                f"({len(lines.bad)} bad line(s) in all), then resume again"
            )
        texts = [t for t, r in zip(lines.texts, lines.records, strict=True) if r["step"] <= step]
        return cls(path, texts, lines.torn, len(texts) != len(lines.records) or lines.torn is not None)

    def apply(self, log: RunLog) -> None:
        if self.torn is not None:
            log(f"{self.path.name}: dropped its last line, cut off by a crash: {self.torn[:60]!r}")
        if self.changed:
            write_atomic(self.path, "".join(t + "\n" for t in self.texts), fsync=True)
