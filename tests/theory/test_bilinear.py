import math

import numpy as np
import pytest

from gankit.theory.bilinear import bilinear_demo, run_bilinear, spectral_radius, update_matrix


@pytest.mark.parametrize("eta", [0.05, 0.2])
def test_simultaneous_steps_grow_the_norm_by_sqrt_1_plus_eta2(eta):
    path = run_bilinear("simultaneous", eta, steps=30)
    ratios = np.linalg.norm(path[1:], axis=1) / np.linalg.norm(path[:-1], axis=1)
    np.testing.assert_allclose(ratios, math.sqrt(1 + eta**2), rtol=1e-12)


@pytest.mark.parametrize("eta", [0.05, 0.2])
def test_extragradient_shrinks_the_norm_by_sqrt_1_minus_eta2_plus_eta4(eta):
    path = run_bilinear("extragradient", eta, steps=30)
    ratios = np.linalg.norm(path[1:], axis=1) / np.linalg.norm(path[:-1], axis=1)
    np.testing.assert_allclose(ratios, math.sqrt(1 - eta**2 + eta**4), rtol=1e-12)


@pytest.mark.slow  # 2,000 steps; the fast lane checks alternating steps against their closed-form map
def test_alternating_circles_without_diverging_or_converging():
    path = run_bilinear("alternating", 0.1, steps=2000)
    norms = np.linalg.norm(path, axis=1)
    assert norms.max() < 1.06 and norms.min() > 0.94
    assert spectral_radius("alternating", 0.1) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("eta", [0.05, 0.1, 0.3])
def test_optimistic_converges_for_small_steps(eta):
    path = run_bilinear("optimistic", eta, steps=1500)  # η = 0.05 ends at 0.024 (its spectral radius: 0.9975)
    assert np.linalg.norm(path[-1]) < 0.05
    assert spectral_radius("optimistic", eta) < 1


@pytest.mark.parametrize("scheme", ["simultaneous", "alternating", "extragradient"])
def test_the_schemes_are_exactly_their_closed_form_maps(scheme):
    path = run_bilinear(scheme, 0.15, steps=40)
    matrix = update_matrix(scheme, 0.15)
    predicted = [np.array([1.0, 0.0])]
    for _ in range(40):
        predicted.append(matrix @ predicted[-1])
    np.testing.assert_allclose(path, np.array(predicted), atol=1e-12)


def test_optimistic_is_its_closed_form_map_after_the_first_step():
    eta = 0.15
    path = run_bilinear("optimistic", eta, steps=40)
    # the first step is a plain alternating step; the state then holds the last raw steps Δx, Δy
    state = np.array([path[1, 0], path[1, 1], -eta * path[1, 1], eta * path[0, 0]])
    for t in range(2, 41):
        state = update_matrix("optimistic", eta) @ state
        np.testing.assert_allclose(state[:2], path[t], atol=1e-12)


def test_eigenvalues_of_simultaneous_steps_are_one_plus_minus_i_eta():
    eig = np.sort_complex(np.linalg.eigvals(update_matrix("simultaneous", 0.3)))
    np.testing.assert_allclose(eig, [1 - 0.3j, 1 + 0.3j], atol=1e-12)


def test_demo_writes_the_figure_and_numbers(tmp_path):
    results = bilinear_demo(tmp_path, eta=0.1, steps=50)
    assert (tmp_path / "bilinear.png").stat().st_size > 10_000
    assert results["simultaneous"]["norm_ratio_per_step"] == pytest.approx(math.sqrt(1.01), rel=1e-9)
    assert results["extragradient"]["final_norm"] < 1 < results["simultaneous"]["final_norm"]
