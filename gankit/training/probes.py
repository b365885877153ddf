"""Cached speed probes: timings that choose a setting (precision, how trials train) measured once per machine.

A probe times a few steps of a run's networks two ways; its timings are kept in a JSON file in gankit's cache
folder (:func:`~gankit.metrics.feature_cache.default_cache_dir`: ``$GANKIT_CACHE_DIR``, default
``~/.cache/gankit/features``), under a key hashed from everything the timings depend on (:func:`facts_key`:
the settings that change a step's speed and the machine, which :func:`~gankit.device.describe_machine` names
with its CPU model, instruction set, threads and torch version). A damaged or unreadable cache counts as empty.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit.errors import GankitError
from gankit.metrics.feature_cache import default_cache_dir
from gankit.store.jsonfiles import parse_json
from gankit.store.outputs import write_atomic


def interleaved_seconds(
    steps: Sequence[Callable[[], object]],
    rounds: int,
    budget_s: float = float("inf"),
    sync: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Seconds of one call of each of ``steps``: one warm-up call each, then up to ``rounds`` timed calls of each
    taken in turn (a, b, a, b, …; a step stops being timed once its timed calls add up to ``budget_s``, after at
    least one), and of each step its fastest call.

    Timing in turn, and the fastest call, make two ways comparable on a machine that other work shares: load that
    comes or goes during the probe falls on both alike, and the fastest call is the least disturbed one (timing
    one way after the other once chose the slower way when a test suite started halfway through). ``sync`` waits
    for queued device work (a GPU's).
    """
    for step in steps:
        step()
    sync()
    times: list[list[float]] = [[] for _ in steps]
    while True:
        timing = [k for k, t in enumerate(times) if len(t) < rounds and (not t or sum(t) < budget_s)]
        if not timing:
            return [min(t) for t in times]
        for k in timing:
            start = clock()
            steps[k]()
            sync()
            times[k].append(clock() - start)


def facts_key(facts: dict[str, Any]) -> str:
    """A short hash of ``facts`` (JSON-serialisable): equal facts, equal keys."""
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ProbeCache:
    """The probes of one kind, in ``name`` in the cache folder; each entry holds the positive timings ``fields``."""

    name: str
    fields: tuple[str, ...]

    @property
    def path(self) -> Path:
        return default_cache_dir() / self.name

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry cached under ``key`` (None if there is none, or it is damaged)."""
        return self._read().get(key)

    def put(self, key: str, entry: dict[str, Any], log: Callable[[str], None]) -> None:
        """Cache ``entry`` under ``key``; a cache that cannot be written is logged, and the probe runs again."""
        cached = self._read() | {key: entry}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(cached, indent=1), fsync=True)
        except (OSError, GankitError) as e:
            log(f"could not cache the speed probe in {self.path} ({e.strerror or e}); it runs again next time")

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            cached = parse_json(self.path.read_bytes(), str(self.path))
        except (OSError, GankitError):
            return {}
        if not isinstance(cached, dict):
            return {}
        return {key: value for key, value in cached.items() if self._valid(value)}

    def _valid(self, value: object) -> bool:
        return isinstance(value, dict) and all(isinstance(value.get(k), float) and value[k] > 0 for k in self.fields)
