"""Optimisers for each player, built from an ``OptimizerConfig``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch.optim import Optimizer

from gankit.config import OptimizerConfig
from gankit.registry import Registry


def _adam(params: Iterable[torch.nn.Parameter], c: OptimizerConfig) -> Optimizer:
    return torch.optim.Adam(params, lr=c.lr, betas=c.betas, weight_decay=c.weight_decay)


def _rmsprop(params: Iterable[torch.nn.Parameter], c: OptimizerConfig) -> Optimizer:
    return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)


def _sgd(params: Iterable[torch.nn.Parameter], c: OptimizerConfig) -> Optimizer:
    return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)


OPTIMIZERS: Registry[Callable[[Iterable[torch.nn.Parameter], OptimizerConfig], Optimizer]] = Registry(
    "optimiser", {"adam": _adam, "rmsprop": _rmsprop, "sgd": _sgd}
)


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig) -> Optimizer:
    return OPTIMIZERS.lookup(cfg.name)(params, cfg)
