"""Which config fields name a registered part, and the check of a config against those registries.

``gankit.config`` checks types, ranges and combinations but knows no registry (it sits below them); this
module, above every registry, checks the names and the one combination that needs a registry's knowledge
(several G steps per game step only in a scheme that alternates the players). ``check_choices(cfg)`` runs
before a run is built (``train``, and ``gankit train --dry-run``) and when the command line assembles a config.
Which fields name a registry's parts is declared beside each field (``option(registry=…)`` in
``gankit.config``); ``REGISTRIES`` maps those keys to the registries, and ``FIELD_CHOICES`` maps each such field
to its registry. ``FIELD_CHOICES`` is read by ``check_choices`` alone (and by tests: the fuzz tests draw valid
names from it); the command line's own ``choices=`` lists (``--scheme``, ``--features``, …) come from the
registries directly.
"""

from __future__ import annotations

from gankit.config import Config, field_facts
from gankit.data import DATASETS
from gankit.errors import ConfigError
from gankit.losses import OBJECTIVES
from gankit.nets import ARCHITECTURES
from gankit.nets.init import INITS
from gankit.nets.minibatch import MINIBATCH_LAYERS
from gankit.registry import Registry
from gankit.training.optim import OPTIMIZERS
from gankit.training.schemes import JOINT_SCHEMES, SCHEMES

REGISTRIES: dict[str, Registry] = {
    "datasets": DATASETS,
    "architectures": ARCHITECTURES,
    "inits": INITS,
    "minibatch_layers": MINIBATCH_LAYERS,
    "objectives": OBJECTIVES,
    "optimizers": OPTIMIZERS,
    "schemes": SCHEMES,
}
FIELD_CHOICES: dict[str, Registry] = {
    path: REGISTRIES[facts.registry] for path, facts in field_facts().items() if facts.registry is not None
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
