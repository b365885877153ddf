"""The training loop: set up a run, step the game, log, draw sample grids, checkpoint, resume.

The parameters change only in ``gankit.training.step``; this module decides *when* steps, logs, grids and
checkpoints happen and keeps the complete state (:class:`Training`) that a checkpoint holds.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

import gankit
from gankit.checkpoint import (
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
    step_dir_name,
)
from gankit.config import Config
from gankit.data import TensorData, load_data, to_model_input, to_uint8_images
from gankit.errors import CheckpointError, ConfigError, TrainingDiverged
from gankit.images import save_grid, scatter_png
from gankit.latent import Latent, LatentSpace, latent_space
from gankit.losses import get_objective
from gankit.nets import build_encoder, build_networks
from gankit.run import RunPaths, read_config, resolve_device
from gankit.training.batches import EpochSampler
from gankit.training.diagnostics import gradient_norms
from gankit.training.optim import build_optimizer
from gankit.training.schemes import UpdateScheme, build_scheme
from gankit.training.step import GAN, Batch, GameLosses, generate
from gankit.viz.tensorboard import TensorBoardLogger

# Fields a resumed run may change: the budget, the schedule of logs/grids/checkpoints, where the data is.
RESUMABLE_FIELDS = {
    "train.steps",
    "train.device",
    "train.log_every",
    "train.sample_at",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.progress",
    "train.tensorboard",
    "train.fid_every",
    "data.dir",
    "data.download",
}


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
    step: int = 0
    images_seen: int = 0
    elapsed_s: float = 0.0

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
        """Fresh G inputs: noise, and classes / InfoGAN codes where the model has them."""
        return self.space.sample(n or self.cfg.train.batch_size, self.device)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One game step: a generator update and its ``n_critic`` discriminator updates, as the scheme plays them."""
        stats = self.scheme.step(self.gan, self.losses, self.cfg.train.n_critic, self.next_real, self.sample_z)
        if self.ema is not None:
            self.ema.update_parameters(self.gan.generator)
        self.step += 1
        return stats

    def sampling_generator(self) -> torch.nn.Module:
        return self.ema.module if self.ema is not None else self.gan.generator

    def state_dict(self) -> dict[str, Any]:
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "gankit_version": gankit.__version__,
            "step": self.step,
            "images_seen": self.images_seen,
            "elapsed_s": self.elapsed_s,
            "data_shape": list(self.data_shape),
            "num_classes": self.space.num_classes,
            "generator": self.gan.generator.state_dict(),
            "discriminator": self.gan.discriminator.state_dict(),
            "g_optimizer": self.gan.g_optimizer.state_dict(),
            "d_optimizer": self.gan.d_optimizer.state_dict(),
            "encoder": self.gan.encoder.state_dict() if self.gan.encoder is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "scheme": self.scheme.state_dict(),
            "sampler": self.sampler.state_dict(),
            "grid_z": self.grid_latent.z,
            "grid_y": self.grid_latent.y,
            "rng": rng,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if tuple(state["data_shape"]) != self.data_shape:
            raise CheckpointError(
                f"the checkpoint was trained on data of shape {tuple(state['data_shape'])}, "
                f"but the data now has shape {self.data_shape}"
            )
        self.step, self.images_seen = int(state["step"]), int(state["images_seen"])
        self.elapsed_s = float(state["elapsed_s"])
        self.gan.generator.load_state_dict(state["generator"])
        self.gan.discriminator.load_state_dict(state["discriminator"])
        self.gan.g_optimizer.load_state_dict(state["g_optimizer"])
        self.gan.d_optimizer.load_state_dict(state["d_optimizer"])
        if self.gan.encoder is not None:
            self.gan.encoder.load_state_dict(state["encoder"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        self.sampler.load_state_dict(state["sampler"])
        self.scheme.load_state_dict(state["scheme"])
        y = state.get("grid_y")
        self.grid_latent = Latent(state["grid_z"].to(self.device), None if y is None else y.to(self.device))
        # RNG states are CPU byte tensors, whatever device the checkpoint was mapped to
        torch.set_rng_state(state["rng"]["torch"].cpu())
        if self.device.type == "cuda" and "cuda" in state["rng"]:
            torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), self.device)


def build_training(cfg: Config, log: Callable[[str], None] = print) -> Training:
    """Load the data onto the device and build the players, optimisers, EMA and sampler, all seeded."""
    device = resolve_device(cfg.train.device)
    torch.manual_seed(cfg.train.seed)
    data = load_data(cfg.data, log=log).to(device)
    shape = tuple(data.x.shape[1:])
    space = latent_space(cfg.model, data.num_classes)
    g, d = build_networks(cfg.model, shape, data.num_classes)
    g, d = g.to(device), d.to(device)
    loss = cfg.loss
    encoder = None
    if loss.reconstruction_weight > 0 or loss.mode_weight > 0:
        encoder = build_encoder(cfg.model, shape).to(device)
    g_side = list(g.parameters()) + (list(encoder.parameters()) if encoder is not None else [])
    gan = GAN(g, d, build_optimizer(g_side, cfg.g_optim), build_optimizer(d.parameters(), cfg.d_optim), encoder)
    losses = GameLosses(
        get_objective(loss.objective),
        gp_weight=loss.gp_weight,
        clip_value=loss.clip_value,
        g_adversarial=loss.g_adversarial,
        feature_matching=loss.feature_matching,
        latent=space,
        info_weight=loss.info_weight,
        info_continuous_weight=loss.info_continuous_weight,
        reconstruction_weight=loss.reconstruction_weight,
        mode_weight=loss.mode_weight,
    )
    ema = None
    if cfg.train.ema is not None:
        ema = AveragedModel(g, multi_avg_fn=get_ema_multi_avg_fn(cfg.train.ema), use_buffers=True)
    sampler = EpochSampler(len(data), cfg.train.batch_size, cfg.train.seed, device)
    grid = grid_latent(space, cfg.train.grid_size, cfg.train.seed + 1).to(device)
    return Training(cfg, device, data, gan, losses, build_scheme(gan, cfg.train), ema, sampler, space, grid)


def grid_latent(space: LatentSpace, n: int, seed: int) -> Latent:
    """Seeded G inputs for sample grids; classes and categories cycle 0, 1, …, K−1 along each row."""
    latent = space.sample(n, "cpu", torch.Generator().manual_seed(seed))
    cycle = torch.arange(n) % max(space.num_classes, space.categorical, 1)
    codes = space.codes(latent.z)
    category = cycle if space.categorical else None
    return space.compose(
        latent.z[:, : space.noise_dim], category, codes.continuous, cycle if space.num_classes else None
    )


@torch.no_grad()
def write_sample_grid(training: Training, path: Path) -> Path:
    """Generate from the fixed grid noise with G in eval mode (EMA weights if kept) and save a PNG."""
    g = training.sampling_generator()
    was_training = g.training
    g.eval()
    try:
        out = generate(g, training.grid_latent)
    finally:
        g.train(was_training)
    if training.data.is_image:
        columns = max(training.space.num_classes, training.space.categorical) or None
        return save_grid(to_uint8_images(out), path, nrow=columns, scale=2 if out.shape[-1] <= 32 else 1)
    return scatter_png(out, path, reference=training.data.x[:2000])


class RunLog:
    """Human-readable lines to stdout (or above the progress bar) and to ``log.txt``.

    Lines logged before ``attach`` (while the run is being set up) are kept and written on attaching, so
    that a run which fails to start leaves no folder behind.
    """

    def __init__(self, echo: bool = True):
        self.path: Path | None = None
        self.echo, self.bar, self.pending = echo, None, []

    def attach(self, path: Path) -> None:
        self.path = path
        with open(path, "a") as f:
            f.writelines(line + "\n" for line in self.pending)
        self.pending = []

    def __call__(self, message: str) -> None:
        if self.echo:
            (self.bar.write if self.bar is not None else print)(message)
        if self.path is None:
            self.pending.append(message)
        else:
            with open(self.path, "a") as f:
                f.write(message + "\n")


def _check_run_dir(paths: RunPaths, resume: bool) -> None:
    if resume:
        if not paths.config.is_file():
            raise CheckpointError(f"cannot resume {paths.root}: it holds no gankit run ({paths.config.name} missing)")
        return
    if paths.config.is_file() or list_checkpoints(paths.checkpoints):
        raise CheckpointError(
            f"{paths.root} already holds a run; nothing was changed. Continue it with "
            f"`gankit train --resume {paths.root}` or choose a new --run-dir."
        )
    if paths.root.exists() and any(paths.root.iterdir()):
        raise CheckpointError(f"{paths.root} is not empty and is not a gankit run; choose a new --run-dir")


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop log records after ``step`` (written by a run that died before its next checkpoint)."""
    if not path.is_file():
        return
    keep = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
    path.write_text("".join(line + "\n" for line in keep))


def resume_config(run_dir: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """The saved config of a run with the allowed ``overrides`` (see ``RESUMABLE_FIELDS``) applied."""
    overrides = dict(overrides or {})
    refused = sorted(set(overrides) - RESUMABLE_FIELDS)
    if refused:
        raise ConfigError(
            f"a resumed run keeps its config; cannot change {', '.join(refused)}. "
            f"Fields that may change: {', '.join(sorted(RESUMABLE_FIELDS))}"
        )
    return read_config(run_dir).override(overrides)


def train(cfg: Config, run_dir: str | Path, resume: bool = False, echo: bool = True) -> Training:
    """Train (or, with ``resume``, continue) the run in ``run_dir`` up to ``cfg.train.steps`` generator steps.

    With ``resume`` the latest checkpoint is loaded and ``cfg`` should come from :func:`resume_config`.
    Returns the final :class:`Training`. Raises ``TrainingDiverged`` if losses become NaN/inf.
    """
    paths = RunPaths(Path(run_dir))
    _check_run_dir(paths, resume)
    log = RunLog(echo)
    t = cfg.train
    training = build_training(cfg, log)
    if resume:
        ckpts = list_checkpoints(paths.checkpoints)
        if not ckpts:
            raise CheckpointError(f"cannot resume {paths.root}: it holds no checkpoint")
        training.load_state_dict(load_checkpoint(ckpts[-1], map_location=training.device))
        _truncate_metrics(paths.metrics, training.step)
        _truncate_metrics(paths.fid_curve, training.step)
        log(f"resumed {paths.root} from {ckpts[-1].name} (step {training.step})")
    paths.root.mkdir(parents=True, exist_ok=True)  # only now: a run that fails to start leaves nothing
    log.attach(paths.log)
    paths.config.write_text(cfg.to_json())
    log(
        f"gankit {gankit.__version__}: recipe {cfg.recipe}, {cfg.loss.objective} loss, {cfg.model.arch} nets, "
        f"{len(training.data):,} examples from {training.data.source}, device {training.device}"
    )

    sample_steps = set(t.sample_at) | {t.steps}
    last_saved = training.step if resume else -1

    def save() -> None:
        nonlocal last_saved
        save_checkpoint(paths.checkpoints / step_dir_name(training.step), training.state_dict())
        prune_checkpoints(paths.checkpoints, t.keep_checkpoints)
        last_saved = training.step

    def grid_due(step: int) -> bool:
        return step in sample_steps or (t.sample_every > 0 and step % t.sample_every == 0)

    tensorboard = TensorBoardLogger(paths.root, t.tensorboard, purge_step=training.step + 1 if resume else None)

    fid_monitor = None
    if t.fid_every > 0:  # FID during training (gankit.metrics.monitor)
        from gankit.metrics.monitor import FidMonitor

        fid_monitor = FidMonitor(cfg, log)

    if training.step == 0 and grid_due(0):
        tensorboard.image(0, write_sample_grid(training, paths.sample_grid(0)))

    bar = tqdm(total=t.steps, initial=training.step, disable=not (t.progress and echo), unit="step", dynamic_ncols=True)
    log.bar = None if bar.disable else bar
    sums: dict[str, torch.Tensor] = {}
    count, tick, images_at_tick = 0, time.perf_counter(), training.images_seen
    try:
        while training.step < t.steps:
            stats = training.train_step()
            for k, v in stats.items():
                sums[k] = sums[k] + v if k in sums else v.clone()
            count += 1
            bar.update(1)
            checkpoint_due = t.checkpoint_every > 0 and training.step % t.checkpoint_every == 0
            if training.step % t.log_every == 0 or training.step == t.steps or checkpoint_due:
                now = time.perf_counter()
                means = {k: v.item() / count for k, v in sums.items()}
                training.elapsed_s += now - tick
                rate = (training.images_seen - images_at_tick) / max(now - tick, 1e-9)
                record = {
                    "step": training.step,
                    "epoch": training.sampler.epoch,
                    "images_seen": training.images_seen,
                    "elapsed_s": round(training.elapsed_s, 3),
                    "images_per_s": round(rate, 1),
                    **means,
                    **gradient_norms(training.gan),
                }
                tensorboard.scalars(record)
                with open(paths.metrics, "a") as f:
                    f.write(json.dumps(record) + "\n")
                bar.set_postfix(
                    {k: f"{v:.3g}" for k, v in means.items() if k in ("d_loss", "g_loss")} | {"img/s": f"{rate:.0f}"}
                )
                if not all(math.isfinite(v) for v in means.values()):
                    _diverged(paths, training.step, count, means)
                if bar.disable and echo:
                    log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
                sums, count, tick, images_at_tick = {}, 0, time.perf_counter(), training.images_seen
            if grid_due(training.step):
                tensorboard.image(training.step, write_sample_grid(training, paths.sample_grid(training.step)))
            if fid_monitor is not None and training.step % t.fid_every == 0:
                fid = fid_monitor.record(training.sampling_generator(), training.step, paths.fid_curve)
                log(f"step {training.step}: FID {fid:.3f} ({t.fid_samples} samples)")
                tensorboard.scalars({"step": training.step, "fid": fid})
            if checkpoint_due:
                save()
    finally:
        bar.close()
        tensorboard.close()
        log.bar = None
    if last_saved != training.step:
        save()
    log(
        f"done: step {training.step}, {training.images_seen:,} images in {training.elapsed_s:.1f} s; "
        f"samples in {paths.samples}, checkpoint in {paths.checkpoints / step_dir_name(training.step)}"
    )
    return training


def _diverged(paths: RunPaths, step: int, window: int, means: dict[str, float]) -> None:
    kept = list_checkpoints(paths.checkpoints)
    where = f"the last good checkpoint is {kept[-1]}" if kept else "no checkpoint had been written yet"
    bad = ", ".join(f"{k}={v}" for k, v in means.items() if not math.isfinite(v))
    raise TrainingDiverged(
        f"training diverged: {bad} in steps {step - window + 1}–{step}; {where} and was left as it was. "
        "Lower the learning rates (g_optim.lr, d_optim.lr), check the data, or use a more stable objective "
        f"(e.g. --recipe wgan-gp); `gankit train --resume {paths.root}` continues from that checkpoint."
    )
