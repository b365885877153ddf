import math

import pytest
import torch

from gankit import losses as L


def logit(p: float) -> torch.Tensor:
    return torch.tensor([math.log(p / (1 - p))])


def test_minimax_value_at_equilibrium_is_minus_log_4():
    zero = torch.zeros(8)
    assert L.minimax_value(zero, zero).item() == pytest.approx(-math.log(4), abs=1e-6)
    assert L.minimax_d_loss(zero, zero).item() == pytest.approx(math.log(4), abs=1e-6)


def test_minimax_losses_match_probabilities():
    real, fake = logit(0.8), logit(0.3)
    assert L.minimax_d_loss(real, fake).item() == pytest.approx(-math.log(0.8) - math.log(0.7), rel=1e-6)
    assert L.minimax_g_loss(fake).item() == pytest.approx(math.log(0.7), rel=1e-6)
    assert L.nonsaturating_g_loss(fake).item() == pytest.approx(-math.log(0.3), rel=1e-6)


def test_minimax_g_loss_saturates_and_nonsaturating_does_not():
    """At a confidently rejected fake (D(G(z)) ≈ 4.5e-5) the saturating loss has almost no gradient."""
    fake = torch.tensor([-10.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(L.minimax_g_loss(fake), fake)
    (g_ns,) = torch.autograd.grad(L.nonsaturating_g_loss(fake), fake)
    sigma = 1 / (1 + math.exp(10))
    assert g_sat.item() == pytest.approx(-sigma, rel=1e-5)
    assert g_ns.item() == pytest.approx(-(1 - sigma), rel=1e-5)


def test_bce_losses_are_stable_for_extreme_logits():
    big = torch.tensor([100.0])
    assert L.minimax_d_loss(big, -big).item() == pytest.approx(0.0, abs=1e-6)
    assert L.minimax_d_loss(-big, big).item() == pytest.approx(200.0, rel=1e-6)
    assert L.nonsaturating_g_loss(-big).item() == pytest.approx(100.0, rel=1e-6)
    assert L.minimax_g_loss(big).item() == pytest.approx(-100.0, rel=1e-6)


def test_least_squares():
    real, fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5])
    assert L.least_squares_d_loss(real, fake).item() == pytest.approx(0.125, abs=1e-7)
    assert L.least_squares_g_loss(fake).item() == pytest.approx(0.3125, abs=1e-7)


def test_hinge():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    assert L.hinge_d_loss(real, fake).item() == pytest.approx(1.0, abs=1e-7)
    assert L.hinge_g_loss(fake).item() == pytest.approx(0.75, abs=1e-7)


def test_wasserstein():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert L.wasserstein_d_loss(real, fake).item() == pytest.approx(-3.0, abs=1e-7)
    assert L.wasserstein_g_loss(fake).item() == pytest.approx(1.0, abs=1e-7)


def test_registry_pairs_each_objective_with_its_generator_loss():
    assert L.OBJECTIVES["minimax"].g_loss is L.minimax_g_loss
    assert L.OBJECTIVES["nonsaturating"].g_loss is L.nonsaturating_g_loss
    assert L.OBJECTIVES["minimax"].d_loss is L.OBJECTIVES["nonsaturating"].d_loss is L.minimax_d_loss
    assert set(L.OBJECTIVES) == {"minimax", "nonsaturating", "least-squares", "hinge", "wasserstein"}
    with pytest.raises(ValueError, match="unknown objective 'lsgan'"):
        L.get_objective("lsgan")
