"""Named recipes: each classic GAN as a ``Config`` over the shared parts, with its paper's defaults.

``gankit recipes`` lists them, ``gankit recipes NAME`` prints one, ``gankit train --recipe NAME`` trains
it. Any field can then be overridden (``--set g_optim.lr=1e-4``) or read from a config file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gankit.config import (
    Config,
    DataConfig,
    LossConfig,
    ModelConfig,
    OptimizerConfig,
    TrainConfig,
)
from gankit.registry import Registry

PACGAN_2D_PACKS = 100  # packs D judges per step in PacGAN's 2-D experiments (their batch_size)
PACGAN_STACKED_PACKS = 128  # packs D judges per step in PacGAN's small-D Stacked-MNIST experiment (Table 3)
PACGAN_VEEGAN_PACKS = 64  # packs D judges per step in PacGAN's Stacked-MNIST experiment in VEEGAN's setting (Table 2)


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    reference: str
    build: Callable[[], Config]
    data: str = "mnist"  # the data set the recipe trains on by default


def _mlp_gan(objective: str) -> Config:
    """The fully connected GAN on flattened images: G z → 256 → 512 → 1024 → 784 ReLU with batch norm, D 784 → 1024
    → 512 → 256 → 1 LeakyReLU(0.2), z ~ N(0, I₁₀₀), Adam 2e-4 β = (0.5, 0.999), batch 64.

    G's batch norm is that of the PyTorch-GAN examples' MLP GAN (eriklindernoren/PyTorch-GAN,
    ``implementations/gan/gan.py``, whose G is 128 → … → 1024 LeakyReLU and D 784 → 512 → 256); without it
    neither loss learned MNIST digits (docs/results.md).
    """
    return Config(
        model=ModelConfig(
            arch="mlp",
            latent_dim=100,
            latent_dist="normal",
            g_width=256,
            d_width=256,
            mlp_layers=3,
            g_norm="batch",
            init="default",
        ),
        loss=LossConfig(objective=objective),
        g_optim=OptimizerConfig("adam", lr=2e-4, betas=(0.5, 0.999)),
        d_optim=OptimizerConfig("adam", lr=2e-4, betas=(0.5, 0.999)),
        train=TrainConfig(batch_size=64),
    )


def _dcgan(objective: str = "nonsaturating", lr: float = 2e-4) -> Config:
    return Config(
        model=ModelConfig(arch="dcgan", latent_dim=100, latent_dist="uniform", g_width=64, d_width=64, init="dcgan"),
        loss=LossConfig(objective=objective),
        g_optim=OptimizerConfig("adam", lr=lr, betas=(0.5, 0.999)),
        d_optim=OptimizerConfig("adam", lr=lr, betas=(0.5, 0.999)),
        train=TrainConfig(batch_size=128),
    )


def _gan() -> Config:
    return _mlp_gan("minimax")


def _nsgan() -> Config:
    return _mlp_gan("nonsaturating")


def _lsgan() -> Config:
    return Config(
        model=ModelConfig(arch="mnist-conv", latent_dim=96, latent_dist="uniform", init="xavier"),
        loss=LossConfig(objective="least-squares"),
        g_optim=OptimizerConfig("adam", lr=1e-3, betas=(0.5, 0.999)),
        d_optim=OptimizerConfig("adam", lr=1e-3, betas=(0.5, 0.999)),
        train=TrainConfig(batch_size=128),
    )


def _hinge() -> Config:
    cfg = _dcgan("hinge")
    cfg.model.spectral_norm = True
    cfg.model.d_norm = "none"
    cfg.train.batch_size = 64
    return cfg


def _wgan() -> Config:
    cfg = _dcgan("wasserstein")
    cfg.loss.clip_value = 0.01
    cfg.g_optim = OptimizerConfig("rmsprop", lr=5e-5)
    cfg.d_optim = OptimizerConfig("rmsprop", lr=5e-5)
    cfg.train.batch_size = 64
    cfg.train.n_critic = 5
    return cfg


def _wgan_gp() -> Config:
    cfg = _dcgan("wasserstein")
    cfg.model.d_norm = "layer"
    cfg.loss.gp_weight = 10.0
    cfg.g_optim = OptimizerConfig("adam", lr=1e-4, betas=(0.0, 0.9))
    cfg.d_optim = OptimizerConfig("adam", lr=1e-4, betas=(0.0, 0.9))
    cfg.train.batch_size = 64
    cfg.train.n_critic = 5
    return cfg


def _dcgan_64(fields: dict[str, object] | None = None) -> Config:
    """The dcgan recipe at batch 64 with ``fields`` changed: each remedy is one option over plain DCGAN."""
    return _dcgan().override({"train.batch_size": 64} | (fields or {}))


def _dcgan_stacked() -> Config:
    return _dcgan_64()


def _cgan() -> Config:
    return _dcgan_64({"model.conditioning": "concat"})


def _infogan() -> Config:
    """Chen et al. (2016)'s MNIST InfoGAN with the authors' code's settings (openai/InfoGAN, run_mnist_exp.py).

    Q(c_i | x) for each continuous code is N(μ_i, 1), σ fixed at 1, and λ = 1 for every code: the continuous
    codes add −(c_i − μ_i)²/2 + const to the bound (a learned σ let them compete with c1 for the digit's shape).
    Per-seed accuracies are in docs/latent-structure.md, and what was screened against the paper's 95% (a learned
    σ, the authors' G, float32, the authors' batch and length; no change helped every seed) in its section
    "InfoGAN: what was screened against the paper's 95%".
    """
    return Config(
        model=ModelConfig(
            arch="infogan",
            latent_dim=62,
            latent_dist="uniform",
            info_categorical=10,
            info_continuous=2,
            info_continuous_std=1.0,
        ),
        loss=LossConfig(objective="nonsaturating", info_weight=1.0, info_continuous_weight=1.0),
        g_optim=OptimizerConfig("adam", lr=1e-3, betas=(0.5, 0.999)),
        d_optim=OptimizerConfig("adam", lr=2e-4, betas=(0.5, 0.999)),
        train=TrainConfig(batch_size=64),
    )


def _fm() -> Config:
    return _dcgan_64({"loss.g_adversarial": 0.0, "loss.feature_matching": 1.0})


def _mbd() -> Config:
    return _dcgan_64({"model.minibatch": "discrimination"})


def _mdgan() -> Config:
    return _dcgan_64({"loss.reconstruction_weight": 0.2, "loss.mode_weight": 0.4})


def _pacgan2() -> Config:
    return _dcgan_64({"model.pack": 2})


def _pacgan_2d() -> Config:
    """PacGAN's 2-D protocol (Lin et al. 2018, sec. 5.1 and Table 1; the authors' code, ``synthetic_data_experiments``).

    G: z ~ N(0, I₂) → 4 × [Linear 400 (no bias), batch norm, ReLU] → Linear 2; D: 3 maxout layers of 200 units ×
    5 pieces → Linear 1; weights N(0, 0.02), biases 0; non-saturating loss; both players' gradients taken at the
    same point and applied together (their ALI ``GradientDescent``: ``train.scheme=simultaneous``), G's at the
    z of D's (their one graph draws z once: ``train.g_noise=shared``); Adam 1e-4, β₁ 0.8; 100 packs per step
    (``train.batch_size`` counts samples: 100·m); 400 epochs of the fixed 100,000-point training set = 400,000
    steps.
    """
    pack = 2
    return Config(
        model=ModelConfig(
            arch="maxout",
            latent_dim=2,
            latent_dist="normal",
            g_width=400,
            d_width=200,
            mlp_layers=4,
            d_layers=3,
            maxout_pieces=5,
            init="dcgan",
            pack=pack,
        ),
        loss=LossConfig(objective="nonsaturating"),
        g_optim=OptimizerConfig("adam", lr=1e-4, betas=(0.8, 0.999)),
        d_optim=OptimizerConfig("adam", lr=1e-4, betas=(0.8, 0.999)),
        train=TrainConfig(batch_size=PACGAN_2D_PACKS * pack, steps=400_000, scheme="simultaneous", g_noise="shared"),
    )


def _pacgan_stacked() -> Config:
    """PacGAN's Stacked-MNIST experiment in the unrolled-GAN setting with D = ¼G (Lin et al. 2018, Table 3; Metz
    et al. 2017, app. E; the authors' code, ``stacked_MNIST_experiments/unrolled_GAN_experiment``).

    The small DCGAN (``gankit.nets.small_dcgan``: G 64-32-16-8 channels, D 2-4-8, ``model.d_width=4`` for D = ½G),
    z ~ N(0, I₂₅₆), non-saturating loss, one D step then one G step, Adam D 2e-4 / G 1e-4, β = (0.5, 0.99), 128
    packs per step (``train.batch_size`` counts samples: 128·m), 500,000 steps (their one epoch of 500,000
    batches of fresh stacks), 25,600 samples scored. Packs of 1: ``model.pack=1``, ``train.batch_size=128``.
    """
    pack = 2
    return Config(
        model=ModelConfig(
            arch="small-dcgan", latent_dim=256, latent_dist="normal", g_width=8, d_width=2, init="dcgan", pack=pack
        ),
        loss=LossConfig(objective="nonsaturating"),
        g_optim=OptimizerConfig("adam", lr=1e-4, betas=(0.5, 0.99)),
        d_optim=OptimizerConfig("adam", lr=2e-4, betas=(0.5, 0.99)),
        train=TrainConfig(batch_size=PACGAN_STACKED_PACKS * pack, steps=500_000),
    )


def _pacgan_veegan() -> Config:
    """PacGAN's Stacked-MNIST experiment in VEEGAN's setting (Lin et al. 2018, Table 2; Srivastava et al. 2017,
    sec. 5.2; the authors' code, ``stacked_MNIST_experiments/VEEGAN_experiment``, on Kim's DCGAN-tensorflow).

    DCGAN-tensorflow's nets (``gankit.nets.dcgan_tf``: 5×5 kernels, G 512-256-128-64, D 64-128-256-512), z ~
    U(−1, 1)¹⁰⁰, non-saturating loss, Adam 2e-4 β₁ 0.5 for both, 64 packs per step (``train.batch_size`` counts
    samples: 64·m), one D step then two G steps, all three on the same z (``train.g_steps=2``,
    ``train.g_noise=shared``), 50 epochs of the 128,000 training stacks (``stacked-mnist-128k``) = 100,000 steps,
    26,000 samples scored. Packs of 1 (their DCGAN row): ``model.pack=1``, ``train.batch_size=64``.
    """
    pack = 2
    return Config(
        model=ModelConfig(arch="dcgan-tf", latent_dim=100, latent_dist="uniform", init="dcgan", pack=pack),
        loss=LossConfig(objective="nonsaturating"),
        g_optim=OptimizerConfig("adam", lr=2e-4, betas=(0.5, 0.999)),
        d_optim=OptimizerConfig("adam", lr=2e-4, betas=(0.5, 0.999)),
        train=TrainConfig(batch_size=PACGAN_VEEGAN_PACKS * pack, steps=100_000, g_steps=2, g_noise="shared"),
    )


def _relativistic(objective: str) -> Config:
    """The dcgan recipe with a relativistic objective: one change, so its row compares the loss alone.

    Jolicoeur-Martineau (2018) trained with Adam 2e-4, β = (0.5, 0.999) and one D step per G step, as dcgan
    does; her batch of 32 (CIFAR-10) is not taken: dcgan's 128 keeps the comparison to one change, and her
    code's note says the small batch matters for SGAN and LSGAN, not for the relativistic losses.
    """
    return _dcgan().override({"loss.objective": objective})


def _rsgan() -> Config:
    return _relativistic("relativistic")


def _ragan() -> Config:
    return _relativistic("relativistic-average")


def _ralsgan() -> Config:
    return _relativistic("relativistic-average-ls")


_RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "gan",
            "the original minimax GAN with the saturating G loss log(1 − D(G(z))); MLP G (batch norm) and D",
            "Goodfellow et al. 2014; nets: PyTorch-GAN's MLP GAN (eriklindernoren/PyTorch-GAN, gan.py)",
            _gan,
        ),
        Recipe(
            "nsgan",
            "minimax D loss with the non-saturating G loss −log D(G(z)); MLP G (batch norm) and D",
            "Goodfellow et al. 2014, sec. 3; nets: PyTorch-GAN's MLP GAN (eriklindernoren/PyTorch-GAN, gan.py)",
            _nsgan,
        ),
        Recipe(
            "dcgan",
            "DCGAN nets, non-saturating loss, Adam 2e-4 β₁ 0.5, batch 128, z ~ U(−1, 1)^100",
            "Radford et al. 2015",
            _dcgan,
        ),
        Recipe(
            "lsgan",
            "least-squares loss on the cs231n MNIST conv GAN, batch 128, z ~ U(−1, 1)^96, Adam 1e-3",
            "Mao et al. 2017; Stanford cs231n",
            _lsgan,
        ),
        Recipe(
            "hinge",
            "hinge loss, DCGAN nets with spectral norm in D, Adam 2e-4 β₁ 0.5, batch 64",
            "Lim & Ye 2017; Miyato et al. 2018",
            _hinge,
        ),
        Recipe(
            "wgan",
            "Wasserstein loss, weight clipping c = 0.01, RMSProp 5e-5, batch 64, n_critic 5",
            "Arjovsky et al. 2017, Alg. 1",
            _wgan,
        ),
        Recipe(
            "wgan-gp",
            "Wasserstein loss, gradient penalty λ = 10, layer-norm critic, Adam 1e-4 β = (0, 0.9), "
            "batch 64, n_critic 5",
            "Gulrajani et al. 2017, Alg. 1",
            _wgan_gp,
        ),
        Recipe(
            "dcgan-stacked",
            "DCGAN on Stacked MNIST (3 digits as RGB, 1,000 modes; 28×28), non-saturating loss, batch 64",
            "Radford et al. 2015; Srivastava et al. 2017 and Lin et al. 2018 (protocol)",
            _dcgan_stacked,
            data="stacked-mnist",
        ),
        Recipe(
            "cgan",
            "class-conditional DCGAN: G(z, y) with a label embedding, one-hot label channels into D "
            "(model.conditioning=projection for a projection D), non-saturating loss, batch 64",
            "Mirza & Osindero 2014; Miyato & Koyama 2018 (projection)",
            _cgan,
        ),
        Recipe(
            "infogan",
            "InfoGAN: z ~ U(−1, 1)^62 plus a 10-way categorical and 2 U(−1, 1) codes, Q head on D's trunk, "
            "λ = 1, Q(c_i | x) = N(μ_i, 1) for the continuous codes (σ fixed, as the authors' code), "
            "Adam G 1e-3 / D 2e-4, the paper's MNIST D, batch 64",
            "Chen et al. 2016, sec. 5 and app. C.1; openai/InfoGAN (σ = 1)",
            _infogan,
        ),
        Recipe(
            "fm",
            "feature matching alone as G's loss, on the features of D's last hidden layer; DCGAN nets, batch 64",
            "Salimans et al. 2016, sec. 3.1",
            _fm,
        ),
        Recipe(
            "mbd",
            "minibatch discrimination (B = 100 kernels of dimension 5) before D's last layer; DCGAN nets, "
            "non-saturating loss, batch 64",
            "Salimans et al. 2016, sec. 3.2",
            _mbd,
        ),
        Recipe(
            "mdgan",
            "mode-regularised GAN: an encoder E, G's loss + 0.2·‖x − G(E(x))‖² + 0.4·l_G(D(G(E(x)))); "
            "DCGAN nets, non-saturating loss, batch 64 (λ₁, λ₂ chosen here; the paper tunes them)",
            "Che et al. 2017, sec. 3.1 (the regularised GAN)",
            _mdgan,
        ),
        Recipe(
            "pacgan2",
            "PacGAN: D judges packs of 2 samples (stacked along channels); DCGAN nets, non-saturating loss, batch 64",
            "Lin et al. 2018",
            _pacgan2,
        ),
        Recipe(
            "pacgan-2d",
            "PacGAN's 2-D experiments: D judges packs of 2 points; G 4×400 ReLU + batch norm, D 3×200 maxout "
            "(5 pieces), z ~ N(0, I₂), simultaneous Adam 1e-4 β₁ 0.8, 100 packs per step, 400,000 steps",
            "Lin et al. 2018, sec. 5.1 and Table 1 (the authors' code)",
            _pacgan_2d,
            data="grid25",
        ),
        Recipe(
            "pacgan-veegan",
            "PacGAN's Stacked-MNIST experiment in VEEGAN's setting: D judges packs of 2; DCGAN-tensorflow's nets "
            "(5×5 convs, G 512-256-128-64, D 64-128-256-512), z ~ U(−1, 1)¹⁰⁰, Adam 2e-4 β₁ 0.5, 64 packs per step, "
            "one D step then two G steps on the same z, 128,000 stacks of all 70,000 digits, 100,000 steps",
            "Lin et al. 2018, Table 2; Srivastava et al. 2017, sec. 5.2 (the PacGAN authors' code)",
            _pacgan_veegan,
            data="stacked-mnist-128k",
        ),
        Recipe(
            "pacgan-stacked",
            "PacGAN's small-D Stacked-MNIST experiment: D judges packs of 2; the unrolled GAN's small DCGAN with "
            "D = ¼G (3×3 convs, G 64-32-16-8, D 2-4-8 channels), z ~ N(0, I₂₅₆), Adam D 2e-4 / G 1e-4 β (0.5, 0.99), "
            "128 packs per step, 500,000 steps",
            "Lin et al. 2018, Table 3; Metz et al. 2017, app. E (the PacGAN authors' code)",
            _pacgan_stacked,
            data="stacked-mnist",
        ),
        Recipe(
            "rsgan",
            "relativistic standard GAN: D's loss −log σ(C(x_r) − C(x_f)) on pairs, G's the same with the roles "
            "swapped (so G's step also judges a real batch); the dcgan recipe with this objective only",
            "Jolicoeur-Martineau 2018 (ICLR 2019)",
            _rsgan,
        ),
        Recipe(
            "ragan",
            "relativistic average standard GAN (RaSGAN): each real logit against the mean fake one and vice versa, "
            "G's loss with the roles swapped; the dcgan recipe with this objective only",
            "Jolicoeur-Martineau 2018 (ICLR 2019)",
            _ragan,
        ),
        Recipe(
            "ralsgan",
            "relativistic average least-squares GAN: (C(x_r) − E C(x_f) − 1)² + (C(x_f) − E C(x_r) + 1)², G's loss "
            "with the roles swapped; the dcgan recipe with this objective only (not lsgan's nets)",
            "Jolicoeur-Martineau 2018 (ICLR 2019)",
            _ralsgan,
        ),
    )
}


RECIPES: Registry[Recipe] = Registry("recipe", _RECIPES)


def get_recipe(name: str) -> Config:
    """A fresh ``Config`` for the recipe ``name`` (data: the recipe's data set, MNIST for most)."""
    recipe = RECIPES.lookup(name)
    cfg = recipe.build()
    cfg.recipe = name
    cfg.data = DataConfig(name=recipe.data)
    return cfg
