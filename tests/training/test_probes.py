"""The speed probes' timing rule: ways timed in turn, the fastest call of each (``interleaved_seconds``)."""

from __future__ import annotations

import pytest

from gankit.training.probes import interleaved_seconds


class FakeMachine:
    """A clock and steps that advance it: step ``name`` costs ``cost[name]`` seconds, times ``load`` while the
    machine is busy (the ``busy`` calls, counted over all steps); every call is recorded."""

    def __init__(self, cost: dict[str, float], busy: range = range(0), load: float = 10.0) -> None:
        self.now, self.cost, self.busy, self.load, self.calls = 0.0, cost, busy, load, []

    def clock(self) -> float:
        return self.now

    def step(self, name: str):
        def call() -> None:
            factor = self.load if len(self.calls) in self.busy else 1.0
            self.calls.append(name)
            self.now += self.cost[name] * factor

        return call


def test_ways_are_timed_in_turn_after_one_warm_up_each_and_the_fastest_call_counts():
    m = FakeMachine({"a": 2.0, "b": 1.0}, busy=range(4, 6))  # the first timed round is slowed ten times
    a, b = interleaved_seconds([m.step("a"), m.step("b")], rounds=3, clock=m.clock)
    assert m.calls == ["a", "b", "a", "b", "a", "b", "a", "b"]  # warm-ups, then a, b in turn
    assert (a, b) == pytest.approx((2.0, 1.0), rel=1e-12)


def test_load_that_starts_halfway_no_longer_decides_the_choice():
    """Timed one way after the other, load starting after the first way made the faster way look 5× slower
    (the bug this rule fixes); in turn, each way keeps an undisturbed call."""
    m = FakeMachine({"one after another": 1.0, "together": 0.7}, busy=range(5, 100))
    first, second = interleaved_seconds([m.step("one after another"), m.step("together")], 3, clock=m.clock)
    assert second < first and (first, second) == pytest.approx((1.0, 0.7), rel=1e-12)


def test_a_slow_way_stops_being_timed_at_its_budget_but_is_timed_once():
    m = FakeMachine({"fp32": 0.1, "bf16": 2.0})
    fp32, bf16 = interleaved_seconds([m.step("fp32"), m.step("bf16")], rounds=3, budget_s=0.5, clock=m.clock)
    assert m.calls.count("bf16") == 2 and m.calls.count("fp32") == 4  # warm-up + 1 timed; warm-up + 3 timed
    assert (fp32, bf16) == pytest.approx((0.1, 2.0), rel=1e-12)
