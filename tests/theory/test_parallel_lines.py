import math

import numpy as np
import pytest

from gankit.theory.parallel_lines import critic_estimate, divergences_demo, sample_divergences, saturation_curves


@pytest.mark.parametrize("theta", [-1.0, -0.3, 0.05, 0.5, 1.0])
def test_js_is_log_2_kl_infinite_and_w_is_abs_theta_away_from_zero(theta):
    d = sample_divergences(theta)
    assert d["js"] == pytest.approx(math.log(2), abs=1e-12)
    assert d["kl"] == math.inf
    assert d["w1"] == pytest.approx(abs(theta), abs=1e-9)


def test_all_vanish_at_theta_zero():
    assert sample_divergences(0.0) == {"kl": 0.0, "js": 0.0, "w1": 0.0}


@pytest.mark.slow
@pytest.mark.parametrize("theta", [0.0, 0.5, 1.0])
def test_a_wgan_gp_critic_estimates_w1(theta):
    assert critic_estimate(theta, steps=250) == pytest.approx(abs(theta), abs=0.1)


def test_minimax_g_loss_saturates_where_nonsaturating_does_not():
    curves = saturation_curves(np.array([-8.0, 0.0, 8.0]))
    sigma = 1 / (1 + math.exp(8))
    np.testing.assert_allclose(curves["minimax"], [-sigma, -0.5, -(1 - sigma)], rtol=1e-5)
    np.testing.assert_allclose(curves["nonsaturating"], [-(1 - sigma), -0.5, -sigma], rtol=1e-5)


@pytest.mark.slow  # trains a critic and draws the figure; the fast lane keeps the closed forms above
def test_demo(tmp_path):
    out = divergences_demo(tmp_path, critic_steps=50)
    assert (tmp_path / "divergences.png").is_file()
    assert out["js"][len(out["js"]) // 2] == 0.0 and max(out["js"]) == pytest.approx(math.log(2))
