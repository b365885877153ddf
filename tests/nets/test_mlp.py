import pytest
import torch

from gankit.config import Config, ModelConfig
from gankit.errors import ConfigError
from gankit.nets import MLPDiscriminator, MLPGenerator, build_networks


def test_mlp_shapes_for_images_and_points():
    g = MLPGenerator(8, (1, 28, 28), width=16, layers=2)
    assert g(torch.randn(4, 8)).shape == (4, 1, 28, 28)
    assert g(torch.randn(4, 8)).abs().max() <= 1
    d = MLPDiscriminator((1, 28, 28), width=16, layers=2)
    assert d(torch.randn(4, 1, 28, 28)).shape == (4,)
    gp = MLPGenerator(8, (2,), width=16, layers=2, tanh=False)
    assert gp(torch.randn(4, 8) * 100).abs().max() > 1  # points are not squashed into [-1, 1]
    assert MLPDiscriminator((2,), 16, 2)(torch.randn(4, 2)).shape == (4,)


def test_widths_double_in_g_and_halve_in_d():
    g = MLPGenerator(8, (2,), width=16, layers=3, tanh=False)
    d = MLPDiscriminator((2,), width=16, layers=3)
    assert [m.out_features for m in g.modules() if isinstance(m, torch.nn.Linear)] == [16, 32, 64, 2]
    assert [m.out_features for m in d.modules() if isinstance(m, torch.nn.Linear)] == [64, 32, 16, 1]


def test_build_rejects_shapes_an_architecture_cannot_handle():
    with pytest.raises(ConfigError, match="1×28×28"):
        build_networks(ModelConfig(arch="mnist-conv"), (3, 32, 32))
    with pytest.raises(ConfigError, match="square"):
        build_networks(ModelConfig(arch="dcgan"), (2,))


def test_d_layers_sets_the_discriminators_depth_apart_from_gs():
    g, d = build_networks(ModelConfig(arch="mlp", g_width=16, d_width=16, mlp_layers=3, d_layers=1), (2,))
    assert len([m for m in g.modules() if isinstance(m, torch.nn.Linear)]) == 4  # 3 hidden + output
    assert [m.out_features for m in d.modules() if isinstance(m, torch.nn.Linear)] == [16, 1]


def test_g_batch_norm_normalises_every_hidden_layer_only_when_asked():
    plain = MLPGenerator(8, (1, 28, 28), width=16, layers=3)
    normed = MLPGenerator(8, (1, 28, 28), width=16, layers=3, batch_norm=True)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in plain.modules())
    assert [m.num_features for m in normed.modules() if isinstance(m, torch.nn.BatchNorm1d)] == [16, 32, 64]
    g, _ = build_networks(ModelConfig(arch="mlp", g_width=16, d_width=16, g_norm="batch"), (1, 28, 28))
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in g.modules()) == 3
    with pytest.raises(ConfigError, match="g_norm"):
        Config().override({"model.g_norm": "layer"})
