"""A trained generator loaded back from its run folder, for sampling; InfoGAN's recognition network.

What the run folder holds, and where, is ``gankit.store.layout``; the checks of a checkpoint's state are
``gankit.store.state_schema``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit.config import Config
from gankit.data.tensors import to_model_input
from gankit.device import resolve_device
from gankit.errors import ConfigError, GankitError
from gankit.latent import Latent, LatentSpace, generate, latent_space
from gankit.nets import build_networks
from gankit.store.layout import latest_checkpoint, read_config
from gankit.store.state_schema import InvalidState, layout_problem, read_state

LATENT_CHUNK = 10_000  # G inputs drawn at once (see TrainedGenerator.latent_chunks)


def class_cycle(wanted: torch.Tensor, start: int, n: int) -> torch.Tensor:
    """Samples ``start``…``start + n − 1`` of the sequence ``wanted`` repeated: the class of each sample."""
    return wanted[(torch.arange(n) + start) % len(wanted)]


@dataclass
class TrainedGenerator:
    """A generator loaded from a run, ready to sample."""

    config: Config
    generator: nn.Module
    data_shape: tuple[int, ...]
    step: int
    checkpoint: Path
    space: LatentSpace

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    def latents(self, n: int, seed: int = 0, labels: Sequence[int] | torch.Tensor | None = None) -> Latent:
        """n seeded G inputs from the run's priors (all of :meth:`latent_chunks`, joined).

        A conditional G gets ``labels`` (one per sample, or a shorter list repeated), by default the classes
        in turn (0, 1, …, K−1, 0, …), so every class is equally represented.
        """
        chunks = list(self.latent_chunks(n, seed, labels))
        return Latent.cat(chunks) if chunks else self.space.sample(0)[:0]

    def latent_chunks(
        self, n: int, seed: int = 0, labels: Sequence[int] | torch.Tensor | None = None
    ) -> Iterator[Latent]:
        """The inputs of :meth:`latents` in chunks of at most ``LATENT_CHUNK``, drawn in turn from one seeded
        generator: any n is produced in bounded memory, and n ≤ ``LATENT_CHUNK`` is one draw."""
        wanted = self.wanted_labels(labels)
        rng = torch.Generator(device="cpu").manual_seed(seed)
        for start in range(0, n, LATENT_CHUNK):
            latent = self.space.sample(min(LATENT_CHUNK, n - start), "cpu", rng)
            if wanted is not None:
                latent = Latent(latent.z, class_cycle(wanted, start, len(latent.z)))
            yield latent

    def wanted_labels(self, labels: Sequence[int] | torch.Tensor | None) -> torch.Tensor | None:
        """The classes asked of a conditional G, checked (default: every class); None for an unconditional G."""
        if not self.space.num_classes:
            if labels is not None:
                raise GankitError("this generator is not class-conditional; it takes no class labels")
            return None
        k = self.space.num_classes
        wanted = torch.arange(k) if labels is None else torch.as_tensor(labels, dtype=torch.long).flatten()
        if wanted.numel() == 0 or wanted.min() < 0 or wanted.max() >= k:
            raise GankitError(f"class labels must lie in 0..{k - 1}, got {wanted.tolist()}")
        return wanted

    @torch.no_grad()
    def generate(
        self, n: int, seed: int = 0, batch_size: int = 500, labels: Sequence[int] | torch.Tensor | None = None
    ) -> torch.Tensor:
        """n samples as float tensors (images in [−1, 1], or points), from seeded inputs (see ``latents``)."""
        return self.generate_from(self.latents(n, seed, labels), batch_size)

    @torch.no_grad()
    def generate_from(self, latent: Latent, batch_size: int = 500) -> torch.Tensor:
        """G's samples for given inputs, in batches, on the CPU."""
        out = [
            generate(self.generator, latent[i : i + batch_size].to(self.device)).float().cpu()
            for i in range(0, len(latent), batch_size)
        ]
        return torch.cat(out) if out else torch.empty(0, *self.data_shape)


def load_generator(
    run_dir: str | Path, checkpoint: str | Path | None = None, use_ema: bool = True, device: str = "cpu"
) -> TrainedGenerator:
    """Load G (or its EMA, if the run kept one and ``use_ema``) from a run's latest or a given checkpoint."""
    cfg = read_config(run_dir)
    ckpt = Path(checkpoint) if checkpoint is not None else latest_checkpoint(run_dir)
    state: dict[str, Any] = read_state(ckpt)
    g, _, space = build_networks_for(cfg, state, ckpt)
    field, weights = "generator", state["generator"]
    if use_ema and state["ema"]:  # AveragedModel's state: n_averaged and module.<name> entries
        field = "ema"
        weights = {k.removeprefix("module."): v for k, v in state["ema"].items() if k.startswith("module.")}
    problem = layout_problem(g.state_dict(), weights)
    if problem:
        raise InvalidState(ckpt, field, problem)
    g.load_state_dict(weights)
    g.to(resolve_device(device)).eval()
    return TrainedGenerator(cfg, g, tuple(state["data_shape"]), state["step"], ckpt, space)


def load_recognition(
    run_dir: str | Path, checkpoint: str | Path | None = None, device: str = "cpu"
) -> tuple[Callable[[torch.Tensor], torch.Tensor], LatentSpace]:
    """InfoGAN's recognition network from a run's latest or a given checkpoint: D's trunk and Q's head as
    x ↦ argmax_c Q(c | x) for images (uint8 or in [−1, 1]), and the run's latent space."""
    cfg = read_config(run_dir)
    ckpt = Path(checkpoint) if checkpoint is not None else latest_checkpoint(run_dir)
    state: dict[str, Any] = read_state(ckpt)
    _, d, space = build_networks_for(cfg, state, ckpt)
    if not space.categorical:
        raise ConfigError(f"{run_dir} has no categorical code: Q recognises categories of InfoGAN runs only")
    problem = layout_problem(d.state_dict(), state["discriminator"])
    if problem:
        raise InvalidState(ckpt, "discriminator", problem)
    d.load_state_dict(state["discriminator"])
    dev = resolve_device(device)
    d.to(dev).eval()

    def recognise(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return d(to_model_input(x.to(dev)), q=True, full=True).q.logits.argmax(1)

    return recognise, space


def build_networks_for(cfg: Config, state: dict[str, Any], ckpt: Path) -> tuple[nn.Module, nn.Module, LatentSpace]:
    """G, D and the latent space as ``cfg`` describes them for the checkpoint's data shape and classes (a checked
    ``state``); the weights are not loaded."""
    num_classes = state["num_classes"] or 0
    if cfg.model.conditioning != "none" and not num_classes:
        raise InvalidState(ckpt, "num_classes", f"is {num_classes}, but config.json's model is class-conditional")
    space = latent_space(cfg.model, num_classes)
    try:
        g, d = build_networks(cfg.model, tuple(state["data_shape"]), space)
    except (ValueError, RuntimeError) as e:  # ConfigError is a ValueError
        raise InvalidState(ckpt, "data_shape", f"{state['data_shape']} does not fit config.json's model: {e}") from None
    return g, d, space
