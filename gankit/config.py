"""Typed run configuration: nested dataclasses, checked overrides, JSON round-trip.

A run is fully described by one :class:`Config`. Recipes (``gankit.recipes``) are ``Config`` values;
the command line and config files change fields with dotted names (``train.steps=2000``), and every
value is converted to the field's declared type and checked before anything runs.

Every field states its facts beside it (:func:`option`): its meaning in one line, whether a resumed run may
change it, whether the ranks of a torchrun run may differ in it, and where its values come from (a fixed set,
or the names of a registry). The lists other modules keep are read from there (:func:`field_facts`), and each
section checks its own values (``check``); :meth:`Config.validate` adds the rules that tie sections together.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.errors import ConfigError
from gankit.registry import unknown_name

FACTS = "gankit"  # the key of a field's FieldFacts in its dataclasses metadata


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The declared type of each field of the dataclass ``cls``: its annotations (strings, under postponed
    evaluation) resolved once per class; read it, never change it."""
    return typing.get_type_hints(cls)


@dataclass(frozen=True)
class FieldFacts:
    """What gankit knows about one config field, declared beside it with :func:`option`."""

    help: str  # what the field means, in one line (the source of a field reference and of --help)
    resumable: bool = False  # `gankit train --resume` may change it (store.resume.RESUMABLE_FIELDS)
    rank_local: bool = False  # the ranks of a torchrun run may differ in it (training.distributed.RANK_LOCAL_FIELDS)
    registry: str | None = None  # its values are names in this registry (training.choices.REGISTRIES)
    choices: tuple[str, ...] = ()  # its values, where they are a fixed small set (checked by its section)


def option(
    default: Any,
    help: str,
    *,
    resumable: bool = False,
    rank_local: bool = False,
    registry: str | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """A config field with its default and its facts (:class:`FieldFacts`), e.g.
    ``steps: int = option(2000, "game steps", resumable=True)``."""
    facts = FieldFacts(help, resumable, rank_local, registry, choices)
    return field(default=default, metadata={FACTS: facts})


# Bounds of values that are plainly absurd (memory is checked separately, see gankit.memory.footprint)
MAX_IMAGE_SIZE = 4096  # pixels per side
MAX_MAXOUT_PIECES = 64  # Goodfellow et al. 2013 use 2–5
MAX_MLP_LAYERS = 24  # hidden widths double per layer: width · 2**23 is already far beyond any machine
MAX_GRID_SIZE = 10_000  # images in a sample grid
MAX_FID_SAMPLES = 200_000  # generated at once for each FID during training
MAX_SEED = 2**63 - 2  # the grid's seed is seed + 1, and torch takes signed 64-bit seeds
WATCH_EVERY = 100  # the collapse watch's default period (measured cost: docs/collapse-watch.md)
MAX_TRIALS = 10_000  # trials of one run (each a folder RUN/trial-KK)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _check_choices(section: Any, name: str) -> None:
    """Each field of the section ``name`` that has a fixed set of ``choices`` holds one of them."""
    for f in dataclasses.fields(section):
        choices, value = f.metadata[FACTS].choices, getattr(section, f.name)
        if choices and value not in choices:
            raise unknown_name(value, choices, f"value for {name}.{f.name}:")


@dataclass
class DataConfig:
    """What to train on.

    ``name`` is a registered data set (``mnist``, ``fashion-mnist``, ``kmnist``, ``emnist-<split>``,
    ``stacked-mnist``, ``stacked-mnist-128k``, ``ring8``, ``grid25``) or ``folder`` (any folder of PNG/JPEG
    images, given by ``dir``).
    """

    name: str = option("mnist", "the data set: a registered one, or folder (images in data.dir)", registry="datasets")
    dir: str | None = option(
        None,
        "IDX files or image folder; None: $GANKIT_DATA_DIR, then the cache dir",
        resumable=True,
        rank_local=True,  # each node may mount the data somewhere else
    )
    split: str = option("train", "the split to train on: train or test", choices=("train", "test"))
    image_size: int | None = option(None, "resize (and centre-crop) to this size; None keeps the native size")
    channels: int | None = option(None, "1 (grey) or 3 (RGB); None keeps the native channels")
    download: bool = option(False, "fetch missing files (with MD5 checks) into dir / the cache dir", resumable=True)
    limit: int | None = option(None, "keep only the first `limit` examples")
    toy_points: int = option(100_000, "size of the 2-D toy data sets (ring8, grid25)")

    def check(self) -> None:
        """Reject impossible values of this section with a message that says how to fix them."""
        _check_choices(self, "data")
        _check(
            self.name != "folder" or self.dir is not None,
            "data.name=folder needs the folder: set data.dir (or --data-dir) to a folder of PNG/JPEG images",
        )
        _check(
            self.image_size is None or 4 <= self.image_size <= MAX_IMAGE_SIZE,
            f"data.image_size must lie in 4..{MAX_IMAGE_SIZE} pixels, got {self.image_size}",
        )
        _check(self.channels in (None, 1, 3), f"data.channels must be 1 or 3, got {self.channels}")
        _check(self.limit is None or self.limit > 0, f"data.limit must be positive, got {self.limit}")
        _check(self.toy_points > 0, f"data.toy_points must be positive, got {self.toy_points}")


@dataclass
class ModelConfig:
    """Generator and discriminator architecture (see ``gankit.nets``)."""

    arch: str = option(
        "mnist-conv",
        "G's and D's architecture: mlp, maxout (PacGAN's 2-D nets), dcgan, dcgan-tf (DCGAN-tensorflow's: PacGAN "
        "Table 2); 28×28: mnist-conv, infogan, infogan-authors-g, small-dcgan",
        registry="architectures",
    )
    latent_dim: int = option(96, "dimension of G's noise z")
    latent_dist: str = option("uniform", "uniform (U(-1, 1)) or normal (N(0, 1))", choices=("uniform", "normal"))
    g_width: int = option(
        64,
        "DCGAN: channels of G's last hidden layer (ngf); mnist-conv, infogan: G's convT channels (64 as the "
        "papers); MLP: first hidden width",
    )
    d_width: int = option(
        64,
        "DCGAN: channels of D's first layer (ndf); mnist-conv: D's second conv's, infogan: D's first conv's (64 "
        "as the papers); MLP: last hidden width",
    )
    mlp_layers: int = option(3, "hidden layers of the MLP generator / discriminator")
    d_layers: int | None = option(None, "hidden layers of an MLP or maxout D (None: mlp_layers)")
    maxout_pieces: int = option(5, "affine pieces per maxout unit of the maxout D (Goodfellow et al. 2013)")
    g_norm: str = option(
        "none",
        "MLP generator: batch (batch norm after each hidden layer, as PyTorch-GAN's) or none",
        choices=("batch", "none"),
    )
    d_norm: str = option(
        "batch", "DCGAN critic normalisation: batch, layer (WGAN-GP) or none", choices=("batch", "layer", "none")
    )
    spectral_norm: bool = option(False, "spectral normalisation of every D layer (Miyato et al. 2018)")
    init: str = option("dcgan", "dcgan (N(0, 0.02)), xavier or default (PyTorch's)", registry="inits")
    conditioning: str = option(
        "none",
        "none, concat (Mirza & Osindero 2014), projection (Miyato & Koyama 2018)",
        choices=("none", "concat", "projection"),
    )
    label_embed_dim: int = option(10, "conditional G: width of the class embedding concatenated to z")
    info_categorical: int = option(0, "InfoGAN: values of the categorical code (0: none; Chen et al. 2016 use 10)")
    info_continuous: int = option(0, "InfoGAN: number of continuous codes c ~ U(-1, 1) (Chen et al. 2016 use 2)")
    info_continuous_std: float | None = option(
        None, "InfoGAN: σ of Q's Gaussian over each continuous code (None: learned)"
    )
    minibatch: str = option(
        "none",
        "minibatch features in D: none, discrimination (Salimans et al. 2016), stddev",
        registry="minibatch_layers",
    )
    mbd_kernels: int = option(100, "minibatch discrimination: B, the number of kernels")
    mbd_kernel_dim: int = option(5, "minibatch discrimination: C, the dimension of each kernel")
    pack: int = option(1, "PacGAN: D judges this many samples at once (Lin et al. 2018; 1 = no packing)")

    @property
    def discriminator_layers(self) -> int:
        """Hidden layers of an MLP or maxout D: ``d_layers``, else ``mlp_layers``."""
        return self.mlp_layers if self.d_layers is None else self.d_layers

    def check(self) -> None:
        """Reject impossible values of this section with a message that says how to fix them."""
        _check_choices(self, "model")
        _check(self.latent_dim > 0, f"model.latent_dim must be positive, got {self.latent_dim}")
        _check(self.g_width > 0 and self.d_width > 0, "model.g_width and model.d_width must be positive")
        _check(
            1 <= self.mlp_layers <= MAX_MLP_LAYERS,
            f"model.mlp_layers must lie in 1..{MAX_MLP_LAYERS} (hidden widths double with each layer), "
            f"got {self.mlp_layers}",
        )
        _check(
            self.d_layers is None or 1 <= self.d_layers <= MAX_MLP_LAYERS,
            f"model.d_layers must lie in 1..{MAX_MLP_LAYERS} or be none (none: model.mlp_layers), got {self.d_layers}",
        )
        _check(
            1 <= self.maxout_pieces <= MAX_MAXOUT_PIECES,
            f"model.maxout_pieces must lie in 1..{MAX_MAXOUT_PIECES}, got {self.maxout_pieces}",
        )
        _check(self.label_embed_dim >= 1, f"model.label_embed_dim must be at least 1, got {self.label_embed_dim}")
        _check(
            self.info_categorical >= 0 and self.info_continuous >= 0,
            "model.info_categorical and model.info_continuous must be >= 0 (0: no such code)",
        )
        _check(self.info_categorical != 1, "model.info_categorical=1 is a code with one value; use 0 (none) or >= 2")
        _check(
            self.info_continuous_std is None or self.info_continuous_std > 0,
            f"model.info_continuous_std must be positive (or none: Q learns it), got {self.info_continuous_std}",
        )
        _check(
            self.mbd_kernels >= 1 and self.mbd_kernel_dim >= 1,
            "model.mbd_kernels and model.mbd_kernel_dim must be >= 1",
        )
        _check(self.pack >= 1, f"model.pack must be at least 1 (1: no packing), got {self.pack}")
        _check(
            self.pack == 1 or (self.conditioning == "none" and self.info_categorical == self.info_continuous == 0),
            "model.pack > 1 judges several samples with one logit, which cannot carry one class or code per "
            "sample: use packing without model.conditioning and InfoGAN codes",
        )


@dataclass
class LossConfig:
    """The adversarial objective and its regularisers (see ``gankit.losses``)."""

    objective: str = option(
        "least-squares",
        "minimax, nonsaturating, least-squares, hinge, wasserstein, relativistic, relativistic-average, "
        "relativistic-average-ls",
        registry="objectives",
    )
    gp_weight: float = option(0.0, "λ of the WGAN-GP gradient penalty (0 disables it)")
    clip_value: float | None = option(None, "WGAN weight clipping to [-c, c] after each D step (None disables)")
    g_adversarial: float = option(1.0, "weight of the objective's generator loss (0 with feature matching alone)")
    feature_matching: float = option(0.0, "weight of ‖E f(x) − E f(G(z))‖² in G's loss (Salimans et al. 2016)")
    info_weight: float = option(1.0, "InfoGAN λ for the categorical code's term of L_I (Chen et al. 2016, eq. 6)")
    info_continuous_weight: float = option(0.1, "InfoGAN λ for the continuous codes' term of L_I")
    reconstruction_weight: float = option(0.0, "λ₁ of ‖x − G(E(x))‖² in G's and E's loss (Che et al. 2017, eq. 3)")
    mode_weight: float = option(0.0, "λ₂ of the mode regulariser l_G(D(G(E(x)))) in G's and E's loss")

    @property
    def uses_encoder(self) -> bool:
        """Whether the mode-regularised GAN's encoder E is trained (either of its terms has weight > 0)."""
        return self.reconstruction_weight > 0 or self.mode_weight > 0

    def check(self) -> None:
        """Reject impossible values of this section with a message that says how to fix them."""
        _check_choices(self, "loss")
        _check(self.gp_weight >= 0, f"loss.gp_weight must be >= 0, got {self.gp_weight}")
        _check(
            self.clip_value is None or self.clip_value > 0,
            f"loss.clip_value must be positive (or none to disable clipping), got {self.clip_value}",
        )
        for name in (
            "g_adversarial",
            "feature_matching",
            "info_weight",
            "info_continuous_weight",
            "reconstruction_weight",
            "mode_weight",
        ):
            _check(getattr(self, name) >= 0, f"loss.{name} must be >= 0, got {getattr(self, name)}")
        _check(
            self.g_adversarial > 0 or self.feature_matching > 0,
            "G has nothing to minimise: loss.g_adversarial and loss.feature_matching are both 0",
        )


@dataclass
class OptimizerConfig:
    """One player's optimiser (the sections ``g_optim`` and ``d_optim``: see ``OPTIMIZER_SECTIONS``)."""

    name: str = option("adam", "adam, rmsprop or sgd", registry="optimizers")
    lr: float = option(2e-4, "learning rate", resumable=True)
    betas: tuple[float, float] = option(
        (0.5, 0.999), "Adam only: the decay rates β₁, β₂ of its moment estimates", resumable=True
    )
    momentum: float = option(0.0, "SGD and RMSProp only", resumable=True)
    weight_decay: float = option(0.0, "L2 penalty on the weights, applied by the optimiser", resumable=True)

    def check(self, name: str) -> None:
        """Reject impossible values of this section (``name``: ``g_optim`` or ``d_optim``, for messages)."""
        _check_choices(self, name)
        _check(self.lr > 0, f"{name}.lr must be positive, got {self.lr}")
        _check(all(0 <= b < 1 for b in self.betas), f"{name}.betas must lie in [0, 1), got {self.betas}")
        _check(0 <= self.momentum < 1, f"{name}.momentum must lie in [0, 1), got {self.momentum}")
        _check(0 <= self.weight_decay <= 1, f"{name}.weight_decay must lie in [0, 1], got {self.weight_decay}")


@dataclass
class TrainConfig:
    """The training loop: budget, batch, schedule of logs, samples and checkpoints."""

    steps: int = option(
        2000, "game steps: n_critic D updates, then g_steps G updates (1 each by default)", resumable=True
    )
    batch_size: int = option(128, "samples per step: the global batch, split over the ranks of a torchrun run")
    n_critic: int = option(1, "discriminator updates per game step (k in Goodfellow et al. 2014, Alg. 1)")
    g_steps: int = option(
        1, "generator updates per game step, after D's (2 in DCGAN-tensorflow, VEEGAN's and PacGAN's code)"
    )
    g_noise: str = option(
        "fresh",
        "G's noise: fresh draws, or shared with the D update before it (PacGAN's code)",
        choices=("fresh", "shared"),
    )
    scheme: str = option(
        "alternating", "alternating, simultaneous, extragradient, optimistic, lookahead", registry="schemes"
    )
    lookahead_k: int = option(5, "lookahead: fast steps between synchronisations (Chavdarova et al. 2021)")
    lookahead_alpha: float = option(0.5, "lookahead: how far the slow weights move towards the fast ones")
    seed: int = option(0, "seed of the weights, the data order and G's noise (the sample grids use seed + 1)")
    device: str = option("auto", "auto, cpu, cuda, cuda:1, mps", resumable=True)
    ema: float | None = option(None, "decay of an exponential moving average of G's weights (e.g. 0.999)")
    log_every: int = option(50, "a log line and a record in metrics.jsonl every this many steps", resumable=True)
    sample_at: tuple[int, ...] = option(
        (0, 200, 1000), "steps with a sample grid (the final step always has one)", resumable=True
    )
    sample_every: int = option(0, "also a grid every this many steps (0: off)", resumable=True)
    grid_size: int = option(64, "images in each sample grid")
    checkpoint_every: int = option(1000, "a checkpoint every this many steps (0: only at the end)", resumable=True)
    keep_checkpoints: int = option(2, "newest checkpoints kept on disk", resumable=True)
    progress: bool = option(True, "tqdm progress bar", resumable=True)
    tensorboard: bool = option(
        True, "also write TensorBoard event files to the run dir (if tensorboard is installed)", resumable=True
    )
    fid_every: int = option(
        0, "FID vs the test split every this many steps, to RUN/fid.jsonl (0: off; gankit.metrics)", resumable=True
    )
    fid_samples: int = option(2000, "generated samples per FID during training")
    watch_every: int = option(
        WATCH_EVERY,
        "collapse watch: modes covered, KL and mode hopping of a fixed batch of G's samples every this many steps "
        "(0: off; 100 cost 1.0% of a default lsgan run's time on a 2-core AVX2 EPYC; docs/collapse-watch.md)",
        resumable=True,
    )
    watch_samples: int | None = option(
        None, "collapse watch: samples in its fixed batch (None: 500; 2,000 for Stacked MNIST, 2,500 for 2-D data)"
    )
    watch_stop: int = option(
        0,
        "collapse watch: stop the run after this many consecutive collapsed checks, naming the last checkpoint "
        "saved before the collapse began (0: never stop, only warn)",
        resumable=True,
    )
    precision: str = option(
        "auto",
        "auto (bf16 where the device computes it fast, else fp32), fp32, bf16, fp16 (CUDA)",
        resumable=True,
        choices=("auto", "fp32", "bf16", "fp16"),
    )
    compile: str = option(
        "auto",
        "torch.compile of G and D: auto (where measured faster), off, on, reduce-overhead (+ CUDA graphs), "
        "max-autotune (+ CUDA graphs and kernel autotuning), cudagraphs (eager kernels in CUDA graphs, no codegen)",
        resumable=True,
        choices=("auto", "off", "on", "reduce-overhead", "max-autotune", "cudagraphs"),
    )
    time_budget: float | None = option(
        None,
        "seconds each invocation trains (a resumed run gets them afresh; train.steps is then ignored); none: "
        "train to train.steps",
        resumable=True,
    )
    ddp_check_every: int = option(
        0, "check every this many steps that all ranks hold identical weights (0: off)", resumable=True
    )
    ddp_timeout: float = option(
        600.0, "seconds a rank waits for the others (rendezvous, each collective)", resumable=True
    )
    sync_batchnorm: bool = option(False, "CUDA only: batch-norm statistics over the global batch instead of per rank")
    trials: int = option(
        1, "independent trials of the run, one per seed (seed, seed + 1, …), each in RUN/trial-KK (gankit.trials)"
    )
    seeds: tuple[int, ...] = option((), "the trials' seeds, if not seed, seed + 1, … (sets train.trials)")
    trials_mode: str = option(
        "auto",
        "how trials train: auto (together as one vectorised model where a short probe measures that faster), "
        "vectorised, graphed (vectorised, its step replayed from a CUDA graph; CUDA only), sequential (one after "
        "another)",
        resumable=True,
        choices=("auto", "vectorised", "graphed", "sequential"),
    )

    @property
    def trial_seeds(self) -> tuple[int, ...]:
        """The seed of each trial: ``seeds`` if given, else ``seed``, ``seed`` + 1, … (``trials`` of them)."""
        return self.seeds or tuple(self.seed + k for k in range(self.trials))

    def check(self) -> None:
        """Reject impossible values of this section with a message that says how to fix them."""
        _check_choices(self, "train")
        _check(0 <= self.seed <= MAX_SEED, f"train.seed must lie in 0..{MAX_SEED} (2**63 − 2), got {self.seed}")
        _check(self.steps >= 0, f"train.steps must be >= 0, got {self.steps}")
        _check(self.batch_size >= 1, f"train.batch_size must be at least 1, got {self.batch_size}")
        _check(
            self.n_critic >= 1,
            f"train.n_critic must be at least 1 (discriminator steps per game step), got {self.n_critic}",
        )
        _check(
            self.g_steps >= 1, f"train.g_steps must be at least 1 (generator steps per game step), got {self.g_steps}"
        )
        _check(self.lookahead_k >= 1, f"train.lookahead_k must be at least 1, got {self.lookahead_k}")
        _check(0 < self.lookahead_alpha <= 1, f"train.lookahead_alpha must lie in (0, 1], got {self.lookahead_alpha}")
        _check(
            self.ema is None or 0 < self.ema < 1,
            f"train.ema must lie in (0, 1) (e.g. 0.999) or be none, got {self.ema}",
        )
        _check(self.log_every >= 1, f"train.log_every must be at least 1, got {self.log_every}")
        _check(all(s >= 0 for s in self.sample_at), f"train.sample_at must hold steps >= 0, got {self.sample_at}")
        _check(self.sample_every >= 0, f"train.sample_every must be >= 0, got {self.sample_every}")
        _check(
            1 <= self.grid_size <= MAX_GRID_SIZE,
            f"train.grid_size must lie in 1..{MAX_GRID_SIZE} (images in each sample grid), got {self.grid_size}",
        )
        _check(self.checkpoint_every >= 0, f"train.checkpoint_every must be >= 0, got {self.checkpoint_every}")
        _check(
            self.fid_every >= 0, f"train.fid_every must be >= 0 (0 turns FID during training off), got {self.fid_every}"
        )
        _check(
            10 <= self.fid_samples <= MAX_FID_SAMPLES,
            f"train.fid_samples must lie in 10..{MAX_FID_SAMPLES}, got {self.fid_samples}",
        )
        _check(self.watch_every >= 0, f"train.watch_every must be >= 0 (0 turns the watch off), got {self.watch_every}")
        _check(
            self.watch_samples is None or 10 <= self.watch_samples <= MAX_FID_SAMPLES,
            f"train.watch_samples must lie in 10..{MAX_FID_SAMPLES} (or be none: the data's default), "
            f"got {self.watch_samples}",
        )
        _check(self.watch_stop >= 0, f"train.watch_stop must be >= 0 (0: never stop), got {self.watch_stop}")
        _check(self.keep_checkpoints >= 1, f"train.keep_checkpoints must be at least 1, got {self.keep_checkpoints}")
        _check(
            self.time_budget is None or 0 < self.time_budget < 1e9,
            f"train.time_budget must be a positive number of seconds, or none to train to train.steps, "
            f"got {self.time_budget}",
        )
        _check(
            self.ddp_check_every >= 0,
            f"train.ddp_check_every must be >= 0 (0: no check), got {self.ddp_check_every}",
        )
        _check(
            0 < self.ddp_timeout < 1e9,
            f"train.ddp_timeout must be a positive number of seconds, got {self.ddp_timeout}",
        )
        _check(
            1 <= self.trials <= MAX_TRIALS,
            f"train.trials must lie in 1..{MAX_TRIALS} (independent runs), got {self.trials}",
        )
        _check(
            not self.seeds or self.trials in (1, len(self.seeds)),
            f"train.trials is {self.trials} but train.seeds lists {len(self.seeds)} seeds: give one of them",
        )
        _check(len(self.seeds) <= MAX_TRIALS, f"train.seeds lists at most {MAX_TRIALS} seeds, got {len(self.seeds)}")
        _check(
            all(0 <= s <= MAX_SEED for s in self.trial_seeds),
            f"each trial's seed must lie in 0..{MAX_SEED}, got {_short(str(self.trial_seeds))}",
        )
        _check(
            len(set(self.trial_seeds)) == len(self.trial_seeds),
            f"train.seeds repeats a seed: {_short(str(self.seeds))}; each trial needs its own",
        )


OPTIMIZER_SECTIONS = {"generator": "g_optim", "discriminator": "d_optim"}  # each player's optimiser's section


@dataclass
class Config:
    """Everything that defines a run. Saved as ``config.json`` in every run directory."""

    recipe: str = option("custom", "the recipe the config was made from (custom: none)")
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    g_optim: OptimizerConfig = field(default_factory=OptimizerConfig)
    d_optim: OptimizerConfig = field(default_factory=OptimizerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """Build a config from a (possibly partial) nested mapping; missing fields keep their defaults."""
        return apply_mapping(cls(), data)

    def flat(self) -> dict[str, Any]:
        """Every field by its dotted name, e.g. ``{"recipe": "lsgan", "data.name": "mnist", ...}``."""
        out = {}
        for path in field_paths(self):
            value: Any = self
            for part in path.split("."):
                value = getattr(value, part)
            out[path] = value
        return out

    @property
    def has_trials(self) -> bool:
        """Whether this is a trials run (``train.trials`` > 1 or ``train.seeds`` given): a folder of one-trial runs."""
        return self.train.trials > 1 or bool(self.train.seeds)

    def trial(self, k: int) -> Config:
        """The config of trial ``k``: this one with trial k's seed, as one ordinary run."""
        train = dataclasses.replace(self.train, seed=self.train.trial_seeds[k], trials=1, seeds=())
        return dataclasses.replace(_deep_copy(self), train=train)

    def override(self, assignments: Mapping[str, Any]) -> Config:
        """A copy with dotted fields replaced, e.g. ``{"train.steps": 10, "g_optim.lr": "1e-3"}``."""
        cfg = _deep_copy(self)
        for key, value in assignments.items():
            _set_path(cfg, key, value)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Reject impossible values with a message that says how to fix them: each section checks itself, then
        the rules that tie sections together.

        Names of registered parts (the fields declared with a ``registry``) are checked a layer above, by
        ``gankit.training.choices.check_choices``, where the registries are known.
        """
        self.data.check()
        self.model.check()
        self.loss.check()
        self.g_optim.check("g_optim")
        self.d_optim.check("d_optim")
        self.train.check()
        m, loss, t = self.model, self.loss, self.train
        _check(
            not loss.uses_encoder or (m.info_categorical == m.info_continuous == 0),
            "the reconstruction/mode regularisers encode x into G's noise only; they cannot be combined with "
            "InfoGAN codes (set loss.reconstruction_weight=0 and loss.mode_weight=0, or drop the codes)",
        )
        if loss.gp_weight > 0:
            _check(
                m.pack == 1 and m.minibatch == "none",
                "the gradient penalty is per sample; a packed D or minibatch features mix samples: set model.pack=1 "
                "and model.minibatch=none, or loss.gp_weight=0",
            )
            _check(
                m.d_norm != "batch",
                "the gradient penalty is per sample, which batch-norm in D breaks (Gulrajani et al. 2017, "
                "sec. 4): set model.d_norm=layer or model.d_norm=none",
            )
        if t.batch_size % m.pack:  # D judges whole packs of a batch (of each rank's share: World.check_batch)
            _check(
                m.pack <= t.batch_size,
                f"model.pack ({m.pack}) cannot exceed train.batch_size ({t.batch_size}): D judges packs of samples "
                "of one batch (Lin et al. use packs of 2–4)",
            )
            raise ConfigError(
                f"model.pack={m.pack} cannot split train.batch_size={t.batch_size} into whole packs: use a multiple "
                f"of {m.pack} (e.g. {t.batch_size // m.pack * m.pack})"
            )


def _deep_copy(cfg: Config) -> Config:
    return apply_mapping(Config(), cfg.to_dict(), check=False)


def field_paths(obj: Any = None, prefix: str = "") -> list[str]:
    """All dotted field names of a config, e.g. ``["recipe", "data.name", ...]``."""
    return list(field_facts(obj, prefix))


def field_facts(obj: Any = None, prefix: str = "") -> dict[str, FieldFacts]:
    """Every field's facts (declared with :func:`option`) by its dotted name, e.g. ``{"recipe": …, "data.name": …}``."""
    obj = obj if obj is not None else Config()
    facts = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            facts |= field_facts(value, f"{prefix}{f.name}.")
        else:
            facts[prefix + f.name] = f.metadata[FACTS]
    return facts


MAX_SUGGESTIONS = 4  # fields an unknown field's message suggests


def similar_fields(path: str) -> list[str]:
    """The fields a mistyped dotted name most likely meant, best first: the fields of that name in any section
    (``train.lr`` → ``g_optim.lr``, ``d_optim.lr``), then the closest dotted names, then the fields whose own
    names are closest (``train.learning_rate`` → ``g_optim.lr``…); at most ``MAX_SUGGESTIONS``."""
    paths = field_paths()
    name = path.rpartition(".")[2]
    last = {p: p.rpartition(".")[2] for p in paths}
    close_names = difflib.get_close_matches(name, set(last.values()), n=MAX_SUGGESTIONS, cutoff=0.6)
    found = [p for p in paths if last[p] == name]
    found += difflib.get_close_matches(path, paths, n=MAX_SUGGESTIONS, cutoff=0.6)
    found += [p for close in close_names for p in paths if last[p] == close]
    return list(dict.fromkeys(found))[:MAX_SUGGESTIONS]


def unknown_field(path: str) -> ConfigError:
    """The error for a dotted name that is no config field: the likeliest fields (``similar_fields``) and where
    every field is listed, not the list itself."""
    close = similar_fields(path)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ConfigError(f"unknown config field {path!r}.{hint} Every field: `gankit config` (or docs/config.md).")


def _set_path(cfg: Config, path: str, raw: Any) -> None:
    parts = path.split(".")
    target: Any = cfg
    for i, part in enumerate(parts):
        names = [f.name for f in dataclasses.fields(target)]
        if part not in names:
            raise unknown_field(path)
        if i < len(parts) - 1:
            target = getattr(target, part)
            if not dataclasses.is_dataclass(target):
                raise unknown_field(path)
    hints = field_types(type(target))
    name = parts[-1]
    if dataclasses.is_dataclass(getattr(target, name)):
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path} is a section; set its fields, e.g. {path}.{_first_field(target, name)}=…")
        apply_mapping(getattr(target, name), raw, prefix=path + ".", check=False)
        return
    setattr(target, name, convert(raw, hints[name], path))


def _first_field(obj: Any, name: str) -> str:
    return dataclasses.fields(getattr(obj, name))[0].name


def apply_mapping(obj: Any, data: Mapping[str, Any], prefix: str = "", check: bool = True) -> Any:
    """Write a nested mapping into a dataclass, converting and checking every value."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a table of fields for {prefix.rstrip('.') or 'the config'}, got {_short(data)}")
    names = {f.name for f in dataclasses.fields(obj)}
    hints = field_types(type(obj))
    for key, value in data.items():
        if key not in names:
            raise unknown_field(prefix + key)
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            apply_mapping(current, value, prefix + key + ".", check=False)
        else:
            setattr(obj, key, convert(value, hints[key], prefix + key))
    if check and isinstance(obj, Config):
        obj.validate()
    return obj


def convert(value: Any, tp: Any, path: str) -> Any:
    """Convert ``value`` (a Python value or a command-line string) to the type ``tp`` or raise ConfigError."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        is_none = value is None or (isinstance(value, str) and value.lower() in ("none", "null", ""))
        if is_none and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return convert(value, arg, path)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{path}: bad value {value!r}")
    if origin is tuple:
        if isinstance(value, str):
            text = value.strip().strip("()[]")
            value = [v for v in (s.strip() for s in text.split(",")) if v]
        if not isinstance(value, (list, tuple)):
            value = [value]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(convert(v, args[0], path) for v in value)
        if len(value) != len(args):
            raise ConfigError(f"{path} takes {len(args)} values (e.g. {path}=0.5,0.999), got {_short(value)}")
        return tuple(convert(v, a, path) for v, a in zip(value, args, strict=True))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{path} must be true or false, got {_short(value)}")
    if tp is int:
        return _to_int(value, path)
    if tp is float:
        return _to_float(value, path)
    if tp is str:
        if isinstance(value, str) and "\0" not in value:
            return value
        raise ConfigError(f"{path} must be a string (without NUL characters), got {_short(value)}")
    raise ConfigError(f"{path}: unsupported field type {tp!r}")  # pragma: no cover - a bug in Config


INT_LIMIT = 2**63  # every integer field must fit a signed 64-bit integer (what PyTorch takes)


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _to_int(value: Any, path: str) -> int:
    """An integer field's value: an int, an integral float, or a string of either; within ±2**63."""
    number: Any = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and len(value) <= 100:
        number = parse_int(value)
    if number is None:
        raise ConfigError(f"{path} must be an integer, got {_short(value)}")
    if not -INT_LIMIT < number < INT_LIMIT:
        raise ConfigError(f"{path} must be an integer of magnitude below 2**63, got {_short(value)}")
    return number


def parse_int(text: str) -> int | None:
    """An integer written as 1000, 1_000 or 1e3, of any magnitude; None if ``text`` is not one. With
    ``parse_float``, the one reader of typed numbers: config fields here, number options in gankit.commands."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        number = parse_float(text)
        return int(number) if number is not None and number.is_integer() else None


def parse_float(text: str) -> float | None:
    """A number written as 0.5, 1e-4 or 1_000 (inf and nan included); None if ``text`` is not one."""
    try:
        return float(text)
    except ValueError:
        return None


def _to_float(value: Any, path: str) -> float:
    """A number field's value: an int, a float or a string of one; finite (no inf, nan, or overflow)."""
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int beyond the float range
            number = math.inf
    elif isinstance(value, str) and len(value) <= 100:
        number = parse_float(value)
    if number is None:
        raise ConfigError(f"{path} must be a number, got {_short(value)}")
    if not math.isfinite(number):
        raise ConfigError(f"{path} must be a finite number, got {_short(value)}")
    return number


MAX_CONFIG_BYTES = 1 << 20  # a config file is a few hundred bytes; anything over 1 MiB is not one
MAX_CONFIG_DEPTH = 4  # sections hold fields, fields hold at most a list of values


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a nested table of fields from a ``.json`` or ``.toml`` file (UTF-8, at most 1 MiB)."""
    path = Path(path)
    kind = "TOML" if path.suffix == ".toml" else "JSON"
    try:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist (or is not a file); give a .json or .toml file")
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path} is over {MAX_CONFIG_BYTES // 1024} KiB: is it really a gankit config?")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte {raw[e.start]:#04x} at offset {e.start}); save it as UTF-8"
        ) from None
    try:
        fields = _parse_config_text(text, kind)
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply to be a gankit config") from None
    except (ValueError, TypeError) as e:
        raise ConfigError(f"config file {path} is not valid {kind}: {_one_line(e)}") from None
    if not isinstance(fields, dict):
        raise ConfigError(
            f'config file {path} must hold a table of fields (e.g. {{"train": {{"steps": 100}}}}), '
            f"got a {kind} {type(fields).__name__}"
        )
    if nesting_depth(fields, MAX_CONFIG_DEPTH) > MAX_CONFIG_DEPTH:
        raise ConfigError(
            f"config file {path} is nested more than {MAX_CONFIG_DEPTH} levels deep; a config has sections "
            "of fields (see `gankit recipes NAME`)"
        )
    return fields


def _parse_config_text(text: str, kind: str) -> Any:
    if kind == "TOML":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            raise ConfigError("TOML config files need Python 3.11+; use a .json file") from None
        return tomllib.loads(text)
    return json.loads(text)


def _one_line(error: Exception, limit: int = 200) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply lists and tables (dicts) nest in ``value`` (a scalar: 0), without recursion; counting
    stops once past ``limit``, so that a hostile structure costs no more than ``limit`` levels."""
    deepest, stack = 0, [(value, 0)]
    while stack and deepest <= limit:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in children)
    return deepest
