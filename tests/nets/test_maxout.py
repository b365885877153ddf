import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.nets import Maxout, MaxoutDiscriminator, build_networks


def test_a_maxout_unit_is_the_largest_of_its_affine_pieces():
    """Goodfellow et al. 2013, eq. 1: h_i(x) = max_j (x·W_ij + b_ij)."""
    torch.manual_seed(0)
    layer = Maxout(3, 4, pieces=5)
    x = torch.randn(6, 3)
    pieces = x @ layer.linear.weight.T + layer.linear.bias  # (6, 4·5): unit i's pieces are columns 5i … 5i + 4
    expected = torch.stack([pieces[:, 5 * i : 5 * i + 5].max(dim=1).values for i in range(4)], dim=1)
    torch.testing.assert_close(layer(x), expected)
    assert Maxout(3, 4, pieces=1)(x).shape == (6, 4)


def test_maxout_discriminator_layers_and_shapes():
    d = MaxoutDiscriminator((4,), width=200, layers=3, pieces=5)
    linears = [m for m in d.trunk.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4, 1000), (200, 1000), (200, 1000)]
    assert d(torch.randn(7, 4)).shape == (7,)
    assert d.trunk(torch.randn(7, 4)).shape == (7, 200)


def test_the_maxout_architecture_builds_pacgans_2d_nets():
    """G: 4 × [Linear 400 without bias, batch norm, ReLU] → Linear 2; D: 3 maxout layers reading packs of m points."""
    cfg = ModelConfig(
        arch="maxout", latent_dim=2, latent_dist="normal", g_width=400, d_width=200, mlp_layers=4, d_layers=3, pack=3
    )
    g, d = build_networks(cfg, (2,))
    g_linears = [m for m in g.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features, m.bias is not None) for m in g_linears] == [
        (2, 400, False),
        (400, 400, False),
        (400, 400, False),
        (400, 400, False),
        (400, 2, True),
    ]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in g.modules()) == 4
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())  # points are not squashed
    assert isinstance(d.body, MaxoutDiscriminator) and d.body.trunk[1].linear.in_features == 6  # 3 points × 2
    assert d(g(torch.randn(9, 2))).shape == (3,)
