import pytest
import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.errors import ConfigError
from gankit.nets import SmallDCGANDiscriminator, SmallDCGANGenerator, build_networks
from tests.nets.layers import convs, upsampled_sizes


def test_generator_follows_the_unrolled_gan_stacked_mnist_g():
    """PacGAN's code (unrolled_GAN_experiment/*/model.py): FC 64·4·4, transposed 3×3 convs to 32, 16, 8 channels
    at 7, 14, 28 pixels, batch norm and ReLU after each, a 3×3 conv to the image and tanh."""
    g = SmallDCGANGenerator(256, channels=3, width=8)
    linear = g.net[0]
    assert (linear.in_features, linear.out_features) == (256, 64 * 4 * 4)
    assert convs(g) == [(64, 32, 3, 2), (32, 16, 3, 2), (16, 8, 3, 2), (8, 3, 3, 1)]
    sizes, h = upsampled_sizes(g.net, torch.randn(5, 256))
    assert sizes == [7, 14, 28] and h.shape == (5, 3, 28, 28)
    assert h.abs().max() <= 1
    norms = [m.num_features for m in g.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms == [64, 32, 16, 8]


@pytest.mark.parametrize(("width", "channels"), [(2, [2, 4, 8]), (4, [4, 8, 16])])
def test_discriminator_is_the_quarter_or_half_size_d(width, channels):
    """D = ¼G: 2, 4, 8 channels; D = ½G: 4, 8, 16 (their D=0.25G and D=0.5G); every conv 3×3 stride 2 with batch
    norm (the first layer included) and LeakyReLU(0.3); 28 → 14 → 7 → 4 pixels; FC to one logit."""
    d = SmallDCGANDiscriminator(3, width)
    assert [c[1] for c in convs(d)] == channels and all(c[2:] == (3, 2) for c in convs(d))
    assert [m.num_features for m in d.modules() if isinstance(m, nn.BatchNorm2d)] == channels
    assert all(m.negative_slope == 0.3 for m in d.modules() if isinstance(m, nn.LeakyReLU))
    assert d.trunk(torch.randn(6, 3, 28, 28)).shape == (6, channels[-1] * 4 * 4)
    assert d(torch.randn(6, 3, 28, 28)).shape == (6,)
    # parameters as their TensorFlow layers count them: conv weights and biases, BN β and γ, the FC layer
    c0, c1, c2 = channels
    expected = (27 * c0 + c0) + 2 * c0 + (9 * c0 * c1 + c1) + 2 * c1 + (9 * c1 * c2 + c2) + 2 * c2 + (16 * c2 + 1)
    assert sum(p.numel() for p in d.parameters()) == expected


def test_the_architecture_packs_and_checks_the_image_size():
    cfg = ModelConfig(arch="small-dcgan", latent_dim=256, latent_dist="normal", g_width=8, d_width=2, pack=4)
    g, d = build_networks(cfg, (3, 28, 28))
    x = g(torch.randn(8, 256))
    assert x.shape == (8, 3, 28, 28)
    assert d(x).shape == (2,)  # two packs of four stacks, 12 channels each
    with pytest.raises(ConfigError, match="28×28"):
        build_networks(cfg, (3, 32, 32))
