import math

import numpy as np
import pytest

from gankit import divergences as dv


def test_discrete_kl_and_js_hand_values():
    p, q = [0.5, 0.5], [0.25, 0.75]
    assert dv.kl_discrete(p, q) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3), rel=1e-12)
    assert dv.kl_discrete(p, p) == 0.0
    assert dv.kl_discrete([1, 0], [0, 1]) == math.inf
    assert dv.js_discrete([1, 0], [0, 1]) == pytest.approx(math.log(2), rel=1e-12)
    m = [0.375, 0.625]
    expected = 0.5 * dv.kl_discrete(p, m) + 0.5 * dv.kl_discrete(q, m)
    assert dv.js_discrete(p, q) == pytest.approx(expected, rel=1e-12)
    assert dv.js_discrete([2, 2], [1, 3]) == pytest.approx(dv.js_discrete(p, q), rel=1e-12)  # unnormalised ok


def test_bad_histograms():
    with pytest.raises(ValueError, match="non-negative"):
        dv.kl_discrete([1, -1], [1, 1])


def test_wasserstein_of_samples():
    assert dv.wasserstein1_1d([0, 1, 2], [1, 2, 3]) == pytest.approx(1.0)
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    y = np.array([[1.0, 1.0], [0.0, 1.0]])  # optimal: each point moves up by 1
    assert dv.wasserstein_samples(x, y) == pytest.approx(1.0)
    assert dv.wasserstein_samples(x, x + np.array([3.0, 4.0]), p=2) == pytest.approx(5.0)


def test_gaussians_closed_forms():
    assert dv.kl_gaussian(0, 1, 0, 1) == 0.0
    assert dv.kl_gaussian(1, 1, 0, 1) == pytest.approx(0.5)
    assert dv.kl_gaussian(0, 1, 0, 2) == pytest.approx(math.log(2) + 1 / 8 - 0.5)
    assert dv.w2_gaussian(0, 1, 3, 5) == pytest.approx(5.0)
    assert dv.js_gaussian(0, 1, 0, 1) == pytest.approx(0.0, abs=1e-12)
    assert dv.js_gaussian(0, 1, 60, 1) == pytest.approx(math.log(2), abs=1e-6)  # disjoint in practice
    # symmetric and below log 2
    a, b = dv.js_gaussian(0, 1, 1, 2), dv.js_gaussian(1, 2, 0, 1)
    assert a == pytest.approx(b, rel=1e-9) and 0 < a < math.log(2)


def test_wasserstein_1d_of_gaussian_samples_matches_w1_closed_form():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1, 200_000), rng.normal(2, 1, 200_000)  # equal σ: W1 = |μ1 − μ2|
    assert dv.wasserstein1_1d(x, y) == pytest.approx(2.0, abs=0.02)
