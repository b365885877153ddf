import pytest
import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.errors import ConfigError
from gankit.nets import build_networks
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_stages


@pytest.mark.parametrize("size,stages", [(28, (7, 2)), (32, (4, 3)), (64, (4, 4)), (56, (7, 3))])
def test_stages(size, stages):
    assert dcgan_stages(size) == stages


@pytest.mark.parametrize("size", [30, 48, 4, 100])
def test_unsupported_sizes_are_rejected(size):
    with pytest.raises(ConfigError, match="4·2ⁿ or 7·2ⁿ"):
        dcgan_stages(size)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes(size, channels):
    g = DCGANGenerator(latent_dim=10, channels=channels, image_size=size, width=8)
    d = DCGANDiscriminator(channels=channels, image_size=size, width=8)
    x = g(torch.rand(5, 10) * 2 - 1)
    assert x.shape == (5, channels, size, size)
    assert x.abs().max() <= 1
    assert d(x).shape == (5,)


def test_follows_radford_et_al():
    g = DCGANGenerator(latent_dim=10, channels=3, image_size=64, width=8)
    d = DCGANDiscriminator(channels=3, image_size=64, width=8)
    g_layers, d_layers = list(g.net), [*list(d.trunk), d.head]
    # no pooling and no hidden fully connected layers anywhere
    for m in [*g.modules(), *d.modules()]:
        assert not isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear))
    # G: strided transposed convs, ReLU inside, tanh at the output, no BN on the output layer
    assert isinstance(g_layers[-1], nn.Tanh) and isinstance(g_layers[-2], nn.ConvTranspose2d)
    assert all(isinstance(m, nn.ReLU) for m in g_layers if isinstance(m, (nn.ReLU, nn.LeakyReLU)))
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g_layers) == 4
    assert [m.stride for m in g_layers if isinstance(m, nn.ConvTranspose2d)][1:] == [(2, 2)] * 4
    # D: strided convs with LeakyReLU(0.2), no BN on the input layer
    assert isinstance(d_layers[0], nn.Conv2d) and isinstance(d_layers[1], nn.LeakyReLU)
    assert all(m.negative_slope == 0.2 for m in d_layers if isinstance(m, nn.LeakyReLU))
    assert [m.stride for m in d_layers if isinstance(m, nn.Conv2d)][:-1] == [(2, 2)] * 4
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d_layers) == 3


def test_critic_norm_options():
    layer = DCGANDiscriminator(1, 32, 8, norm="layer")
    none = DCGANDiscriminator(1, 32, 8, norm="none")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in [*layer.modules(), *none.modules()])
    assert sum(isinstance(m, nn.GroupNorm) and m.num_groups == 1 for m in layer.modules()) == 2


def test_dcgan_init_and_spectral_norm():
    cfg = ModelConfig(arch="dcgan", latent_dim=16, g_width=16, d_width=16, init="dcgan", spectral_norm=True)
    g, d = build_networks(cfg, (1, 32, 32))
    w = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert w.std().item() == pytest.approx(0.02, rel=0.1)
    assert w.mean().item() == pytest.approx(0.0, abs=2e-3)
    sn = [m for m in d.modules() if hasattr(m, "parametrizations")]
    assert len(sn) == 4  # three convs in the trunk and the head
    d.train()
    for _ in range(20):  # power iteration converges; the normalised weight has spectral norm ≈ 1
        d(torch.randn(4, 1, 32, 32))
    w = sn[-1].weight.flatten(1)
    assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=0.05)
