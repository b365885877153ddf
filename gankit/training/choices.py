"""Which config fields name a registered part, and the check of a config against those registries.

``gankit.config`` checks types, ranges and combinations but knows no registry (it sits below them); this
module, above every registry, checks the names and the one combination that needs a registry's knowledge
(several G steps per game step only in a scheme that alternates the players). ``check_choices(cfg)`` runs
before a run is built, and the command line reads its choices from ``FIELD_CHOICES``.
"""

from __future__ import annotations

from gankit.config import Config
from gankit.data import DATASETS
from gankit.errors import ConfigError
from gankit.losses import OBJECTIVES
from gankit.nets import ARCHITECTURES
from gankit.nets.init import INITS
from gankit.nets.minibatch import MINIBATCH_LAYERS
from gankit.registry import Registry
from gankit.training.optim import OPTIMIZERS
from gankit.training.schemes import JOINT_SCHEMES, SCHEMES

FIELD_CHOICES: dict[str, Registry] = {
    "data.name": DATASETS,
    "model.arch": ARCHITECTURES,
    "model.init": INITS,
    "model.minibatch": MINIBATCH_LAYERS,
    "loss.objective": OBJECTIVES,
    "g_optim.name": OPTIMIZERS,
    "d_optim.name": OPTIMIZERS,
    "train.scheme": SCHEMES,
}


def check_choices(cfg: Config) -> Config:
    """``cfg`` if every field of ``FIELD_CHOICES`` names a registered part, else a ConfigError with suggestions."""
    for path, registry in FIELD_CHOICES.items():
        section, name = path.split(".")
        registry.check(getattr(getattr(cfg, section), name), f"value for {path}:")
    t = cfg.train
    if t.g_steps > 1 and t.scheme in JOINT_SCHEMES:
        raise ConfigError(
            f"train.g_steps={t.g_steps} needs a scheme that alternates the players: train.scheme={t.scheme} takes "
            "one joint step of both. Set train.g_steps=1, or train.scheme=alternating"
        )
    return cfg
