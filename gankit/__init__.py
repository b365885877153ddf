"""gankit: classic generative adversarial networks in PyTorch.

Quick use::

    from gankit import get_recipe, train, load_generator
    cfg = get_recipe("lsgan").override({"train.steps": 2000})
    train(cfg, "runs/lsgan")
    images = load_generator("runs/lsgan").generate(16)   # floats in [-1, 1]
"""

from gankit.config import Config
from gankit.recipes import RECIPES, get_recipe
from gankit.sample import write_samples
from gankit.store.resume import resume_config
from gankit.trained import load_generator
from gankit.training.trainer import train
from gankit.version import __version__

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
