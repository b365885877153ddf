import pytest
import torch

from gankit.errors import ConfigError
from gankit.latent import latent_space
from gankit.memory import footprint as footprint_module
from gankit.memory.footprint import check_footprint, footprint
from gankit.recipes import RECIPES, get_recipe


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_fits_and_its_parameters_are_counted_exactly(name):
    from gankit.nets import build_networks

    cfg = get_recipe(name)
    shape = (3, 28, 28) if RECIPES[name].data.startswith("stacked-mnist") else (1, 28, 28)
    space = latent_space(cfg.model, 10 if cfg.model.conditioning != "none" else None)
    estimate = check_footprint(cfg, shape, space, torch.device("cpu"))
    g, d = build_networks(cfg.model, shape, space)
    assert estimate.g_params == sum(p.numel() for p in g.parameters())
    assert estimate.d_params == sum(p.numel() for p in d.parameters())
    assert 10 * 2**20 < estimate.total < 2**30  # tens to hundreds of MiB


def test_the_estimate_grows_with_the_batch_and_the_widths():
    cfg = get_recipe("dcgan")
    space = latent_space(cfg.model)
    base = footprint(cfg, (1, 28, 28), space)
    assert footprint(cfg.override({"train.batch_size": 256}), (1, 28, 28), space).total > base.total
    wide = cfg.override({"model.g_width": 128})
    assert footprint(wide, (1, 28, 28), latent_space(wide.model)).g_params > base.g_params


def test_the_meta_pass_runs_once_per_config_of_the_nets(monkeypatch):
    """A process builds one config many times (a start, a resume, each trial): the sizes of its nets are reused."""
    cfg = get_recipe("dcgan").override({"model.g_width": 24, "model.d_width": 24})  # sized by no other test
    space = latent_space(cfg.model)
    first = footprint(cfg, (1, 28, 28), space)

    def built(*args, **kwargs):
        raise AssertionError("the nets were built again")

    monkeypatch.setattr(footprint_module, "build_networks", built)
    assert (
        footprint(cfg.override({"train.steps": 7, "train.ema": 0.999}), (1, 28, 28), space).g_params == first.g_params
    )
    for other, shape in (
        ({"model.d_width": 32}, (1, 28, 28)),
        ({"train.batch_size": 8}, (1, 28, 28)),
        ({}, (1, 32, 32)),
    ):
        with pytest.raises(AssertionError, match="built again"):
            footprint(cfg.override(other), shape, space)


def test_what_cannot_fit_is_refused_with_the_size_it_would_need():
    cfg = get_recipe("dcgan").override({"model.latent_dim": 10**9})
    with pytest.raises(ConfigError, match=r"would need about [\d.]+ TiB, but only .* is available; lower model"):
        check_footprint(cfg, (1, 28, 28), latent_space(cfg.model), torch.device("cpu"))


@pytest.mark.parametrize(
    ("recipe", "overrides", "minimum", "says"),
    [
        ("nsgan", {"model.g_norm": "batch"}, 2, "G one sample per batch, and its batch norm (BatchNorm1d)"),
        ("dcgan", {"model.minibatch": "stddev", "model.d_norm": "none"}, 2, "its minibatch features (MinibatchStdDev)"),
        ("mbd", {"model.pack": 2}, 4, "D one sample per batch (packs of model.pack=2)"),
    ],
)
def test_a_batch_too_small_for_batch_statistics_is_refused_with_the_minimum(recipe, overrides, minimum, says):
    """Issue 26: train.batch_size=1 with batch norm died in PyTorch ("Expected more than 1 value per channel")."""
    cfg = get_recipe(recipe).override(overrides)
    space = latent_space(cfg.model)
    small = cfg.override({"train.batch_size": minimum // 2})
    with pytest.raises(ConfigError, match=f"set train.batch_size to at least {minimum}$") as e:
        footprint(small, (1, 28, 28), space)
    assert says in str(e.value)
    assert footprint(cfg.override({"train.batch_size": minimum}), (1, 28, 28), space).total > 0


def test_a_batch_of_one_is_fine_where_no_layer_needs_batch_statistics():
    cfg = get_recipe("dcgan").override({"train.batch_size": 1})  # its batch norms see whole feature maps
    assert footprint(cfg, (1, 28, 28), latent_space(cfg.model)).total > 0
