import copy

import pytest
import torch
from torch import nn

from gankit.losses import OBJECTIVES, Objective
from gankit.training.step import GAN, GameLosses, alternating_step, discriminator_step, generator_step


def _gan(seed=0, lr=0.1):
    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    d = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Flatten(0))
    return GAN(g, d, torch.optim.SGD(g.parameters(), lr=lr), torch.optim.SGD(d.parameters(), lr=lr))


def _params(m):
    return [p.detach().clone() for p in m.parameters()]


def _changed(before, module):
    return [not torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True)]


def test_n_critic_discriminator_steps_per_generator_step():
    gan = _gan()
    counts = {"d": 0, "g": 0, "real": 0, "z": 0}
    for name, opt in (("d", gan.d_optimizer), ("g", gan.g_optimizer)):
        opt.register_step_post_hook(lambda *_, name=name: counts.__setitem__(name, counts[name] + 1))

    def next_real():
        counts["real"] += 1
        return torch.randn(8, 2)

    def sample_z():
        counts["z"] += 1
        return torch.randn(8, 4)

    for _ in range(3):
        alternating_step(gan, GameLosses(OBJECTIVES["wasserstein"]), 5, next_real, sample_z)
    assert counts == {"d": 15, "g": 3, "real": 15, "z": 18}  # fresh real batch and noise for every D step


def test_discriminator_step_changes_only_d_and_generator_step_only_g():
    gan = _gan()
    losses = GameLosses(OBJECTIVES["nonsaturating"])
    g0, d0 = _params(gan.generator), _params(gan.discriminator)
    discriminator_step(gan, losses, torch.randn(8, 2), torch.randn(8, 4))
    assert not any(_changed(g0, gan.generator)) and all(_changed(d0, gan.discriminator))
    g0, d0 = _params(gan.generator), _params(gan.discriminator)
    generator_step(gan, losses, torch.randn(8, 4))
    assert all(_changed(g0, gan.generator)) and not any(_changed(d0, gan.discriminator))
    assert all(p.requires_grad for p in gan.discriminator.parameters())  # unfrozen again


def test_steps_minimise_the_objective_losses():
    """One SGD step equals a manual step on the objective's loss (nothing else is added)."""
    gan = _gan()
    manual = copy.deepcopy(gan)
    real, z = torch.randn(8, 2), torch.randn(8, 4)
    obj = OBJECTIVES["least-squares"]
    discriminator_step(gan, GameLosses(obj), real, z)
    loss = obj.d_loss(manual.discriminator(real), manual.discriminator(manual.generator(z).detach()))
    grads = torch.autograd.grad(loss, list(manual.discriminator.parameters()))
    for p, gr, new in zip(manual.discriminator.parameters(), grads, gan.discriminator.parameters(), strict=True):
        torch.testing.assert_close(new, p - 0.1 * gr)


def test_gradient_penalty_is_added_to_the_critic_loss():
    """With a zero adversarial loss, D moves only if the penalty is really added (a bug peers shipped)."""
    zero = Objective("zero", lambda r, f: 0 * (r.sum() + f.sum()), lambda f: 0 * f.sum(), "-")
    gan = _gan(lr=0.5)
    d0 = _params(gan.discriminator)
    stats = discriminator_step(gan, GameLosses(zero), torch.randn(8, 2), torch.randn(8, 4))
    assert "gp" not in stats and not any(_changed(d0, gan.discriminator))
    stats = discriminator_step(gan, GameLosses(zero, gp_weight=10.0), torch.randn(8, 2), torch.randn(8, 4))
    assert stats["gp"].item() > 0
    assert any(_changed(d0, gan.discriminator))


def test_weight_clipping_after_every_critic_step():
    gan = _gan(lr=1.0)
    losses = GameLosses(OBJECTIVES["wasserstein"], clip_value=0.01)
    alternating_step(gan, losses, 2, lambda: torch.randn(8, 2), lambda: torch.randn(8, 4))
    values = torch.cat([p.flatten() for p in gan.discriminator.parameters()])
    assert values.abs().max().item() == pytest.approx(0.01)
    assert torch.cat([p.flatten() for p in gan.generator.parameters()]).abs().max() > 0.01  # G is not clipped


def test_stats_are_detached_scalars():
    gan = _gan()
    stats = alternating_step(
        gan, GameLosses(OBJECTIVES["hinge"]), 1, lambda: torch.randn(8, 2), lambda: torch.randn(8, 4)
    )
    assert set(stats) == {"d_loss", "d_real", "d_fake", "g_loss"}
    assert all(v.dim() == 0 and not v.requires_grad for v in stats.values())
