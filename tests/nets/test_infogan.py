import pytest
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


def test_authors_generator_puts_batch_norm_before_each_relu():
    """openai/InfoGAN's regularized_gan.py: FC 1024, FC 7·7·128 and deconv 64, each → BN → ReLU; deconv 1."""
    g = MnistConvGenerator(latent_dim=74, norm_first=True)
    kinds = [type(m) for m in g.net]
    assert kinds == [
        nn.Linear,
        nn.BatchNorm1d,
        nn.ReLU,
        nn.Linear,
        nn.BatchNorm1d,
        nn.ReLU,
        nn.Unflatten,
        nn.ConvTranspose2d,
        nn.BatchNorm2d,
        nn.ReLU,
        nn.ConvTranspose2d,
        nn.Tanh,
    ]
    fc = [m for m in g.net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in fc] == [(74, 1024), (1024, 7 * 7 * 128)]
    convs = [m for m in g.net if isinstance(m, nn.ConvTranspose2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(64, (4, 4), (2, 2)), (1, (4, 4), (2, 2))]
    # a layer that a norm follows has no bias (the norm's shift is one); the output layer keeps its bias
    assert [m.bias is None for m in g.net if isinstance(m, (nn.Linear, nn.ConvTranspose2d))] == [
        True,
        True,
        True,
        False,
    ]


def test_authors_generator_feeds_each_relu_a_normalised_batch():
    """What reaches each ReLU is batch-normalised (zero mean per unit in training mode), whatever z's scale."""
    torch.manual_seed(0)
    g = MnistConvGenerator(latent_dim=10, norm_first=True)
    seen: list[torch.Tensor] = []
    for m in g.net:
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(lambda mod, args, out: seen.append(args[0]))
    out = g(torch.rand(16, 10) * 20 + 5)
    assert len(seen) == 3
    for x in seen:
        dims = [0] if x.dim() == 2 else [0, 2, 3]
        assert x.mean(dims).abs().max() < 1e-4
    assert out.shape == (16, 1, 28, 28) and out.abs().max() <= 1


@pytest.mark.parametrize(("arch", "norm_first"), [("infogan", False), ("infogan-authors-g", True)])
def test_infogan_architectures_with_codes(arch, norm_first):
    g, d = build_networks(ModelConfig(arch=arch, latent_dim=62, info_categorical=10, info_continuous=2), (1, 28, 28))
    assert type(g.body) is MnistConvGenerator and g.body.norm_first is norm_first
    assert g.body.net[0].in_features == 74
    assert isinstance(g.body.net[1], nn.BatchNorm1d if norm_first else nn.ReLU)
    assert isinstance(d.body, InfoGANDiscriminator)
    out = d.run(torch.randn(4, 1, 28, 28))
    assert out.features.shape == (4, 1024) and out.q.logits.shape == (4, 10)
    assert g(torch.rand(4, 74) * 2 - 1).shape == (4, 1, 28, 28)
