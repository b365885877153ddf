"""gankit: classic generative adversarial networks in PyTorch.

Quick use::

    from gankit import get_recipe, train, load_generator
    cfg = get_recipe("lsgan").override({"train.steps": 2000})
    train(cfg, "runs/lsgan")
    images = load_generator("runs/lsgan").generate(16)   # floats in [-1, 1]

The names below are imported on first use (PEP 562), so that ``import gankit.config`` or the ``gankit`` command's
``--help`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gankit.version import __version__

if TYPE_CHECKING:
    from gankit.config import Config
    from gankit.recipes import RECIPES, get_recipe
    from gankit.sample import write_samples
    from gankit.store.resume import resume_config
    from gankit.trained import load_generator
    from gankit.training.trainer import train

_HOMES = {  # each public name's module
    "Config": "gankit.config",
    "RECIPES": "gankit.recipes",
    "get_recipe": "gankit.recipes",
    "write_samples": "gankit.sample",
    "resume_config": "gankit.store.resume",
    "load_generator": "gankit.trained",
    "train": "gankit.training.trainer",
}

__all__ = [
    "RECIPES",
    "Config",
    "__version__",
    "get_recipe",
    "load_generator",
    "resume_config",
    "train",
    "write_samples",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'gankit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # later reads skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
