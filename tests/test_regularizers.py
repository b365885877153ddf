import pytest
import torch

from gankit.regularizers import clip_weights, gradient_penalty


def test_gradient_penalty_of_a_linear_critic_uses_the_norm_over_all_pixels():
    """D(x) = <w, x> has ∇D = w everywhere: the penalty is (‖w‖₂ − 1)² with the norm over C·H·W = 16 values.

    With w = 0.5 everywhere, ‖w‖ = 2 and the penalty is 1; a norm over the channel dimension alone would
    give per-pixel norms of 0.5 and a penalty of 0.25.
    """
    w = torch.full((1, 1, 4, 4), 0.5)

    def critic(x):
        return (x * w).flatten(1).sum(1) + 3.0

    real, fake = torch.randn(6, 1, 4, 4), torch.randn(6, 1, 4, 4)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(1.0, abs=1e-6)


def test_gradient_penalty_is_per_sample():
    """D(x) = ½‖x‖² has ∇D(x) = x; with real = fake the interpolate is x, so the penalty is mean((‖xᵢ‖ − 1)²)."""
    x = torch.randn(5, 3, 2, 2)
    expected = (x.flatten(1).norm(dim=1) - 1).pow(2).mean()
    got = gradient_penalty(lambda v: 0.5 * v.pow(2).flatten(1).sum(1), x, x.clone())
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_gradient_penalty_interpolates_between_real_and_fake():
    """For D(x) = ½‖x‖², ∇D(x̂) = x̂ = ε·x + (1 − ε)·x̃: the penalty must match that for the same ε."""
    real, fake = torch.randn(7, 2), torch.randn(7, 2)
    gen = torch.Generator().manual_seed(3)
    eps = torch.rand((7, 1), generator=torch.Generator().manual_seed(3))
    xhat = eps * real + (1 - eps) * fake
    expected = (xhat.norm(dim=1) - 1).pow(2).mean()
    got = gradient_penalty(lambda v: 0.5 * v.pow(2).sum(1), real, fake, generator=gen)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_gradient_penalty_is_differentiable_in_the_critic_weights():
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 1))
    gp = gradient_penalty(lambda v: critic(v).flatten(), torch.randn(4, 2, 2, 2), torch.randn(4, 2, 2, 2))
    gp.backward()
    assert critic[1].weight.grad is not None and critic[1].weight.grad.abs().sum() > 0


def test_clip_weights_keeps_every_parameter_in_range():
    net = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.BatchNorm1d(10), torch.nn.Linear(10, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 1)
    clip_weights(net, 0.01)
    values = torch.cat([p.flatten() for p in net.parameters()])
    assert values.min().item() == pytest.approx(-0.01) and values.max().item() == pytest.approx(0.01)
    assert (values.abs() <= 0.01).all()
