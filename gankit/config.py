"""Typed run configuration: nested dataclasses, checked overrides, JSON round-trip.

A run is fully described by one :class:`Config`. Recipes (``gankit.recipes``) are ``Config`` values;
the command line and config files change fields with dotted names (``train.steps=2000``), and every
value is converted to the field's declared type and checked before anything runs.
"""

from __future__ import annotations

import dataclasses
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


@dataclass
class DataConfig:
    """What to train on.

    ``name`` is a registered data set (``mnist``, ``fashion-mnist``, ``kmnist``, ``emnist-<split>``,
    ``stacked-mnist``, ``stacked-mnist-128k``, ``ring8``, ``grid25``) or ``folder`` (any folder of PNG/JPEG
    images, given by ``dir``).
    """

    name: str = "mnist"
    dir: str | None = None  # IDX files or image folder; None: $GANKIT_DATA_DIR, then the cache dir
    split: str = "train"  # "train" or "test"
    image_size: int | None = None  # resize (and centre-crop) to this size; None keeps the native size
    channels: int | None = None  # 1 (grey) or 3 (RGB); None keeps the native channels
    download: bool = False  # fetch missing files (with MD5 checks) into dir / the cache dir
    limit: int | None = None  # keep only the first `limit` examples
    toy_points: int = 100_000  # size of the 2-D toy data sets (ring8, grid25)


@dataclass
class ModelConfig:
    """Generator and discriminator architecture (see ``gankit.nets``)."""

    # "mlp", "maxout" (PacGAN's 2-D nets), "dcgan", "dcgan-tf" (DCGAN-tensorflow's: PacGAN Table 2);
    # 28×28: "mnist-conv", "infogan", "infogan-authors-g", "small-dcgan"
    arch: str = "mnist-conv"
    latent_dim: int = 96
    latent_dist: str = "uniform"  # "uniform" (U(-1, 1)) or "normal" (N(0, 1))
    g_width: int = 64  # DCGAN: channels of G's last hidden layer (ngf); MLP: first hidden width
    d_width: int = 64  # DCGAN: channels of D's first layer (ndf); MLP: last hidden width
    mlp_layers: int = 3  # hidden layers of the MLP generator / discriminator
    d_layers: int | None = None  # hidden layers of an MLP or maxout D (None: mlp_layers)
    maxout_pieces: int = 5  # affine pieces per maxout unit of the maxout D (Goodfellow et al. 2013)
    g_norm: str = "none"  # MLP generator: "batch" (batch norm after each hidden layer, as PyTorch-GAN's) or "none"
    d_norm: str = "batch"  # DCGAN critic normalisation: "batch", "layer" (WGAN-GP) or "none"
    spectral_norm: bool = False  # spectral normalisation of every D layer (Miyato et al. 2018)
    init: str = "dcgan"  # "dcgan" (N(0, 0.02)), "xavier" or "default" (PyTorch's)
    conditioning: str = "none"  # "none", "concat" (Mirza & Osindero 2014), "projection" (Miyato & Koyama 2018)
    label_embed_dim: int = 10  # conditional G: width of the class embedding concatenated to z
    info_categorical: int = 0  # InfoGAN: values of the categorical code (0: none; Chen et al. 2016 use 10)
    info_continuous: int = 0  # InfoGAN: number of continuous codes c ~ U(-1, 1) (Chen et al. 2016 use 2)
    info_continuous_std: float | None = None  # InfoGAN: σ of Q's Gaussian over each continuous code (None: learned)
    minibatch: str = "none"  # minibatch features in D: "none", "discrimination" (Salimans et al. 2016), "stddev"
    mbd_kernels: int = 100  # minibatch discrimination: B, the number of kernels
    mbd_kernel_dim: int = 5  # minibatch discrimination: C, the dimension of each kernel
    pack: int = 1  # PacGAN: D judges this many samples at once (Lin et al. 2018; 1 = no packing)

    @property
    def discriminator_layers(self) -> int:
        """Hidden layers of an MLP or maxout D: ``d_layers``, else ``mlp_layers``."""
        return self.mlp_layers if self.d_layers is None else self.d_layers


@dataclass
class LossConfig:
    """The adversarial objective and its regularisers (see ``gankit.losses``)."""

    objective: str = "least-squares"  # minimax, nonsaturating, least-squares, hinge, wasserstein, relativistic, relativistic-average, relativistic-average-ls  # noqa: E501
    gp_weight: float = 0.0  # λ of the WGAN-GP gradient penalty (0 disables it)
    clip_value: float | None = None  # WGAN weight clipping to [-c, c] after each D step (None disables)
    g_adversarial: float = 1.0  # weight of the objective's generator loss (0 with feature matching alone)
    feature_matching: float = 0.0  # weight of ‖E f(x) − E f(G(z))‖² in G's loss (Salimans et al. 2016)
    info_weight: float = 1.0  # InfoGAN λ for the categorical code's term of L_I (Chen et al. 2016, eq. 6)
    info_continuous_weight: float = 0.1  # InfoGAN λ for the continuous codes' term of L_I
    reconstruction_weight: float = 0.0  # λ₁ of ‖x − G(E(x))‖² in G's and E's loss (Che et al. 2017, eq. 3)
    mode_weight: float = 0.0  # λ₂ of the mode regulariser l_G(D(G(E(x)))) in G's and E's loss

    @property
    def uses_encoder(self) -> bool:
        """Whether the mode-regularised GAN's encoder E is trained (either of its terms has weight > 0)."""
        return self.reconstruction_weight > 0 or self.mode_weight > 0


@dataclass
class OptimizerConfig:
    """One player's optimiser."""

    name: str = "adam"  # "adam", "rmsprop" or "sgd"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Adam only
    momentum: float = 0.0  # SGD and RMSProp only
    weight_decay: float = 0.0


@dataclass
class TrainConfig:
    """The training loop: budget, batch, schedule of logs, samples and checkpoints."""

    steps: int = 2000  # game steps: n_critic D updates, then g_steps G updates (1 each by default)
    batch_size: int = 128
    n_critic: int = 1  # discriminator updates per game step (k in Goodfellow et al. 2014, Alg. 1)
    g_steps: int = 1  # generator updates per game step, after D's (2 in DCGAN-tensorflow, VEEGAN's and PacGAN's code)
    g_noise: str = "fresh"  # G's noise: "fresh" draws, or "shared" with the D update before it (PacGAN's code)
    scheme: str = "alternating"  # alternating, simultaneous, extragradient, optimistic, lookahead
    lookahead_k: int = 5  # lookahead: fast steps between synchronisations (Chavdarova et al. 2021)
    lookahead_alpha: float = 0.5  # lookahead: how far the slow weights move towards the fast ones
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", "mps"
    ema: float | None = None  # decay of an exponential moving average of G's weights (e.g. 0.999)
    log_every: int = 50
    sample_at: tuple[int, ...] = (0, 200, 1000)  # steps with a sample grid (the final step always has one)
    sample_every: int = 0  # also a grid every this many steps (0: off)
    grid_size: int = 64  # images in each sample grid
    checkpoint_every: int = 1000  # 0: only at the end
    keep_checkpoints: int = 2  # newest checkpoints kept on disk
    progress: bool = True  # tqdm progress bar
    tensorboard: bool = True  # also write TensorBoard event files to the run dir (if tensorboard is installed)
    fid_every: int = 0  # FID vs the test split every this many steps, to RUN/fid.jsonl (0: off; gankit.metrics)
    fid_samples: int = 2000  # generated samples per FID during training
    precision: str = "auto"  # "auto" (bf16 where the device computes it fast, else fp32), "fp32", "bf16", "fp16" (CUDA)
    # torch.compile of G and D: "auto" (where measured faster), "off", "on", "reduce-overhead" (+ CUDA graphs),
    # "max-autotune" (+ CUDA graphs and kernel autotuning), "cudagraphs" (eager kernels in CUDA graphs, no codegen)
    compile: str = "auto"
    time_budget: float | None = None  # train this many seconds (train.steps is then ignored), then finish as usual
    # data-parallel runs (torchrun; README "Many devices"): batch_size is the global batch, split over the ranks
    ddp_check_every: int = 0  # check every this many steps that all ranks hold identical weights (0: off)
    ddp_timeout: float = 600.0  # seconds a rank waits for the others (rendezvous, each collective)
    sync_batchnorm: bool = False  # CUDA only: batch-norm statistics over the global batch instead of per rank


@dataclass
class Config:
    """Everything that defines a run. Saved as ``config.json`` in every run directory."""

    recipe: str = "custom"
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

    def override(self, assignments: Mapping[str, Any]) -> Config:
        """A copy with dotted fields replaced, e.g. ``{"train.steps": 10, "g_optim.lr": "1e-3"}``."""
        cfg = _deep_copy(self)
        for key, value in assignments.items():
            _set_path(cfg, key, value)
        validate(cfg)
        return cfg


def _deep_copy(cfg: Config) -> Config:
    return apply_mapping(Config(), cfg.to_dict(), check=False)


def field_paths(obj: Any = None, prefix: str = "") -> list[str]:
    """All dotted field names of a config, e.g. ``["recipe", "data.name", ...]``."""
    obj = obj if obj is not None else Config()
    paths = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            paths += field_paths(value, f"{prefix}{f.name}.")
        else:
            paths.append(prefix + f.name)
    return paths


def _set_path(cfg: Config, path: str, raw: Any) -> None:
    parts = path.split(".")
    target: Any = cfg
    for i, part in enumerate(parts):
        names = [f.name for f in dataclasses.fields(target)]
        if part not in names:
            raise unknown_name(path, field_paths(), "config field")
        if i < len(parts) - 1:
            target = getattr(target, part)
            if not dataclasses.is_dataclass(target):
                raise unknown_name(path, field_paths(), "config field")
    hints = typing.get_type_hints(type(target))
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
    hints = typing.get_type_hints(type(obj))
    for key, value in data.items():
        if key not in names:
            raise unknown_name(prefix + key, field_paths(), "config field")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            apply_mapping(current, value, prefix + key + ".", check=False)
        else:
            setattr(obj, key, convert(value, hints[key], prefix + key))
    if check and isinstance(obj, Config):
        validate(obj)
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


# Bounds of values that are plainly absurd (memory is checked separately, see gankit.training.memory)
MAX_IMAGE_SIZE = 4096  # pixels per side
MAX_MAXOUT_PIECES = 64  # Goodfellow et al. 2013 use 2–5
MAX_MLP_LAYERS = 24  # hidden widths double per layer: width · 2**23 is already far beyond any machine
MAX_GRID_SIZE = 10_000  # images in a sample grid
MAX_FID_SAMPLES = 200_000  # generated at once for each FID during training
MAX_SEED = 2**63 - 2  # the grid's seed is seed + 1, and torch takes signed 64-bit seeds


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _choice(value: str, options: Any, path: str) -> None:
    if value not in options:
        raise unknown_name(value, options, f"value for {path}:")


def validate(cfg: Config) -> None:
    """Reject impossible values with a message that says how to fix them.

    Names of registered parts (data set, architecture, objective, optimiser, scheme, init, minibatch layer)
    are checked a layer above, by ``gankit.training.choices.check_choices``, where the registries are known.
    """
    _check(cfg.data.split in ("train", "test"), f"data.split must be 'train' or 'test', got {cfg.data.split!r}")
    _check(
        cfg.data.name != "folder" or cfg.data.dir is not None,
        "data.name=folder needs the folder: set data.dir (or --data-dir) to a folder of PNG/JPEG images",
    )
    _check(
        cfg.data.image_size is None or 4 <= cfg.data.image_size <= MAX_IMAGE_SIZE,
        f"data.image_size must lie in 4..{MAX_IMAGE_SIZE} pixels, got {cfg.data.image_size}",
    )
    _check(cfg.data.channels in (None, 1, 3), f"data.channels must be 1 or 3, got {cfg.data.channels}")
    _check(cfg.data.limit is None or cfg.data.limit > 0, f"data.limit must be positive, got {cfg.data.limit}")
    _check(cfg.data.toy_points > 0, f"data.toy_points must be positive, got {cfg.data.toy_points}")

    _check(cfg.model.latent_dim > 0, f"model.latent_dim must be positive, got {cfg.model.latent_dim}")
    _choice(cfg.model.latent_dist, ("uniform", "normal"), "model.latent_dist")
    _check(cfg.model.g_width > 0 and cfg.model.d_width > 0, "model.g_width and model.d_width must be positive")
    _check(
        1 <= cfg.model.mlp_layers <= MAX_MLP_LAYERS,
        f"model.mlp_layers must lie in 1..{MAX_MLP_LAYERS} (hidden widths double with each layer), "
        f"got {cfg.model.mlp_layers}",
    )
    _check(
        cfg.model.d_layers is None or 1 <= cfg.model.d_layers <= MAX_MLP_LAYERS,
        f"model.d_layers must lie in 1..{MAX_MLP_LAYERS} or be none (none: model.mlp_layers), got {cfg.model.d_layers}",
    )
    _check(
        1 <= cfg.model.maxout_pieces <= MAX_MAXOUT_PIECES,
        f"model.maxout_pieces must lie in 1..{MAX_MAXOUT_PIECES}, got {cfg.model.maxout_pieces}",
    )
    _choice(cfg.model.d_norm, ("batch", "layer", "none"), "model.d_norm")
    _choice(cfg.model.g_norm, ("batch", "none"), "model.g_norm")
    m = cfg.model
    _choice(m.conditioning, ("none", "concat", "projection"), "model.conditioning")
    _check(m.label_embed_dim >= 1, f"model.label_embed_dim must be at least 1, got {m.label_embed_dim}")
    _check(
        m.info_categorical >= 0 and m.info_continuous >= 0,
        "model.info_categorical and model.info_continuous must be >= 0 (0: no such code)",
    )
    _check(m.info_categorical != 1, "model.info_categorical=1 is a code with one value; use 0 (none) or >= 2")
    _check(
        m.info_continuous_std is None or m.info_continuous_std > 0,
        f"model.info_continuous_std must be positive (or none: Q learns it), got {m.info_continuous_std}",
    )
    _check(m.mbd_kernels >= 1 and m.mbd_kernel_dim >= 1, "model.mbd_kernels and model.mbd_kernel_dim must be >= 1")
    _check(m.pack >= 1, f"model.pack must be at least 1 (1: no packing), got {m.pack}")
    _check(
        m.pack == 1 or (m.conditioning == "none" and m.info_categorical == m.info_continuous == 0),
        "model.pack > 1 judges several samples with one logit, which cannot carry one class or code per "
        "sample: use packing without model.conditioning and InfoGAN codes",
    )

    _check(cfg.loss.gp_weight >= 0, f"loss.gp_weight must be >= 0, got {cfg.loss.gp_weight}")
    _check(
        cfg.loss.clip_value is None or cfg.loss.clip_value > 0,
        f"loss.clip_value must be positive (or none to disable clipping), got {cfg.loss.clip_value}",
    )
    loss = cfg.loss
    for name in (
        "g_adversarial",
        "feature_matching",
        "info_weight",
        "info_continuous_weight",
        "reconstruction_weight",
        "mode_weight",
    ):
        _check(getattr(loss, name) >= 0, f"loss.{name} must be >= 0, got {getattr(loss, name)}")
    _check(
        loss.g_adversarial > 0 or loss.feature_matching > 0,
        "G has nothing to minimise: loss.g_adversarial and loss.feature_matching are both 0",
    )
    _check(
        not loss.uses_encoder or (m.info_categorical == m.info_continuous == 0),
        "the reconstruction/mode regularisers encode x into G's noise only; they cannot be combined with "
        "InfoGAN codes (set loss.reconstruction_weight=0 and loss.mode_weight=0, or drop the codes)",
    )
    if cfg.loss.gp_weight > 0:
        _check(
            m.pack == 1 and m.minibatch == "none",
            "the gradient penalty is per sample; a packed D or minibatch features mix samples: set model.pack=1 "
            "and model.minibatch=none, or loss.gp_weight=0",
        )
        _check(
            cfg.model.d_norm != "batch",
            "the gradient penalty is per sample, which batch-norm in D breaks (Gulrajani et al. 2017, "
            "sec. 4): set model.d_norm=layer or model.d_norm=none",
        )

    for name in ("g_optim", "d_optim"):
        opt: OptimizerConfig = getattr(cfg, name)
        _check(opt.lr > 0, f"{name}.lr must be positive, got {opt.lr}")
        _check(all(0 <= b < 1 for b in opt.betas), f"{name}.betas must lie in [0, 1), got {opt.betas}")
        _check(0 <= opt.momentum < 1, f"{name}.momentum must lie in [0, 1), got {opt.momentum}")
        _check(0 <= opt.weight_decay <= 1, f"{name}.weight_decay must lie in [0, 1], got {opt.weight_decay}")

    t = cfg.train
    _check(0 <= t.seed <= MAX_SEED, f"train.seed must lie in 0..{MAX_SEED} (2**63 − 2), got {t.seed}")
    _check(t.steps >= 0, f"train.steps must be >= 0, got {t.steps}")
    _check(t.batch_size >= 1, f"train.batch_size must be at least 1, got {t.batch_size}")
    _check(
        m.pack <= t.batch_size,
        f"model.pack ({m.pack}) cannot exceed train.batch_size ({t.batch_size}): D judges packs of samples "
        "of one batch (Lin et al. use packs of 2–4)",
    )
    _check(t.n_critic >= 1, f"train.n_critic must be at least 1 (discriminator steps per game step), got {t.n_critic}")
    _check(t.g_steps >= 1, f"train.g_steps must be at least 1 (generator steps per game step), got {t.g_steps}")
    _choice(t.g_noise, ("fresh", "shared"), "train.g_noise")
    _check(t.lookahead_k >= 1, f"train.lookahead_k must be at least 1, got {t.lookahead_k}")
    _check(0 < t.lookahead_alpha <= 1, f"train.lookahead_alpha must lie in (0, 1], got {t.lookahead_alpha}")
    _check(t.ema is None or 0 < t.ema < 1, f"train.ema must lie in (0, 1) (e.g. 0.999) or be none, got {t.ema}")
    _check(t.log_every >= 1, f"train.log_every must be at least 1, got {t.log_every}")
    _check(all(s >= 0 for s in t.sample_at), f"train.sample_at must hold steps >= 0, got {t.sample_at}")
    _check(t.sample_every >= 0, f"train.sample_every must be >= 0, got {t.sample_every}")
    _check(
        1 <= t.grid_size <= MAX_GRID_SIZE,
        f"train.grid_size must lie in 1..{MAX_GRID_SIZE} (images in each sample grid), got {t.grid_size}",
    )
    _check(t.checkpoint_every >= 0, f"train.checkpoint_every must be >= 0, got {t.checkpoint_every}")
    _check(t.fid_every >= 0, f"train.fid_every must be >= 0 (0 turns FID during training off), got {t.fid_every}")
    _check(
        10 <= t.fid_samples <= MAX_FID_SAMPLES,
        f"train.fid_samples must lie in 10..{MAX_FID_SAMPLES}, got {t.fid_samples}",
    )
    _check(t.keep_checkpoints >= 1, f"train.keep_checkpoints must be at least 1, got {t.keep_checkpoints}")
    _choice(t.precision, ("auto", "fp32", "bf16", "fp16"), "train.precision")
    _choice(t.compile, ("auto", "off", "on", "reduce-overhead", "max-autotune", "cudagraphs"), "train.compile")
    _check(
        t.time_budget is None or 0 < t.time_budget < 1e9,
        f"train.time_budget must be a positive number of seconds (or none), got {t.time_budget}",
    )
    _check(t.ddp_check_every >= 0, f"train.ddp_check_every must be >= 0 (0: no check), got {t.ddp_check_every}")
    _check(0 < t.ddp_timeout < 1e9, f"train.ddp_timeout must be a positive number of seconds, got {t.ddp_timeout}")


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
