"""FID during training: every ``train.fid_every`` steps, ``train.fid_samples`` samples vs the test split.

The reference statistics (10,000 test images in the evaluator's feature space) are computed once; the
samples come from a fixed z (seed 1234), from G in eval mode (the EMA weights if the run keeps them), so
the curve in ``RUN/fid.jsonl`` ({"step", "fid", "n_fake"} per line) follows G alone. The value is the
registry's ``fid`` metric (``gankit.metrics.builtin``) with the data set's protocol extractor. FID from 2,000
samples is biased upwards against the 10,000-sample values of ``gankit eval``; compare a curve with itself.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from gankit.config import Config
from gankit.data import load_data
from gankit.latent import LatentSpace, generate
from gankit.metrics.catalog import metrics
from gankit.metrics.errors import EvaluatorError
from gankit.metrics.evaluate import extractor_for
from gankit.metrics.protocol import DEFAULT_N, Protocol
from gankit.metrics.registry import Context

Z_SEED = 1234


class FidMonitor:
    def __init__(self, cfg: Config, space: LatentSpace, log: Callable[[str], None] = print):
        self.cfg = cfg
        self.metric = metrics()["fid"]
        self.protocol = Protocol(seed=Z_SEED, metrics=(self.metric.name,)).resolved(cfg.data.name)
        self.extractor = extractor_for(self.protocol, cfg.data.name)
        if self.extractor is None:
            raise EvaluatorError(f"FID during training needs images with a feature extractor; {cfg.data.name} has none")
        reference = load_data(dataclasses.replace(cfg.data, split="test", limit=None), log=log)
        self.real = reference.x[:DEFAULT_N]
        rng = torch.Generator().manual_seed(Z_SEED)
        self.latent = space.sample(cfg.train.fid_samples, "cpu", rng)

    @torch.no_grad()
    def fid(self, generator: nn.Module, batch_size: int = 500) -> float:
        device = next(generator.parameters()).device
        was_training = generator.training
        generator.eval()
        try:
            parts = (self.latent[i : i + batch_size].to(device) for i in range(0, len(self.latent), batch_size))
            fake = torch.cat([generate(generator, part).float().cpu() for part in parts])
        finally:
            generator.train(was_training)
        context = Context(self.protocol, self.cfg.data.name, fake.clamp(-1, 1), self.real, self.extractor)
        return self.metric.compute(context)["fid"]

    def record(self, generator: nn.Module, step: int, path: Path) -> float:
        value = self.fid(generator)
        with open(path, "a") as f:
            f.write(json.dumps({"step": step, "fid": round(value, 5), "n_fake": len(self.latent)}) + "\n")
        return value
