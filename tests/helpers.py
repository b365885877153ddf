"""Helpers shared by the tests."""

from __future__ import annotations

from gankit import get_recipe


def tiny(recipe: str = "lsgan", **overrides):
    """A few-second version of a recipe on the embedded MNIST sample (small nets, batches and data)."""
    cfg = get_recipe(recipe)
    small = {
        "train.steps": 4,
        "train.batch_size": 16,
        "train.log_every": 2,
        "train.sample_at": (0,),
        "train.checkpoint_every": 0,
        "train.progress": False,
        "train.device": "cpu",
        "train.grid_size": 16,
        "data.limit": 256,
    }
    if cfg.model.arch != "mnist-conv":
        small |= {"model.g_width": 8, "model.d_width": 8}
    if cfg.model.arch == "mlp":
        small |= {"model.g_width": 32, "model.d_width": 32}
    return cfg.override(small | overrides)
