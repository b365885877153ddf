import copy
import dataclasses

import pytest
import torch
from torch import nn

from gankit.config import LossConfig, TrainConfig
from gankit.losses import OBJECTIVES, Objective
from gankit.training.schemes import SCHEMES
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


def test_g_steps_generator_steps_per_game_step_and_shared_noise():
    """g_steps G updates after the D updates; with shared noise every G update reads the last D step's z."""
    gan = _gan()
    seen = {"d": [], "g": []}
    for name, module in (("d", gan.discriminator), ("g", gan.generator)):
        module.register_forward_pre_hook(lambda _, args, name=name: seen[name].append(args[0]))
    order = []
    for name, opt in (("d", gan.d_optimizer), ("g", gan.g_optimizer)):
        opt.register_step_post_hook(lambda *_, name=name: order.append(name))
    draws = []

    def sample_z():
        draws.append(torch.randn(8, 4))
        return draws[-1]

    losses = GameLosses(OBJECTIVES["nonsaturating"])
    alternating_step(gan, losses, 1, lambda: torch.randn(8, 2), sample_z, g_steps=2, shared_noise=True)
    assert order == ["d", "g", "g"] and len(draws) == 1
    assert len(seen["g"]) == 3 and all(z is draws[0] for z in seen["g"])  # D's fake batch, then both G steps

    order.clear(), draws.clear(), seen["g"].clear()
    alternating_step(gan, losses, 2, lambda: torch.randn(8, 2), sample_z, g_steps=3)
    assert order == ["d", "d", "g", "g", "g"] and len(draws) == 5  # fresh noise for every update
    assert [z is d for z, d in zip(seen["g"], draws, strict=True)] == [True] * 5


def test_two_generator_steps_differ_from_one():
    one, two = _gan(), _gan()
    losses = GameLosses(OBJECTIVES["nonsaturating"])
    torch.manual_seed(1)
    real, z = torch.randn(8, 2), torch.randn(8, 4)
    alternating_step(one, losses, 1, lambda: real, lambda: z, shared_noise=True)
    g_after_one = _params(one.generator)
    alternating_step(two, losses, 1, lambda: real, lambda: z, g_steps=2, shared_noise=True)
    d_one, d_two = _params(one.discriminator), two.discriminator.parameters()
    assert all(torch.equal(a, b) for a, b in zip(d_one, d_two, strict=True))
    assert not any(torch.equal(a, b) for a, b in zip(g_after_one, two.generator.parameters(), strict=True))
    generator_step(one, losses, z)  # the second G step is one more G step on the same z
    g_one, g_two = one.generator.parameters(), two.generator.parameters()
    assert all(torch.allclose(a, b) for a, b in zip(g_one, g_two, strict=True))


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
    zero = Objective("zero", lambda r, f: 0 * (r.sum() + f.sum()), lambda r, f: 0 * f.sum(), "-")
    gan = _gan(lr=0.5)
    d0 = _params(gan.discriminator)
    stats = discriminator_step(gan, GameLosses(zero), torch.randn(8, 2), torch.randn(8, 4))
    assert "gp" not in stats and not any(_changed(d0, gan.discriminator))
    stats = discriminator_step(gan, GameLosses(zero, LossConfig(gp_weight=10.0)), torch.randn(8, 2), torch.randn(8, 4))
    assert stats["gp"].item() > 0
    assert any(_changed(d0, gan.discriminator))


def test_weight_clipping_after_every_critic_step():
    gan = _gan(lr=1.0)
    losses = GameLosses(OBJECTIVES["wasserstein"], LossConfig(clip_value=0.01))
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


# The extra terms of issue 4: InfoGAN, feature matching, reconstruction, labels -------------------------


def _built(model: dict, num_classes=None, lr=0.1, encoder=False):
    from gankit.config import ModelConfig
    from gankit.latent import latent_space
    from gankit.nets import build_encoder, build_networks

    torch.manual_seed(0)
    cfg = ModelConfig(arch="mlp", latent_dim=4, g_width=16, d_width=16, mlp_layers=2, init="default", **model)
    g, d = build_networks(cfg, (2,), latent_space(cfg, num_classes))
    e = build_encoder(cfg, (2,)) if encoder else None
    g_side = list(g.parameters()) + (list(e.parameters()) if e is not None else [])
    return GAN(g, d, torch.optim.SGD(g_side, lr=lr), torch.optim.SGD(d.parameters(), lr=lr), e), cfg


ZERO = Objective("zero", lambda r, f: 0 * (r.sum() + f.sum()), lambda r, f: 0 * f.sum(), "-")


def test_infogan_bound_is_added_to_both_players():
    """With a zero adversarial loss Q (in D's step) and G still move: −λ·L_I is really in both losses."""
    from gankit.latent import latent_space

    gan, cfg = _built({"info_categorical": 3, "info_continuous": 1})
    space = latent_space(cfg)
    losses = GameLosses(ZERO, LossConfig(info_weight=1.0, info_continuous_weight=0.5), latent=space)
    q0, g0 = _params(gan.discriminator.q), _params(gan.generator)
    stats = discriminator_step(gan, losses, torch.randn(8, 2), space.sample(8))
    assert all(_changed(q0, gan.discriminator.q))
    stats = generator_step(gan, losses, space.sample(8))
    assert set(stats) == {"g_loss", "info_categorical", "info_continuous"}
    assert any(_changed(g0, gan.generator))
    # no weight, no bound: nothing moves
    gan, _ = _built({"info_categorical": 3, "info_continuous": 1})
    q0 = _params(gan.discriminator.q)
    discriminator_step(
        gan,
        GameLosses(ZERO, LossConfig(info_weight=0, info_continuous_weight=0), latent=space),
        torch.randn(8, 2),
        space.sample(8),
    )
    assert not any(_changed(q0, gan.discriminator.q))


def test_infogan_bound_trains_q_and_d_trunk_in_d_step_and_only_g_in_g_step():
    """Chen et al. 2016, sec. 5 (and openai/InfoGAN's trainer): Q shares D's trunk, so −λ·L_I of D's step reaches
    the trunk and Q's own layers but not D's logit head; G's step moves G alone (D and Q frozen)."""
    from gankit.latent import latent_space
    from gankit.training.step import discriminator_gradients, generator_gradients

    gan, cfg = _built({"info_categorical": 3, "info_continuous": 2, "info_continuous_std": 1.0})
    space = latent_space(cfg)
    losses = GameLosses(ZERO, LossConfig(info_weight=1.0, info_continuous_weight=1.0), latent=space)
    d = gan.discriminator
    discriminator_gradients(gan, losses, torch.randn(8, 2), space.sample(8))
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in d.q.parameters())
    trunk_weights = [m.weight for m in d.body.trunk if isinstance(m, nn.Linear)]
    assert trunk_weights and all(w.grad.abs().sum() > 0 for w in trunk_weights)
    assert all(p.grad is None or not p.grad.any() for p in d.body.head.parameters())
    assert all(p.grad is None for p in gan.generator.parameters())
    gan.d_optimizer.zero_grad(set_to_none=True)
    generator_gradients(gan, losses, space.sample(8))
    assert all(p.grad is None for p in d.parameters())
    g_layers = [m.weight for m in gan.generator.modules() if isinstance(m, nn.Linear)]
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in g_layers)


def test_infogan_generator_gradient_equals_the_manual_loss():
    from gankit.latent import latent_space

    gan, cfg = _built({"info_categorical": 3, "info_continuous": 2})
    manual = copy.deepcopy(gan)
    space = latent_space(cfg)
    latent = space.sample(8)
    obj = OBJECTIVES["nonsaturating"]
    generator_step(gan, GameLosses(obj, LossConfig(info_weight=1.0, info_continuous_weight=0.1), latent=space), latent)
    from gankit import losses as L

    out = manual.discriminator.run(manual.generator(latent.z))
    codes = space.codes(latent.z)
    loss = (
        obj.g_loss(None, out.logits)
        - L.categorical_information(out.q.logits, codes.category)
        - 0.1 * L.continuous_information(out.q.mean, out.q.log_var, codes.continuous)
    )
    grads = torch.autograd.grad(loss, list(manual.generator.parameters()))
    for p, gr, new in zip(manual.generator.parameters(), grads, gan.generator.parameters(), strict=True):
        torch.testing.assert_close(new, p - 0.1 * gr)


def test_feature_matching_alone_moves_g_towards_the_real_feature_means():
    gan, _ = _built({})
    losses = GameLosses(OBJECTIVES["nonsaturating"], LossConfig(g_adversarial=0.0, feature_matching=1.0))
    real = torch.randn(64, 2) + 3
    with pytest.raises(ValueError, match="pass a real batch"):
        generator_step(gan, losses, torch.randn(64, 4))
    z = torch.randn(64, 4)

    def gap():
        with torch.no_grad():
            d = gan.discriminator
            return (d.run(real).features.mean(0) - d.run(gan.generator(z)).features.mean(0)).pow(2).sum().item()

    before = gap()
    stats = generator_step(gan, losses, z, real=real)
    assert stats["feature_matching"].item() == pytest.approx(before, rel=1e-5)
    assert gap() < before


def test_generator_draws_a_real_batch_only_when_its_loss_reads_data():
    counts = {"real": 0}

    def next_real():
        counts["real"] += 1
        return torch.randn(8, 2)

    gan, _ = _built({})
    alternating_step(gan, GameLosses(OBJECTIVES["nonsaturating"]), 2, next_real, lambda: torch.randn(8, 4))
    assert counts["real"] == 2
    alternating_step(
        gan,
        GameLosses(OBJECTIVES["nonsaturating"], LossConfig(feature_matching=1.0)),
        2,
        next_real,
        lambda: torch.randn(8, 4),
    )
    assert counts["real"] == 2 + 3


def test_reconstruction_and_mode_regularisers_train_the_encoder_with_g():
    gan, _ = _built({}, encoder=True)
    losses = GameLosses(ZERO, LossConfig(reconstruction_weight=1.0, mode_weight=0.0))
    e0, g0, d0 = _params(gan.encoder), _params(gan.generator), _params(gan.discriminator)
    stats = generator_step(gan, losses, torch.randn(8, 4), real=torch.randn(8, 2))
    assert stats["reconstruction"].item() > 0
    assert all(_changed(e0, gan.encoder)) and any(_changed(g0, gan.generator))
    assert not any(_changed(d0, gan.discriminator))
    # the mode regulariser alone: l_G(D(G(E(x)))) moves E too
    gan, _ = _built({}, encoder=True)
    e0 = _params(gan.encoder)
    generator_step(
        gan,
        GameLosses(OBJECTIVES["nonsaturating"], LossConfig(g_adversarial=0.0, mode_weight=1.0)),
        torch.randn(8, 4),
        real=torch.randn(8, 2),
    )
    assert all(_changed(e0, gan.encoder))


@pytest.mark.parametrize("minibatch", ["discrimination", "none"])
def test_labels_reach_both_players(minibatch):
    """Conditional D sees real data with the real labels and G(z, y) with the labels G was given: in two
    passes when a minibatch layer couples a batch's samples, in one pass (real, then fake) when D is per-sample."""
    from gankit.latent import Latent
    from gankit.training.step import Batch

    gan, _ = _built({"conditioning": "concat", "minibatch": minibatch}, num_classes=3)
    assert gan.discriminator.per_sample == (minibatch == "none")
    seen, run = [], gan.discriminator.run

    def spy(x, y=None, q=False):
        seen.append((y.tolist(), q))
        return run(x, y, q)

    gan.discriminator.run = spy
    real = Batch(torch.randn(4, 2), torch.tensor([0, 0, 1, 1]))
    latent = Latent(torch.randn(4, 4), torch.tensor([2, 2, 2, 0]))
    losses = GameLosses(OBJECTIVES["nonsaturating"])
    discriminator_step(gan, losses, real, latent)
    if minibatch != "none":
        assert seen == [([0, 0, 1, 1], False), ([2, 2, 2, 0], True)]  # Q (if any) is asked about G's samples only
    else:
        assert seen == [([0, 0, 1, 1, 2, 2, 2, 0], False)]
    seen.clear()
    generator_step(gan, losses, latent)
    assert seen == [([2, 2, 2, 0], True)]


# The core shape of issue 10: losses from the config, D's whole output through a wrapper -------------------


class _Wrapper(nn.Module):
    """Keeps D as ``.module`` and forwards every call, as DistributedDataParallel does."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module, self.calls = module, 0

    def forward(self, *args, **kwargs):
        self.calls += 1
        return self.module(*args, **kwargs)


def test_judge_passes_through_a_wrapper_and_keeps_features_and_q():
    from gankit.training.step import judge, unwrap

    gan, _ = _built({"info_categorical": 3, "info_continuous": 1})
    wrapped = _Wrapper(gan.discriminator)
    assert unwrap(wrapped) is gan.discriminator and unwrap(gan.discriminator) is gan.discriminator
    x = torch.randn(6, 2)
    bare, through = judge(gan.discriminator, x, q=True), judge(wrapped, x, q=True)
    assert wrapped.calls == 1  # the wrapper saw the forward pass (DDP reduces gradients from there)
    torch.testing.assert_close(through.logits, bare.logits)
    torch.testing.assert_close(through.features, bare.features)
    torch.testing.assert_close(through.q.logits, bare.q.logits)
    assert judge(wrapped, x).q is None  # Q is asked only when wanted


def test_game_losses_from_config_reads_every_term_from_the_config():
    cfg = LossConfig(objective="hinge", gp_weight=0.0, feature_matching=0.5)
    losses = GameLosses.from_config(cfg)
    assert losses.objective is OBJECTIVES["hinge"] and losses.terms is cfg
    assert losses.generator_reads_data  # feature matching reads a real batch
    assert not GameLosses.from_config(LossConfig()).generator_reads_data
    assert GameLosses.from_config(LossConfig(mode_weight=0.1)).generator_reads_data
    assert LossConfig(reconstruction_weight=0.2).uses_encoder and not LossConfig().uses_encoder


# Objectives whose G loss reads D's logits on real data (the relativistic ones, issue 10) ---------------

# A pairwise relativistic loss of its own, so that the plumbing is tested whatever the registry holds.
READS_REAL = Objective(
    "reads-real",
    lambda r, f: torch.nn.functional.softplus(f - r).mean(),
    lambda r, f: torch.nn.functional.softplus(r - f).mean(),
    "-",
    g_reads_real=True,
)
READING = [READS_REAL, *(o for o in OBJECTIVES.values() if o.g_reads_real)]


def _spy(obj: Objective, seen: list) -> Objective:
    """``obj`` with a G loss that records the real logits it is given."""

    def g_loss(real, fake):
        seen.append(real)
        return obj.g_loss(real, fake)

    return dataclasses.replace(obj, g_loss=g_loss)


@pytest.mark.parametrize("obj", READING, ids=lambda o: o.name)
def test_generator_step_with_a_relativistic_loss_takes_the_gradient_of_l_g_on_real_and_fake_logits(obj):
    """G's step minimises l_G(D(x), D(G(z))) with D(x) of the real batch it is given (and nothing else)."""
    gan, _ = _built({})
    manual = copy.deepcopy(gan)
    real, z = torch.randn(8, 2), torch.randn(8, 4)
    with pytest.raises(ValueError, match="pass a real batch"):
        generator_step(gan, GameLosses(obj), z)
    seen = []
    generator_step(gan, GameLosses(_spy(obj, seen)), z, real=real)
    assert len(seen) == 1 and not seen[0].requires_grad  # D(x) comes without a graph: it is a constant for G
    D = manual.discriminator
    loss = obj.g_loss(D(real), D(manual.generator(z)))
    grads = torch.autograd.grad(loss, list(manual.generator.parameters()))
    for p, gr, new in zip(manual.generator.parameters(), grads, gan.generator.parameters(), strict=True):
        torch.testing.assert_close(new, p - 0.1 * gr)
    torch.testing.assert_close(seen[0], D(real).detach())


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@pytest.mark.parametrize("obj", READING, ids=lambda o: o.name)
def test_every_scheme_gives_a_relativistic_g_step_a_fresh_real_batch(obj, scheme):
    """Each G gradient evaluation draws one more real batch than with a loss that ignores real data."""
    drawn = {}
    for o in (OBJECTIVES["nonsaturating"], obj):
        counts, seen = {"real": 0}, []

        def next_real(counts=counts):
            counts["real"] += 1
            return torch.randn(8, 2)

        gan, _ = _built({})
        player = SCHEMES[scheme](gan, TrainConfig(scheme=scheme, lookahead_k=1))
        g0, d0 = _params(gan.generator), _params(gan.discriminator)
        stats = player.step(gan, GameLosses(_spy(o, seen)), 2, next_real, lambda: torch.randn(8, 4))
        assert any(_changed(g0, gan.generator)) and any(_changed(d0, gan.discriminator))
        assert all(torch.isfinite(v) for v in stats.values())
        assert all((r is not None) == o.g_reads_real for r in seen) and seen
        drawn[o.name] = counts["real"]
    assert drawn[obj.name] - drawn["nonsaturating"] == (2 if scheme == "extragradient" else 1)
