"""The spread of a number over trials (``gankit.metrics.spread``)."""

import math

import pytest

from gankit.metrics.spread import format_spread, numbers, spread, spreads


def test_spread_is_the_mean_and_its_standard_error():
    s = spread([1.0, 2.0, 3.0, 4.0])
    assert s["mean"] == pytest.approx(2.5, rel=1e-12, abs=0)
    assert s["se"] == pytest.approx(math.sqrt(5 / 3) / 2, rel=1e-12, abs=0)  # sample sd / √n
    assert (s["min"], s["max"], s["n"], s["nonfinite"]) == (1.0, 4.0, 4, 0)


def test_one_trial_has_no_standard_error_and_non_finite_values_are_counted_apart():
    assert spread([3.0])["se"] is None
    s = spread([1.0, float("nan"), 3.0, float("inf")])
    assert (s["n"], s["nonfinite"], s["mean"]) == (2, 2, 2.0)
    assert spread([float("nan")])["mean"] is None
    assert format_spread(spread([float("nan")])) == "no finite value (1 non-finite)"
    assert format_spread(spread([1.0, 3.0])) == "2 ± 1 (min 1, max 3, n 2)"


def test_nested_results_spread_leaf_by_leaf():
    rows = [
        {"fid": 10.0, "modes": {"covered": 8, "counts": [1, 2]}, "name": "x"},
        {"fid": 14.0, "modes": {"covered": 10}},
    ]
    assert numbers(rows[0]) == {"fid": 10.0, "modes.covered": 8.0}
    out = spreads(rows)
    assert list(out) == ["fid", "modes.covered"]
    assert (out["fid"]["mean"], out["modes.covered"]["min"], out["modes.covered"]["max"]) == (12.0, 8.0, 10.0)
