import pytest
import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.errors import ConfigError
from gankit.nets import DCGANTFDiscriminator, DCGANTFGenerator, build_networks
from gankit.nets.dcgan_tf import stage_sizes
from tests.nets.layers import convs, upsampled_sizes


def test_stage_sizes_halve_rounding_up_as_tensorflows_same_padding():
    assert stage_sizes(28) == [28, 14, 7, 4, 2]
    assert stage_sizes(64) == [64, 32, 16, 8, 4]
    assert stage_sizes(17) == [17, 9, 5, 3, 2]


def test_generator_is_dcgan_tensorflows_at_28_pixels():
    """PacGAN's VEEGAN_experiment/model.py: FC to 512·2·2, transposed 5×5 stride-2 convs to 256, 128, 64 and C
    channels at 4, 7, 14, 28 pixels, batch norm and ReLU after all but the last, tanh."""
    g = DCGANTFGenerator(100, channels=3, image_size=28, width=64)
    assert (g.net[0].in_features, g.net[0].out_features) == (100, 512 * 2 * 2)
    assert convs(g) == [(512, 256, 5, 2), (256, 128, 5, 2), (128, 64, 5, 2), (64, 3, 5, 2)]
    sizes, h = upsampled_sizes(g.net, torch.randn(4, 100))
    assert sizes == [4, 7, 14, 28] and h.shape == (4, 3, 28, 28) and h.abs().max() <= 1
    assert [m.num_features for m in g.modules() if isinstance(m, nn.BatchNorm2d)] == [512, 256, 128, 64]


@pytest.mark.parametrize("size", [16, 28, 32, 33, 64])
def test_both_nets_fit_other_square_sizes(size):
    g, d = DCGANTFGenerator(10, 1, size, 8), DCGANTFDiscriminator(1, size, 8)
    x = g(torch.randn(3, 10))
    assert x.shape == (3, 1, size, size) and d(x).shape == (3,)


def test_discriminator_is_dcgan_tensorflows():
    """5×5 stride-2 convs to 64, 128, 256, 512 channels (28 → 14 → 7 → 4 → 2), batch norm on all but the first,
    LeakyReLU 0.2, one linear logit; parameters as their TensorFlow layers count them."""
    d = DCGANTFDiscriminator(6, 28, 64)
    assert convs(d) == [(6, 64, 5, 2), (64, 128, 5, 2), (128, 256, 5, 2), (256, 512, 5, 2)]
    assert [m.num_features for m in d.modules() if isinstance(m, nn.BatchNorm2d)] == [128, 256, 512]
    assert all(m.negative_slope == 0.2 for m in d.modules() if isinstance(m, nn.LeakyReLU))
    assert d.trunk(torch.randn(2, 6, 28, 28)).shape == (2, 512 * 2 * 2)
    conv_params = sum(25 * i * o + o for i, o, _, _ in convs(d))
    assert sum(p.numel() for p in d.parameters()) == conv_params + 2 * (128 + 256 + 512) + (2048 + 1)


def test_the_architecture_packs_and_refuses_small_or_oblong_images():
    cfg = ModelConfig(arch="dcgan-tf", latent_dim=100, pack=2)
    g, d = build_networks(cfg, (3, 28, 28))
    assert d(g(torch.randn(6, 100))).shape == (3,)  # three packs of two stacks, 6 channels each
    for shape in [(3, 8, 8), (3, 28, 32)]:
        with pytest.raises(ConfigError, match="dcgan-tf needs square images"):
            build_networks(cfg, shape)
