"""How trials train (``gankit.trials.mode``): refusals with their reason, and ``auto`` by a cached probe."""

from __future__ import annotations

import pytest

from gankit.errors import ConfigError
from gankit.trials import mode
from tests.helpers import tiny


class Log(list):
    def __call__(self, line: str) -> None:
        self.append(line)


def cfg(**overrides):
    return tiny("pacgan-2d", **{"train.trials": 3} | overrides)


def test_what_cannot_be_played_together_trains_one_after_another_or_is_refused_when_asked(monkeypatch):
    monkeypatch.setattr(mode, "probe", lambda *a, **k: pytest.fail("no probe for a refused config"))
    log = Log()
    assert mode.choose_mode(cfg(**{"train.time_budget": 10}), [0, 1, 2], log) == "sequential"
    assert log == ["trials one after another: train.time_budget is each trial's own budget"]
    with pytest.raises(ConfigError, match="train.trials_mode=vectorised: precision bf16"):
        mode.choose_mode(cfg(**{"train.trials_mode": "vectorised", "train.precision": "bf16"}), [0, 1, 2], log)
    assert mode.choose_mode(cfg(**{"train.trials_mode": "sequential"}), [0, 1, 2], log) == "sequential"
    assert mode.choose_mode(cfg(), [2], log) == "sequential"  # one trial left: nothing to play together


@pytest.mark.parametrize("timings, chosen", [((1.0, 0.5), "vectorised"), ((1.0, 0.95), "sequential")])
def test_auto_plays_together_only_where_measured_faster_and_caches_the_probe(monkeypatch, tmp_path, timings, chosen):
    monkeypatch.setenv("GANKIT_CACHE_DIR", str(tmp_path))
    probes = []
    monkeypatch.setattr(mode, "probe", lambda cfgs, steps, log, in_turn: probes.append(len(cfgs)) or timings)
    log = Log()
    assert mode.choose_mode(cfg(), [0, 1, 2], log) == chosen
    assert probes == [3] and f"({timings[0] / timings[1]:.2f}×)" in log[-1] and log[-1].endswith(chosen)
    assert mode.choose_mode(cfg(**{"train.steps": 99, "train.seed": 5}), [0, 1, 2], log) == chosen
    assert probes == [3]  # cached: the steps and seeds do not change a step's speed
    assert "cached" in log[-2]
    mode.choose_mode(cfg(**{"train.batch_size": 8}), [0, 1, 2], log)
    assert probes == [3, 3]  # the batch does


def test_a_damaged_probe_cache_counts_as_empty(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_CACHE_DIR", str(tmp_path))
    (tmp_path / "trials-probes.json").write_text('{"x": {"sequential_s": "fast"}')
    monkeypatch.setattr(mode, "probe", lambda cfgs, steps, log, in_turn: (1.0, 0.5))
    assert mode.choose_mode(cfg(), [0, 1], Log()) == "vectorised"


@pytest.mark.parametrize("free_for, in_turn", [(None, True), (3, False)])
def test_the_probe_times_the_modes_in_turn_where_memory_holds_both(monkeypatch, tmp_path, free_for, in_turn):
    """Both modes' trials at once (2n) for timing in turn; where only n fit, one mode after the other."""
    monkeypatch.setenv("GANKIT_CACHE_DIR", str(tmp_path))
    asked = []
    monkeypatch.setattr(mode, "probe", lambda cfgs, steps, log, turn: asked.append(turn) or (1.0, 0.5))
    monkeypatch.setattr(mode, "memory_room", lambda c: mode.MemoryRoom(per_trial=1, free=free_for, device="cpu"))
    assert mode.choose_mode(cfg(), [0, 1, 2], Log()) == "vectorised" and asked == [in_turn]


def test_trials_that_cannot_be_held_at_once_are_refused_with_the_largest_number_that_fits(monkeypatch):
    per_trial = mode.memory_room(cfg()).refusal(1)
    assert per_trial is None  # one tiny trial fits anywhere
    monkeypatch.setattr(mode, "device_memory", lambda device: 10**6)
    reason = mode.memory_room(cfg()).refusal(1000)
    assert reason.startswith("1000 trials together would need about") and "at most" in reason
    fits = int(reason.rsplit("at most ", 1)[1].split()[0])
    assert mode.memory_room(cfg()).refusal(fits) is None and mode.memory_room(cfg()).refusal(fits + 1) is not None
    with pytest.raises(ConfigError, match="train.trials_mode=vectorised: 1000 trials together would need"):
        mode.choose_mode(cfg(**{"train.trials_mode": "vectorised"}), list(range(1000)), Log())
