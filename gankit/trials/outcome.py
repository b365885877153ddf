"""How a trial ended, as ``RUN/trials.jsonl`` records it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from gankit.store.layout import RunPaths, ended_trials


@dataclass(frozen=True)
class Outcome:
    """How one trial ended: ``done`` (reached its budget) or ``diverged`` (at ``step``), and how it trained:
    ``mode`` is ``vectorised`` (together with other trials as one model) or ``sequential`` (on its own); empty for
    a trial skipped as diverged in an earlier call."""

    trial: int
    seed: int
    status: str
    step: int
    message: str = ""
    mode: str = ""

    def record(self) -> dict[str, object]:
        record = {"step": self.step, "trial": self.trial, "seed": self.seed, "status": self.status}
        return record | {k: v for k, v in (("mode", self.mode), ("message", self.message)) if v}


def diverged_trials(paths: RunPaths) -> dict[int, int]:
    """Trials recorded as diverged in ``RUN/trials.jsonl``: trial → the step it diverged at."""
    return {k: r["step"] for k, r in ended_trials(paths).items() if r["status"] == "diverged"}


def record_outcome(paths: RunPaths, outcome: Outcome) -> None:
    """Append ``outcome`` to ``RUN/trials.jsonl`` (one line; a line a crash cut off is skipped on reading), unless
    it repeats the trial's last record (a finished run resumed: its trials end again at the same step)."""
    if ended_trials(paths).get(outcome.trial) == outcome.record():
        return
    with open(paths.trials, "a") as f:
        f.write(json.dumps(outcome.record()) + "\n")
