import torch
from torch import nn

from gankit.nets import MnistConvDiscriminator, MnistConvGenerator


def test_generator_is_the_cs231n_architecture():
    g = MnistConvGenerator(latent_dim=96)
    kinds = [type(m) for m in g.net]
    assert kinds == [
        nn.Linear,
        nn.ReLU,
        nn.BatchNorm1d,
        nn.Linear,
        nn.ReLU,
        nn.BatchNorm1d,
        nn.Unflatten,
        nn.ConvTranspose2d,
        nn.ReLU,
        nn.BatchNorm2d,
        nn.ConvTranspose2d,
        nn.Tanh,
    ]
    assert (g.net[0].in_features, g.net[0].out_features, g.net[3].out_features) == (96, 1024, 7 * 7 * 128)
    convs = [m for m in g.net if isinstance(m, nn.ConvTranspose2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(64, (4, 4), (2, 2)), (1, (4, 4), (2, 2))]
    out = g(torch.rand(3, 96) * 2 - 1)
    assert out.shape == (3, 1, 28, 28) and out.abs().max() <= 1


def test_discriminator_is_the_cs231n_architecture():
    d = MnistConvDiscriminator()
    kinds = [type(m) for m in d.trunk]
    assert kinds == [
        nn.Conv2d,
        nn.LeakyReLU,
        nn.MaxPool2d,
        nn.Conv2d,
        nn.LeakyReLU,
        nn.MaxPool2d,
        nn.Flatten,
        nn.Linear,
        nn.LeakyReLU,
    ]
    convs = [m for m in d.trunk if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(32, (5, 5), (1, 1)), (64, (5, 5), (1, 1))]
    assert all(m.negative_slope == 0.01 for m in d.trunk if isinstance(m, nn.LeakyReLU))
    assert d.trunk[7].in_features == d.trunk[7].out_features == 4 * 4 * 64
    assert (d.head.in_features, d.head.out_features) == (1024, 1)
    assert d(torch.randn(5, 1, 28, 28)).shape == (5,)


def test_model_widths_scale_the_mnist_conv_and_infogan_nets_and_64_is_the_papers():
    """``model.g_width`` / ``model.d_width`` were ignored by these nets; 64 (the default) keeps the papers' sizes."""
    from gankit.config import Config
    from gankit.nets import build_networks

    def sizes(arch: str, width: int) -> tuple[int, int]:
        cfg = Config().override({"model.arch": arch, "model.g_width": width, "model.d_width": width})
        g, d = build_networks(cfg.model, (1, 28, 28))[:2]
        return sum(p.numel() for p in g.parameters()), sum(p.numel() for p in d.parameters())

    paper_g = sum(p.numel() for p in MnistConvGenerator(latent_dim=Config().model.latent_dim).parameters())
    for arch in ("mnist-conv", "infogan"):
        (g64, d64), (g8, d8) = sizes(arch, 64), sizes(arch, 8)
        assert g64 == paper_g and 50 < g64 / g8 < 100 and 30 < d64 / d8 < 100
    assert sizes("mnist-conv", 64)[1] == sum(p.numel() for p in MnistConvDiscriminator().parameters())
