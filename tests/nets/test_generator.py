import pytest
import torch

from gankit.config import ModelConfig
from gankit.latent import latent_space
from gankit.nets import build_networks


def test_conditional_generator_respects_the_requested_labels():
    """G(z, y) = body([z, embed(y)]) (Mirza & Osindero 2014): shapes, and the label's own embedding row."""
    torch.manual_seed(0)
    cfg = ModelConfig(arch="dcgan", latent_dim=6, g_width=8, conditioning="concat")
    g, _ = build_networks(cfg, (1, 28, 28), latent_space(cfg, 10))
    assert g.embed.weight.shape == (10, 10)  # label_embed_dim = 10
    seen = []
    g.body.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    g.eval()
    z, y = torch.rand(3, 6) * 2 - 1, torch.tensor([7, 0, 7])
    out = g(z, y)
    assert out.shape == (3, 1, 28, 28)
    torch.testing.assert_close(seen[0], torch.cat([z, g.embed.weight[y]], dim=1))
    torch.testing.assert_close(out[0], g(z[:1], torch.tensor([7]))[0])
    assert not torch.allclose(out[0], g(z[:1], torch.tensor([3]))[0])  # another class, another image
    with pytest.raises(ValueError, match="conditioned on a class"):
        g(z)


def test_unconditional_generator_refuses_labels():
    g, _ = build_networks(ModelConfig(arch="mlp", latent_dim=4, g_width=8, mlp_layers=1), (2,))
    assert g(torch.randn(3, 4)).shape == (3, 2)
    with pytest.raises(ValueError, match="not class-conditional"):
        g(torch.randn(3, 4), torch.zeros(3, dtype=torch.long))


def test_infogan_generator_reads_noise_and_codes():
    g, _ = build_networks(ModelConfig(latent_dim=62, info_categorical=10, info_continuous=2), (1, 28, 28))
    assert g.body.net[0].in_features == 74
