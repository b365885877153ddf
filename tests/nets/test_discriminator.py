import math

import pytest
import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.data.toy import ring8_modes
from gankit.latent import generate, latent_space
from gankit.metrics.modes import count_toy_modes
from gankit.nets import MLPDiscriminator, build_encoder, build_networks
from gankit.nets.discriminator import Discriminator
from gankit.recipes import get_recipe
from gankit.theory import one_thread
from gankit.training.state import build_training


def _mlp(**fields) -> ModelConfig:
    return ModelConfig(arch="mlp", latent_dim=4, g_width=16, d_width=16, mlp_layers=2, **fields)


def test_packing_judges_m_samples_with_one_logit():
    """PacGAN (Lin et al. 2018): D reads packs of m consecutive samples, stacked along channels."""
    torch.manual_seed(0)
    _, d = build_networks(_mlp(pack=3), (2,))
    d.eval()
    assert d.body.trunk[1].in_features == 6  # 3 samples × 2 coordinates
    x = torch.randn(9, 2)
    logits = d(x)
    assert logits.shape == (3,)
    changed = x.clone()
    changed[4] = torch.randn(2)  # sample 4 sits in the second pack: only its logit moves
    moved = d(changed) != logits
    assert moved.tolist() == [False, True, False]
    with pytest.raises(ValueError, match="divisible by 3"):
        d(torch.randn(8, 2))


def test_packed_image_discriminator_stacks_channels():
    _, d = build_networks(ModelConfig(arch="dcgan", d_width=8, g_width=8, pack=2), (1, 28, 28))
    assert d.body.trunk[0].in_channels == 2
    assert d(torch.randn(6, 1, 28, 28)).shape == (3,)


def test_concat_conditioning_feeds_the_label_to_d():
    torch.manual_seed(1)
    cfg = ModelConfig(arch="dcgan", d_width=8, g_width=8, conditioning="concat")
    _, d = build_networks(cfg, (1, 28, 28), latent_space(cfg, 10))
    assert d.body.trunk[0].in_channels == 1 + 10  # one-hot label as 10 constant channels
    d.eval()
    x = torch.randn(4, 1, 28, 28)
    a, b = d(x, torch.tensor([0, 1, 2, 3])), d(x, torch.tensor([0, 1, 2, 4]))
    assert torch.equal(a[:3], b[:3]) and a[3] != b[3]
    with pytest.raises(ValueError, match="needs class labels"):
        d(x)


def test_projection_discriminator_adds_the_inner_product():
    """Miyato & Koyama 2018, eq. 3: f(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩."""
    torch.manual_seed(2)
    _, d = build_networks(_mlp(conditioning="projection"), (2,), latent_space(_mlp(conditioning="projection"), 3))
    x, y = torch.randn(5, 2), torch.tensor([0, 1, 2, 1, 0])
    out = d.run(x, y)
    plain = d.body.head(d.body.trunk(x)).flatten()
    torch.testing.assert_close(out.logits, plain + (d.embed.weight[y] * out.features).sum(1))


def test_q_head_shares_the_trunk():
    """InfoGAN's Q reads D's trunk features: categorical logits, a mean and a log-variance per code."""
    _, d = build_networks(ModelConfig(info_categorical=10, info_continuous=2), (1, 28, 28))
    out = d.run(torch.randn(5, 1, 28, 28))
    assert out.q.logits.shape == (5, 10) and out.q.mean.shape == out.q.log_var.shape == (5, 2)
    assert out.features.shape == (5, 1024)
    trunk_params = {id(p) for p in d.body.trunk.parameters()}
    out.q.logits.sum().backward()
    assert any(p.grad is not None for p in d.body.trunk.parameters() if id(p) in trunk_params)


def test_q_head_with_a_fixed_sigma_outputs_only_means():
    """σ fixed (the authors' code: 1): Q's last layer has one output per continuous code, log σ² is constant."""
    _, learned = build_networks(_mlp(info_categorical=3, info_continuous=2), (2,))
    _, fixed = build_networks(_mlp(info_categorical=3, info_continuous=2, info_continuous_std=0.5), (2,))
    assert learned.q.net[-1].out_features == 3 + 2 * 2 and fixed.q.net[-1].out_features == 3 + 2
    out = fixed.run(torch.randn(5, 2))
    assert out.q.logits.shape == (5, 3) and out.q.mean.shape == (5, 2)
    torch.testing.assert_close(out.q.log_var, torch.full((5, 2), 2 * math.log(0.5)))


def test_minibatch_layer_gets_its_own_head():
    _, d = build_networks(_mlp(minibatch="discrimination", mbd_kernels=7, mbd_kernel_dim=2), (2,))
    assert isinstance(d.head, nn.Linear) and d.head.in_features == 16 + 7
    assert d(torch.randn(6, 2)).shape == (6,)
    _, d = build_networks(_mlp(minibatch="stddev"), (2,))
    assert d.head.in_features == 17


def test_plain_discriminator_is_its_body():
    torch.manual_seed(3)
    body = MLPDiscriminator((2,), 8, 2)
    d = Discriminator(body, (2,))
    x = torch.randn(4, 2)
    torch.testing.assert_close(d(x), body(x))


def test_encoder_maps_images_into_the_prior_support():
    e = build_encoder(ModelConfig(arch="dcgan", latent_dim=12, d_width=8), (1, 28, 28))
    z = e(torch.randn(5, 1, 28, 28))
    assert z.shape == (5, 12) and z.abs().max() <= 1  # tanh for a U(−1, 1) prior
    e = build_encoder(ModelConfig(arch="mlp", latent_dim=3, latent_dist="normal", d_width=8), (2,))
    assert isinstance(e.squash, nn.Identity)


def _ring_run(pack: int, seed: int) -> float:
    """KL(nearest-mode histogram of 2,500 samples ‖ uniform) after 300 steps of a small, fast-collapsing GAN."""
    cfg = get_recipe("nsgan").override(
        {
            "data.name": "ring8",
            "data.toy_points": 10_000,
            "model.arch": "mlp",
            "model.latent_dim": 2,
            "model.latent_dist": "normal",
            "model.g_width": 32,
            "model.d_width": 32,
            "model.mlp_layers": 2,
            "model.g_norm": "none",  # the plain MLP G (nsgan's batch norm in G is for MNIST)
            "model.init": "default",
            "model.pack": pack,
            "train.batch_size": 32 * pack,  # 32 packs per step, as PacGAN keeps the packs per step
            "train.seed": seed,
            "train.device": "cpu",
            "g_optim.lr": 3e-3,
            "d_optim.lr": 3e-3,
        }
    )
    with one_thread():  # as when the values below were measured
        training = build_training(cfg, log=lambda _: None)
        while training.step < 300:
            training.train_step()
        with torch.no_grad():
            points = generate(training.gan.generator.eval(), training.sample_z(2500))
    return count_toy_modes(points, ring8_modes()).kl_all


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_packing_stops_a_small_gan_collapsing_on_the_ring(seed):
    """Lin et al. 2018: with a large step size this GAN puts most samples near one or two of the 8 modes
    (KL to uniform ≥ 0.5; log 8 = 2.08 is total collapse); the same run with D judging pairs spreads them
    over all 8 (KL ≤ 0.25). Measured when written: unpacked 0.86 and 1.03, packed 0.04 and 0.02 (seeds 0, 1)."""
    assert _ring_run(pack=1, seed=seed) >= 0.5
    assert _ring_run(pack=2, seed=seed) <= 0.25
