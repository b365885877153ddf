import pytest
import torch

from gankit import load_generator, losses
from gankit.config import DataConfig
from gankit.data.load import load_data
from gankit.data.tensors import to_model_input
from gankit.errors import ConfigError
from gankit.metrics.extractors import load_extractor
from gankit.recipes import RECIPES, get_recipe
from gankit.training.trainer import train
from tests.helpers import slow_unless, tiny


def test_paper_defaults():
    wgan = get_recipe("wgan")
    assert (wgan.loss.objective, wgan.loss.clip_value, wgan.train.n_critic, wgan.train.batch_size) == (
        "wasserstein",
        0.01,
        5,
        64,
    )
    assert (wgan.d_optim.name, wgan.d_optim.lr, wgan.g_optim.name, wgan.g_optim.lr) == (
        "rmsprop",
        5e-5,
        "rmsprop",
        5e-5,
    )
    gp = get_recipe("wgan-gp")
    assert (gp.loss.gp_weight, gp.train.n_critic, gp.d_optim.lr, gp.d_optim.betas) == (10.0, 5, 1e-4, (0.0, 0.9))
    assert gp.loss.clip_value is None and gp.model.d_norm != "batch"
    ls = get_recipe("lsgan")
    assert (ls.model.arch, ls.model.latent_dim, ls.model.latent_dist, ls.train.batch_size) == (
        "mnist-conv",
        96,
        "uniform",
        128,
    )
    assert ls.loss.objective == "least-squares"
    dc = get_recipe("dcgan")
    assert (dc.model.arch, dc.g_optim.lr, dc.g_optim.betas[0], dc.train.batch_size) == ("dcgan", 2e-4, 0.5, 128)
    assert get_recipe("gan").loss.objective == "minimax"
    assert get_recipe("nsgan").loss.objective == "nonsaturating"
    assert get_recipe("hinge").loss.objective == "hinge"


def test_issue_4_recipes():
    cg = get_recipe("cgan")
    assert (cg.model.conditioning, cg.model.arch, cg.loss.objective) == ("concat", "dcgan", "nonsaturating")
    info = get_recipe("infogan")  # Chen et al. 2016, sec. 5 and app. C.1
    m = info.model
    assert (m.latent_dim, m.info_categorical, m.info_continuous, m.latent_dist) == (62, 10, 2, "uniform")
    assert (info.loss.info_weight, info.g_optim.lr, info.d_optim.lr) == (1.0, 1e-3, 2e-4)
    # the authors' code (openai/InfoGAN): Q(c | x) = N(μ, 1) for the continuous codes, λ = 1
    assert (m.info_continuous_std, info.loss.info_continuous_weight) == (1.0, 1.0)
    fm = get_recipe("fm")
    assert (fm.loss.g_adversarial, fm.loss.feature_matching) == (0.0, 1.0)
    assert get_recipe("mbd").model.minibatch == "discrimination"
    md = get_recipe("mdgan")
    assert md.loss.reconstruction_weight > 0 and md.loss.mode_weight > 0
    assert get_recipe("pacgan2").model.pack == 2
    for name in ("fm", "mbd", "mdgan", "pacgan2"):  # each differs from dcgan in its remedy (and batch 64) only
        diff = {k for k, v in _flat(get_recipe(name)).items() if _flat(get_recipe("dcgan"))[k] != v}
        assert diff - {"recipe", "train.batch_size"}, name
        assert all(
            k.startswith(("model.minibatch", "model.pack", "loss.")) for k in diff - {"recipe", "train.batch_size"}
        )


def test_the_pacgan_2d_recipe_is_the_authors_2d_setting():
    """Lin et al. 2018, sec. 5.1, and their code (synthetic_data_experiments/2D*_GAN&PacGAN/config.py)."""
    cfg = get_recipe("pacgan-2d")
    m = cfg.model
    assert (m.arch, m.latent_dim, m.latent_dist, m.init) == ("maxout", 2, "normal", "dcgan")
    assert (m.g_width, m.mlp_layers, m.d_width, m.discriminator_layers, m.maxout_pieces) == (400, 4, 200, 3, 5)
    assert (cfg.loss.objective, cfg.train.scheme, cfg.train.steps) == ("nonsaturating", "simultaneous", 400_000)
    assert cfg.train.batch_size == 100 * m.pack == 200  # 100 packs of 2 per step
    for opt in (cfg.g_optim, cfg.d_optim):
        assert (opt.name, opt.lr, opt.betas) == ("adam", 1e-4, (0.8, 0.999))
    assert cfg.data.name == "grid25" and cfg.data.toy_points == 100_000


RELATIVISTIC_RECIPES = {"rsgan": "relativistic", "ragan": "relativistic-average", "ralsgan": "relativistic-average-ls"}


@pytest.mark.parametrize("name", sorted(RELATIVISTIC_RECIPES))
def test_relativistic_recipes_are_dcgan_with_the_objective_only(name):
    cfg, dc = _flat(get_recipe(name)), _flat(get_recipe("dcgan"))
    assert {k for k, v in cfg.items() if dc[k] != v} == {"recipe", "loss.objective"}
    assert cfg["loss.objective"] == RELATIVISTIC_RECIPES[name]
    assert losses.OBJECTIVES[RELATIVISTIC_RECIPES[name]].g_reads_real


def _flat(cfg):
    from gankit.config import field_paths

    out = {}
    for path in field_paths(cfg):
        value = cfg
        for part in path.split("."):
            value = getattr(value, part)
        out[path] = value
    return out


def test_every_recipe_names_a_registered_objective():
    for name in RECIPES:
        assert get_recipe(name).loss.objective in losses.OBJECTIVES
        assert get_recipe(name).recipe == name


def test_unknown_recipe():
    with pytest.raises(ConfigError, match=r"unknown recipe 'wgan_gp'.*'wgan-gp'"):
        get_recipe("wgan_gp")


@pytest.mark.parametrize("name", slow_unless(sorted(RECIPES), ["lsgan", "wgan-gp", "pacgan-2d"]))
def test_every_recipe_trains_end_to_end_on_the_shipped_sample(name, tmp_path):
    cfg = tiny(name)
    training = train(cfg, tmp_path / name, echo=False)
    assert training.step == 4
    g_reads_data = (
        losses.OBJECTIVES[cfg.loss.objective].g_reads_real
        or cfg.loss.feature_matching > 0
        or cfg.loss.reconstruction_weight > 0
        or cfg.loss.mode_weight > 0
    )
    assert training.images_seen == 4 * (cfg.train.n_critic + g_reads_data) * cfg.train.batch_size
    assert (tmp_path / name / "samples" / "step-00000004.png").is_file()
    assert (tmp_path / name / "checkpoints" / "step-00000004" / "tensors.safetensors").is_file()


def test_the_stacked_mnist_recipe_trains_on_three_channel_digits():
    cfg = get_recipe("dcgan-stacked")
    assert (cfg.data.name, cfg.model.arch, cfg.train.batch_size) == ("stacked-mnist", "dcgan", 64)
    assert get_recipe("dcgan").data.name == "mnist"


@pytest.mark.parametrize(
    "name,extra",
    [  # the fast lane: the first and the last (labels with a penalty; packing with a minibatch layer)
        ("wgan-gp", {"model.conditioning": "projection"}),  # GP on interpolates with the real labels
        pytest.param("lsgan", {"model.pack": 2}, marks=pytest.mark.slow),
        pytest.param("hinge", {"model.minibatch": "stddev"}, marks=pytest.mark.slow),
        pytest.param("wgan-gp", {"loss.feature_matching": 1.0}, marks=pytest.mark.slow),
        pytest.param(
            "dcgan", {"loss.reconstruction_weight": 0.2, "train.scheme": "extragradient"}, marks=pytest.mark.slow
        ),
        pytest.param("infogan", {"train.scheme": "optimistic", "model.conditioning": "concat"}, marks=pytest.mark.slow),
        ("nsgan", {"data.name": "ring8", "model.pack": 4, "model.minibatch": "discrimination"}),
    ],
)
def test_remedies_combine_with_other_recipes(name, extra, tmp_path):
    training = train(tiny(name, **extra), tmp_path / "run", echo=False)
    assert training.step == 4
    records = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(records) == 2


@pytest.mark.slow
def test_the_mlp_gan_does_not_collapse(tmp_path):
    """Regression (issue 13): without batch norm in G the nsgan MLP collapsed onto one noisy image.

    After 300 steps on the shipped sample its samples' mean pairwise distance was 0.08 of the real images'
    (and their classifier features' variance 0.04 of theirs); with G's batch norm 0.58 (and 1.03). After 150
    steps (2-core AVX2 EPYC): 0.07 (0.04) without, 0.45 (0.50) with; the bounds sit between, a factor 2 or more
    from each.
    """
    cfg = get_recipe("nsgan").override(
        {"train.steps": 150, "train.sample_at": (0,), "train.checkpoint_every": 0, "train.progress": False}
        | {"train.device": "cpu", "train.tensorboard": False}
    )
    train(cfg, tmp_path / "run", echo=False)
    fake = load_generator(tmp_path / "run").generate(500, seed=0)
    real = to_model_input(load_data(DataConfig(), log=lambda _: None).x[:500])
    extractor = load_extractor("mnist")
    distance = torch.pdist(fake.flatten(1)).mean() / torch.pdist(real.flatten(1)).mean()
    variance = extractor.features(fake).var(0).sum() / extractor.features(real).var(0).sum()
    assert 0.2 < distance < 1.5
    assert 0.2 < variance < 3


def test_the_pacgan_stacked_recipe_is_the_authors_small_d_setting():
    """Lin et al. 2018, Table 3, and their code (stacked_MNIST_experiments/unrolled_GAN_experiment/D=0.25G)."""
    cfg = get_recipe("pacgan-stacked")
    m = cfg.model
    assert (m.arch, m.latent_dim, m.latent_dist, m.g_width, m.d_width) == ("small-dcgan", 256, "normal", 8, 2)
    assert (cfg.loss.objective, cfg.train.scheme, cfg.train.n_critic) == ("nonsaturating", "alternating", 1)
    assert cfg.train.batch_size == 128 * m.pack and cfg.train.steps == 500_000
    assert (cfg.d_optim.name, cfg.d_optim.lr, cfg.d_optim.betas) == ("adam", 2e-4, (0.5, 0.99))
    assert (cfg.g_optim.name, cfg.g_optim.lr, cfg.g_optim.betas) == ("adam", 1e-4, (0.5, 0.99))
    assert cfg.data.name == "stacked-mnist"


def test_the_pacgan_veegan_recipe_is_the_authors_table_2_setting():
    """Lin et al. 2018, Table 2, and their code (stacked_MNIST_experiments/VEEGAN_experiment: config.py, model.py)."""
    cfg = get_recipe("pacgan-veegan")
    m, t = cfg.model, cfg.train
    assert (m.arch, m.latent_dim, m.latent_dist, m.g_width, m.d_width) == ("dcgan-tf", 100, "uniform", 64, 64)
    assert (cfg.loss.objective, t.scheme, t.n_critic, t.g_steps, t.g_noise) == (
        "nonsaturating",
        "alternating",
        1,
        2,
        "shared",
    )
    assert t.batch_size == 64 * m.pack and t.steps == 50 * 128_000 // 64
    for opt in (cfg.d_optim, cfg.g_optim):
        assert (opt.name, opt.lr, opt.betas) == ("adam", 2e-4, (0.5, 0.999))
    assert cfg.data.name == "stacked-mnist-128k"
