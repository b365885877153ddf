import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.nets import InfoGANDiscriminator, MnistConvGenerator, build_networks


def test_follows_chen_et_al_table_1():
    d = InfoGANDiscriminator()
    convs = [m for m in d.trunk if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(64, (4, 4), (2, 2)), (128, (4, 4), (2, 2))]
    assert [type(m) for m in d.trunk].count(nn.BatchNorm2d) == 1 and isinstance(d.trunk[1], nn.LeakyReLU)
    assert all(m.negative_slope == 0.1 for m in d.trunk if isinstance(m, nn.LeakyReLU))
    fc = [m for m in d.trunk if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in fc] == [(7 * 7 * 128, 1024)]
    assert d(torch.randn(3, 1, 28, 28)).shape == (3,)


def test_infogan_architecture_with_codes():
    g, d = build_networks(
        ModelConfig(arch="infogan", latent_dim=62, info_categorical=10, info_continuous=2), (1, 28, 28)
    )
    assert isinstance(g.body, MnistConvGenerator) and g.body.net[0].in_features == 74
    out = d.run(torch.randn(4, 1, 28, 28))
    assert out.features.shape == (4, 1024) and out.q.logits.shape == (4, 10)
