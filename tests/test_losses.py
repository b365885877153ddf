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
    assert L.minimax_g_loss(None, fake).item() == pytest.approx(math.log(0.7), rel=1e-6)
    assert L.nonsaturating_g_loss(None, fake).item() == pytest.approx(-math.log(0.3), rel=1e-6)


def test_minimax_g_loss_saturates_and_nonsaturating_does_not():
    """At a confidently rejected fake (D(G(z)) ≈ 4.5e-5) the saturating loss has almost no gradient."""
    fake = torch.tensor([-10.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(L.minimax_g_loss(None, fake), fake)
    (g_ns,) = torch.autograd.grad(L.nonsaturating_g_loss(None, fake), fake)
    sigma = 1 / (1 + math.exp(10))
    assert g_sat.item() == pytest.approx(-sigma, rel=1e-5)
    assert g_ns.item() == pytest.approx(-(1 - sigma), rel=1e-5)


def test_bce_losses_are_stable_for_extreme_logits():
    big = torch.tensor([100.0])
    assert L.minimax_d_loss(big, -big).item() == pytest.approx(0.0, abs=1e-6)
    assert L.minimax_d_loss(-big, big).item() == pytest.approx(200.0, rel=1e-6)
    assert L.nonsaturating_g_loss(None, -big).item() == pytest.approx(100.0, rel=1e-6)
    assert L.minimax_g_loss(None, big).item() == pytest.approx(-100.0, rel=1e-6)


def test_least_squares():
    real, fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5])
    assert L.least_squares_d_loss(real, fake).item() == pytest.approx(0.125, abs=1e-7)
    assert L.least_squares_g_loss(None, fake).item() == pytest.approx(0.3125, abs=1e-7)


def test_hinge():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    assert L.hinge_d_loss(real, fake).item() == pytest.approx(1.0, abs=1e-7)
    assert L.hinge_g_loss(None, fake).item() == pytest.approx(0.75, abs=1e-7)


def test_wasserstein():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert L.wasserstein_d_loss(real, fake).item() == pytest.approx(-3.0, abs=1e-7)
    assert L.wasserstein_g_loss(None, fake).item() == pytest.approx(1.0, abs=1e-7)


def test_registry_pairs_each_objective_with_its_generator_loss():
    assert L.OBJECTIVES["minimax"].g_loss is L.minimax_g_loss
    assert L.OBJECTIVES["nonsaturating"].g_loss is L.nonsaturating_g_loss
    assert L.OBJECTIVES["minimax"].d_loss is L.OBJECTIVES["nonsaturating"].d_loss is L.minimax_d_loss
    assert set(L.OBJECTIVES) == {
        "minimax",
        "nonsaturating",
        "least-squares",
        "hinge",
        "wasserstein",
        "relativistic",
        "relativistic-average",
        "relativistic-average-ls",
    }
    with pytest.raises(ValueError, match="unknown objective 'lsgan'"):
        L.get_objective("lsgan")


# Relativistic objectives (Jolicoeur-Martineau 2018) ----------------------------------------------------


def sp(x: float) -> float:
    """softplus(x) = log(1 + eˣ) = −log σ(−x), by hand."""
    return math.log1p(math.exp(x))


def test_relativistic_standard_losses_at_known_logits():
    """l_D = −E log σ(C(x_r) − C(x_f)) = E softplus(C(x_f) − C(x_r)) over the pairs (2, 1) and (0, 1)."""
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 1.0])
    assert L.relativistic_d_loss(real, fake).item() == pytest.approx((sp(-1) + sp(1)) / 2, rel=1e-6)
    assert L.relativistic_g_loss(real, fake).item() == pytest.approx((sp(1) + sp(-1)) / 2, rel=1e-6)
    # G's loss moves with the real logits alone: real (0, 0) makes both pairs (0, 1), −log σ(1) each
    assert L.relativistic_g_loss(torch.zeros(2), fake).item() == pytest.approx(sp(-1), rel=1e-6)
    assert L.relativistic_d_loss(torch.zeros(2), fake).item() == pytest.approx(sp(1), rel=1e-6)


def test_relativistic_standard_pairs_samples_one_to_one():
    """Pairs (2, 1), (0, −1) differ by 1 each; the same fakes reversed give pairs (2, −1), (0, 1)."""
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([1.0, -1.0])
    assert L.relativistic_d_loss(real, fake).item() == pytest.approx(sp(-1), rel=1e-6)
    assert L.relativistic_d_loss(real, fake.flip(0)).item() == pytest.approx((sp(-3) + sp(1)) / 2, rel=1e-6)
    with pytest.raises(ValueError, match="pairs real and fake"):
        L.relativistic_d_loss(real, torch.zeros(3))


def test_relativistic_average_losses_at_known_logits():
    """real (1, 3), mean 2; fake (0, −2), mean −1: C(x_r) − E C(x_f) = (2, 4), C(x_f) − E C(x_r) = (−2, −4).

    l_D = E softplus(−(2, 4)) + E softplus((−2, −4)); l_G = E softplus((−2, −4)·−1) + E softplus((2, 4)).
    """
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert L.relativistic_average_d_loss(real, fake).item() == pytest.approx(sp(-2) + sp(-4), rel=1e-6)
    assert L.relativistic_average_g_loss(real, fake).item() == pytest.approx(sp(2) + sp(4), rel=1e-6)


def test_relativistic_average_losses_read_the_other_sides_mean_only():
    """Moving the real logits' mean changes G's loss; permuting the fakes (same mean) changes nothing."""
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    # real (−1, 1), mean 0: C(x_r) − E C(x_f) = (0, 2), C(x_f) − E C(x_r) = (0, −2)
    shifted = torch.tensor([-1.0, 1.0])
    expected = (sp(0) + sp(2)) / 2 + (sp(0) + sp(2)) / 2
    assert L.relativistic_average_g_loss(shifted, fake).item() == pytest.approx(expected, rel=1e-6)
    assert L.relativistic_average_d_loss(shifted, fake).item() == pytest.approx(sp(0) + sp(-2), rel=1e-6)
    assert L.relativistic_average_d_loss(real, fake.flip(0)).item() == pytest.approx(sp(-2) + sp(-4), rel=1e-6)
    # no pairing: three fakes of −1 against two reals; each fake's C(x_f) − E C(x_r) = −3
    three = torch.tensor([-1.0, -1.0, -1.0])
    expected = (sp(-2) + sp(-4)) / 2 + sp(-3)
    assert L.relativistic_average_d_loss(real, three).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("d_loss", "g_loss", "worst"),
    [
        (L.relativistic_d_loss, L.relativistic_g_loss, 200.0),  # softplus(200) for the one pair
        (L.relativistic_average_d_loss, L.relativistic_average_g_loss, 400.0),  # softplus(200) in both terms
    ],
)
def test_relativistic_bce_losses_are_stable_for_extreme_logits(d_loss, g_loss, worst):
    big = torch.tensor([100.0])
    assert d_loss(big, -big).item() == pytest.approx(0.0, abs=1e-6)
    assert d_loss(-big, big).item() == pytest.approx(worst, rel=1e-6)
    assert g_loss(big, -big).item() == pytest.approx(worst, rel=1e-6)


def test_relativistic_average_least_squares_at_known_logits():
    """real (1, 3), fake (0, −2): C(x_r) − E C(x_f) = (2, 4), C(x_f) − E C(x_r) = (−2, −4).

    l_D = E[((2, 4) − 1)²] + E[((−2, −4) + 1)²] = 5 + 5; l_G = E[((−2, −4) − 1)²] + E[((2, 4) + 1)²] = 17 + 17.
    """
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert L.relativistic_average_ls_d_loss(real, fake).item() == pytest.approx(10.0, rel=1e-6)
    assert L.relativistic_average_ls_g_loss(real, fake).item() == pytest.approx(34.0, rel=1e-6)
    # real (−1, 1), mean 0: C(x_f) − E C(x_r) = (0, −2), C(x_r) − E C(x_f) = (0, 2): l_G = (1 + 9)/2 + (1 + 9)/2
    assert L.relativistic_average_ls_g_loss(torch.tensor([-1.0, 1.0]), fake).item() == pytest.approx(10.0, rel=1e-6)
    # at the relative targets (real 1 above the mean fake, fake 1 below the mean real) D's loss is 0
    assert L.relativistic_average_ls_d_loss(torch.tensor([1.0, 1.0]), torch.zeros(2)).item() == pytest.approx(
        0.0, abs=1e-12
    )


# The contract every registered objective keeps --------------------------------------------------------

A = torch.tensor([0.0, 0.2, -0.3])  # logits where no hinge is flat and no least-squares target is passed
DELTA = 0.5


@pytest.mark.parametrize("name", sorted(L.OBJECTIVES))
def test_objective_losses_are_scalars(name):
    obj = L.OBJECTIVES[name]
    assert obj.d_loss(A, A.flip(0)).dim() == 0 and obj.g_loss(A, A.flip(0)).dim() == 0


@pytest.mark.parametrize("name", sorted(L.OBJECTIVES))
def test_objective_losses_and_gradients_are_finite_at_extreme_logits(name):
    obj = L.OBJECTIVES[name]
    for r, f in ((100.0, -100.0), (-100.0, 100.0), (100.0, 100.0), (-100.0, -100.0)):
        real = torch.tensor([r, -r, r], requires_grad=True)
        fake = torch.tensor([f, f, -f], requires_grad=True)
        for loss in (obj.d_loss(real, fake), obj.g_loss(real, fake)):
            grads = torch.autograd.grad(loss, (real, fake), allow_unused=True)
            assert torch.isfinite(loss), (name, r, f)
            assert all(g is None or torch.isfinite(g).all() for g in grads), (name, r, f)


@pytest.mark.parametrize("name", sorted(L.OBJECTIVES))
def test_d_loss_falls_as_real_logits_rise_above_fake_ones(name):
    obj = L.OBJECTIVES[name]
    assert obj.d_loss(A + DELTA, A).item() < obj.d_loss(A, A).item()
    b = A + 1  # fake logits above least squares' target 0 and inside the hinge's margin, so lowering them must help
    assert obj.d_loss(b, b - DELTA).item() < obj.d_loss(b, b).item()


@pytest.mark.parametrize("name", sorted(L.OBJECTIVES))
def test_g_loss_falls_as_fake_logits_rise(name):
    obj = L.OBJECTIVES[name]
    assert obj.g_loss(A, A + DELTA).item() < obj.g_loss(A, A).item()


@pytest.mark.parametrize("name", sorted(L.OBJECTIVES))
def test_g_reads_real_exactly_when_g_loss_depends_on_the_real_logits(name):
    obj = L.OBJECTIVES[name]
    fake = torch.tensor([0.5, -1.0, 2.0])
    moved = obj.g_loss(A + torch.tensor([0.3, -0.1, 0.7]), fake)
    assert (not torch.equal(moved, obj.g_loss(A, fake))) == obj.g_reads_real
    if not obj.g_reads_real:  # G's step passes no real logits to these
        assert torch.equal(obj.g_loss(None, fake), obj.g_loss(A, fake))


# Extra terms: feature matching, InfoGAN's bound, reconstruction -------------------------------------


def test_feature_matching_is_zero_for_identical_batches_and_the_squared_mean_gap_otherwise():
    f = torch.randn(16, 5)
    assert L.feature_matching(f, f.clone()).item() == 0.0
    shifted = f + torch.tensor([1.0, 0.0, -2.0, 0.0, 0.5])  # mean gap (−1, 0, 2, 0, −0.5) → 1 + 4 + 0.25
    assert L.feature_matching(f, shifted).item() == pytest.approx(5.25, rel=1e-5)
    assert L.feature_matching(f, f[torch.randperm(16)]).item() == pytest.approx(0.0, abs=1e-10)  # means only


def test_feature_matching_sends_no_gradient_into_the_real_features():
    real, fake = torch.randn(4, 3, requires_grad=True), torch.randn(4, 3, requires_grad=True)
    L.feature_matching(real, fake).backward()
    assert real.grad is None and fake.grad.abs().sum() > 0


def test_infogan_bound_of_a_know_nothing_q_is_zero():
    """Uniform Q over K categories: E[log Q(c|x)] + H(c) = −log K + log K = 0 (Chen et al. 2016, eq. 5)."""
    logits = torch.zeros(32, 10)
    category = torch.randint(10, (32,))
    assert L.categorical_information(logits, category).item() == pytest.approx(0.0, abs=1e-6)


def test_infogan_bound_of_a_perfect_q_is_the_code_entropy():
    category = torch.arange(10).repeat(3)
    logits = 100 * torch.nn.functional.one_hot(category, 10).float()  # Q names c with certainty
    assert L.categorical_information(logits, category).item() == pytest.approx(math.log(10), abs=1e-6)
    wrong = 100 * torch.nn.functional.one_hot((category + 1) % 10, 10).float()
    assert L.categorical_information(wrong, category).item() == pytest.approx(math.log(10) - 100, rel=1e-4)


def test_infogan_continuous_bound_matches_the_gaussian_closed_form():
    """c ~ U(−1, 1): H = log 2 per code. Q = N(0, 1) gives E[log N(c; 0, 1)] = −½ log 2π − E[c²]/2."""
    values = torch.tensor([[-1.0, 0.5], [0.0, -0.5], [1.0, 0.0]])
    zeros = torch.zeros(3, 2)
    expected = 2 * (-0.5 * math.log(2 * math.pi) + math.log(2)) - 0.5 * (2 + 0.5) / 3
    assert L.continuous_information(zeros, zeros, values).item() == pytest.approx(expected, abs=1e-6)
    sharp = torch.full((3, 2), -6.0)  # σ² = e^−6 around the right values: log N = −½(log 2π − 6) per code
    exact = L.continuous_information(values, sharp, values).item()
    assert exact == pytest.approx(2 * (-0.5 * (math.log(2 * math.pi) - 6) + math.log(2)), abs=1e-5)


def test_reconstruction_is_the_mean_squared_error():
    x = torch.zeros(2, 1, 2, 2)
    assert L.reconstruction(x, x).item() == 0.0
    assert L.reconstruction(x, x + 0.5).item() == pytest.approx(0.25)
