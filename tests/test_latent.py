import math

import pytest
import torch

from gankit.config import ModelConfig
from gankit.errors import ConfigError
from gankit.latent import LatentSpace, latent_space, sample_latent


def test_infogan_codes_come_from_their_priors():
    """Chen et al. 2016, sec. 5: c₁ ~ Cat(K = 10) uniform, c₂, c₃ ~ U(−1, 1); noise from the model's prior."""
    space = LatentSpace(noise_dim=62, dist="uniform", categorical=10, continuous=2)
    latent = space.sample(200_000, generator=torch.Generator().manual_seed(0))
    assert latent.z.shape == (200_000, 74) and latent.y is None
    onehot = latent.z[:, 62:72]
    assert torch.equal(onehot.sum(1), torch.ones(200_000)) and set(onehot.unique().tolist()) == {0.0, 1.0}
    freq = onehot.mean(0)
    assert freq.min().item() == pytest.approx(0.1, abs=0.005) and freq.max().item() == pytest.approx(0.1, abs=0.005)
    cont = latent.z[:, 72:]
    assert cont.min().item() >= -1 and cont.max().item() <= 1
    assert cont.mean(0).abs().max().item() == pytest.approx(0.0, abs=0.01)
    assert cont.var(0).tolist() == pytest.approx([1 / 3, 1 / 3], abs=0.01)  # U(−1, 1), not N(0, 1) or U(0, 1)


def test_codes_inverts_compose():
    space = LatentSpace(noise_dim=5, categorical=4, continuous=3)
    noise, cat, cont = torch.randn(6, 5), torch.tensor([0, 3, 1, 2, 2, 0]), torch.rand(6, 3) * 2 - 1
    latent = space.compose(noise, cat, cont)
    codes = space.codes(latent.z)
    assert torch.equal(codes.category, cat) and torch.equal(codes.continuous, cont)
    assert torch.equal(latent.z[:, :5], noise) and space.input_dim == 12


def test_conditional_space_draws_uniform_labels_and_requires_them():
    space = LatentSpace(noise_dim=3, dist="normal", num_classes=10)
    latent = space.sample(50_000, generator=torch.Generator().manual_seed(1))
    counts = torch.bincount(latent.y, minlength=10).float() / 50_000
    assert counts.min().item() == pytest.approx(0.1, abs=0.01) and counts.max().item() == pytest.approx(0.1, abs=0.01)
    assert latent.z.shape == (50_000, 3)
    with pytest.raises(ValueError, match="needs class labels"):
        space.compose(torch.zeros(2, 3))


def test_unconditional_draws_match_the_plain_prior():
    """Adding the latent space changed no unconditional run: same numbers as sample_latent with the same seed."""
    a = LatentSpace(noise_dim=7, dist="normal").sample(4, generator=torch.Generator().manual_seed(3)).z
    b = sample_latent(4, 7, "normal", generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_latent_space_from_config_needs_labels_for_conditioning():
    cfg = ModelConfig(conditioning="concat")
    with pytest.raises(ConfigError, match="needs class labels"):
        latent_space(cfg, None)
    assert latent_space(cfg, 10).num_classes == 10
    assert latent_space(ModelConfig(), 10).num_classes == 0  # labels in the data, but G is unconditional
    assert math.isclose(latent_space(ModelConfig(info_categorical=10, info_continuous=2)).input_dim, 96 + 12)
