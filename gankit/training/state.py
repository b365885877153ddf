"""The complete state of a training run (:class:`Training`) and how it is built from a config.

``Training.state_dict`` is exactly what a checkpoint holds; ``train_step`` plays one game step through the
update scheme (the parameters change only in ``gankit.training.step``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gankit.config import Config
from gankit.data import TensorData, load_data, to_model_input
from gankit.data.tensors import data_nbytes
from gankit.device import resolve_device
from gankit.errors import CheckpointError
from gankit.latent import Latent, LatentSpace, latent_space
from gankit.memory.footprint import check_footprint
from gankit.nets import build_encoder, build_networks
from gankit.shard import Shard
from gankit.store.state_schema import OPTIMIZER_STATES
from gankit.training.batches import EpochSampler
from gankit.training.distributed import World, check_sync_batchnorm, sync_batchnorm
from gankit.training.engine import Engine, choose_engine, compiled, prepare_networks
from gankit.training.optim import build_optimizer
from gankit.training.precision import Timings
from gankit.training.precision_probe import measured_timings
from gankit.training.schemes import UpdateScheme, build_scheme
from gankit.training.step import GAN, Batch, GameLosses, unwrap
from gankit.version import __version__


@dataclass
class Training:
    """Everything a run changes while it trains; ``state_dict`` is exactly what a checkpoint holds."""

    cfg: Config
    device: torch.device
    data: TensorData
    gan: GAN
    losses: GameLosses
    scheme: UpdateScheme
    ema: AveragedModel | None
    sampler: EpochSampler
    space: LatentSpace
    grid_latent: Latent  # the fixed G inputs of every sample grid
    engine: Engine
    local_batch: int  # the rows of each batch this process computes: its share of train.batch_size (the global batch)
    step: int = 0
    images_seen: int = 0
    elapsed_s: float = 0.0
    shard: Shard = field(default_factory=Shard)  # this process's block of each global batch
    watch: dict[str, Any] | None = None  # the collapse watch's state (gankit.training.watch); None: no check yet

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.data.x.shape[1:])

    def next_real(self) -> Batch:
        """The next real minibatch (with labels when G and D are class-conditional)."""
        self.images_seen += self.cfg.train.batch_size
        index = self.sampler.next()
        y = self.data.y[index] if self.space.num_classes else None
        return Batch(to_model_input(self.data.x[index]), y)

    def sample_z(self, n: int | None = None) -> Latent:
        """Fresh G inputs (noise, and classes / InfoGAN codes where the model has them): this process's block
        of a draw of the global batch (see :mod:`gankit.shard`); ``n`` rows per process."""
        n = n or self.local_batch
        draw = self.space.sample(n * self.shard.world_size, self.device)
        return self.shard.take(draw, n)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One game step: a generator update and its ``n_critic`` discriminator updates, as the scheme plays them."""
        stats = self.scheme.step(self.gan, self.losses, self.cfg.train.n_critic, self.next_real, self.sample_z)
        if self.ema is not None:
            self.ema.update_parameters(self.gan.generator)
        self.step += 1
        return stats

    def players(self) -> dict[str, torch.nn.Module]:
        """The trained modules by name (eager): G, D and, when there is one, E."""
        named = {"generator": self.gan.generator, "discriminator": self.gan.discriminator, "encoder": self.gan.encoder}
        return {name: unwrap(m) for name, m in named.items() if m is not None}

    def stream_digest(self) -> str:
        """A hash of the random-number generators' and the data order's state: equal on every rank of a
        data-parallel run (:mod:`gankit.shard`), which is why rank 0's checkpoint resumes them all."""
        parts = [torch.get_rng_state(), self.sampler.rng.get_state(), self.sampler.perm.cpu()]
        if self.device.type == "cuda":
            parts.append(torch.cuda.get_rng_state(self.device))
        digest = hashlib.sha256(f"{self.sampler.epoch}/{self.sampler.position}".encode())
        for part in parts:
            digest.update(part.numpy().tobytes())
        return digest.hexdigest()

    def sampling_generator(self) -> torch.nn.Module:
        """G for samples and metrics: the EMA weights if the run keeps them, eager (never compiled)."""
        return self.ema.module if self.ema is not None else unwrap(self.gan.generator)

    def state_dict(self) -> dict[str, Any]:
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "gankit_version": __version__,
            "step": self.step,
            "images_seen": self.images_seen,
            "elapsed_s": self.elapsed_s,
            "data_shape": list(self.data_shape),
            "num_classes": self.space.num_classes,
            "generator": unwrap(self.gan.generator).state_dict(),
            "discriminator": unwrap(self.gan.discriminator).state_dict(),
            **{OPTIMIZER_STATES[player]: opt.state_dict() for player, opt in self.optimizers.items()},
            "encoder": self.gan.encoder.state_dict() if self.gan.encoder is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "scheme": self.scheme.state_dict(),
            "sampler": self.sampler.state_dict(),
            "grid_z": self.grid_latent.z,
            "grid_y": self.grid_latent.y,
            "rng": rng,
            "loss_scalers": self.gan.precision.state_dict(self.optimizers),
            "world_size": self.shard.world_size,  # informative: resuming with another world size is allowed
            "watch": self.watch,
        }

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimisers by player (``generator`` also steps the encoder), as the checkpoint names the players."""
        return {"generator": self.gan.g_optimizer, "discriminator": self.gan.d_optimizer}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if tuple(state["data_shape"]) != self.data_shape:
            raise CheckpointError(
                f"the checkpoint was trained on data of shape {tuple(state['data_shape'])}, "
                f"but the data now has shape {self.data_shape}"
            )
        self.step, self.images_seen = int(state["step"]), int(state["images_seen"])
        self.elapsed_s = float(state["elapsed_s"])
        unwrap(self.gan.generator).load_state_dict(state["generator"])
        unwrap(self.gan.discriminator).load_state_dict(state["discriminator"])
        for player, optimizer in self.optimizers.items():
            # from the CPU, so that torch places each state tensor as a fresh optimiser does (moments on the
            # parameter's device; a non-fused optimiser's step count stays on the CPU)
            optimizer.load_state_dict(_on_cpu(state[OPTIMIZER_STATES[player]]))
            match_layouts(optimizer)
        if self.gan.encoder is not None:
            self.gan.encoder.load_state_dict(state["encoder"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        self.sampler.load_state_dict(state["sampler"])
        self.scheme.load_state_dict(state["scheme"])
        self.gan.precision.load_state_dict(state.get("loss_scalers") or {}, self.optimizers)
        self.watch = state.get("watch")
        y = state.get("grid_y")
        self.grid_latent = Latent(state["grid_z"].to(self.device), None if y is None else y.to(self.device))
        # RNG states are CPU byte tensors, whatever device the checkpoint was mapped to
        torch.set_rng_state(state["rng"]["torch"].cpu())
        if self.device.type == "cuda" and "cuda" in state["rng"]:
            torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), self.device)


def _on_cpu(value: Any) -> Any:
    """``value`` with every tensor in it (nested dicts and lists) moved to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: _on_cpu(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_on_cpu(v) for v in value)
    return value


@torch.no_grad()
def match_layouts(optimizer: torch.optim.Optimizer) -> None:
    """Give each per-parameter state tensor (Adam's moments, …) its parameter's memory layout.

    Checkpoints store tensors contiguous; a channels_last parameter with contiguous moments would be
    updated element-wise out of step by the fused kernels, which assume one layout.
    """
    for group in optimizer.param_groups:
        for p in group["params"]:
            for key, value in optimizer.state.get(p, {}).items():
                if isinstance(value, torch.Tensor) and value.shape == p.shape and value.stride() != p.stride():
                    optimizer.state[p][key] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def build_training(
    cfg: Config, log: Callable[[str], None] = print, world: World | None = None, vmapped: bool = False
) -> Training:
    """Load the data onto the device and build the players, optimisers, EMA and sampler, all seeded.

    ``vmapped``: the Training is one of vectorised trials (its networks are stepped inside ``torch.vmap``), or the
    one-trial run such trials are compared with; the engine then picks a memory layout vmap takes.

    In a data-parallel run (``world``) each rank computes its share of every batch on its own device,
    rank 0 loads (and, if asked, downloads) the data first, and rank 0's weights are broadcast.
    """
    world = world or World()
    local_batch = world.check_batch(cfg)
    device = world.place(resolve_device(cfg.train.device))
    check_sync_batchnorm(cfg.train, device)
    torch.manual_seed(cfg.train.seed)
    data = world.main_first(lambda: load_data(cfg.data, log=log))
    shape = tuple(data.x.shape[1:])
    space = latent_space(cfg.model, data.num_classes)
    world.settle(
        lambda: check_footprint(cfg, shape, space, device, data_bytes=0 if device.type == "cpu" else data_nbytes(data))
    )
    data = data.to(device)

    def timings() -> Timings:  # rank 0 probes (or reads the cache) first, the others then read its cache
        return world.main_first(lambda: measured_timings(cfg, shape, space, device, log))

    engine = choose_engine(cfg, device, images=len(shape) == 3, timings=timings, vmapped=vmapped)
    log(engine.describe())
    if engine.warning is not None:
        log(engine.warning)
    g, d = build_networks(cfg.model, shape, space)
    encoder = build_encoder(cfg.model, shape) if cfg.loss.uses_encoder else None
    if cfg.train.sync_batchnorm:
        g, d = sync_batchnorm(g), sync_batchnorm(d)
        encoder = sync_batchnorm(encoder) if encoder is not None else None
    g, d = g.to(device), d.to(device)
    encoder = encoder.to(device) if encoder is not None else None
    world.broadcast_parameters(m for m in (g, d, encoder) if m is not None)
    prepare_networks(engine, g, d, encoder)
    g_side = list(g.parameters()) + (list(encoder.parameters()) if encoder is not None else [])
    g_opt, d_opt = build_optimizer(g_side, cfg.g_optim), build_optimizer(d.parameters(), cfg.d_optim)
    players = compiled(engine, g), compiled(engine, d)
    gan = GAN(*players, g_opt, d_opt, encoder, engine.precision, world.shard, world.gradient_sync())
    losses = GameLosses.from_config(cfg.loss, space)
    ema = None
    if cfg.train.ema is not None:
        ema = AveragedModel(g, multi_avg_fn=get_ema_multi_avg_fn(cfg.train.ema), use_buffers=True)
    sampler = EpochSampler(len(data), local_batch, cfg.train.seed, device, world.rank, world.world_size)
    grid = grid_latent(space, cfg.train.grid_size, cfg.train.seed + 1).to(device)
    scheme = build_scheme(gan, cfg.train)
    return Training(
        cfg, device, data, gan, losses, scheme, ema, sampler, space, grid, engine, local_batch, shard=world.shard
    )


def grid_latent(space: LatentSpace, n: int, seed: int) -> Latent:
    """Seeded G inputs for sample grids; classes and categories cycle 0, 1, …, K−1 along each row."""
    latent = space.sample(n, "cpu", torch.Generator().manual_seed(seed))
    cycle = torch.arange(n) % max(space.num_classes, space.categorical, 1)
    codes = space.codes(latent.z)
    category = cycle if space.categorical else None
    return space.compose(
        latent.z[:, : space.noise_dim], category, codes.continuous, cycle if space.num_classes else None
    )
