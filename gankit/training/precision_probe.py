"""How fast a recipe's nets train on this CPU in fp32 and in bf16 autocast: a short measured probe, cached.

``train.precision=auto`` picks bf16 on a CPU only where this probe measures it faster, whatever the CPU has
(AMX, AVX-512 BF16, or neither: then bf16 is emulated and far slower), and a forced bf16 that measures far
slower warns (the rule: :func:`gankit.training.precision.resolve_precision`). The probe plays a few game steps
of the run's own G, D, losses and optimisers in each precision, in turn (one warm-up step each, then up to
:data:`STEPS` timed ones, fewer once :data:`MAX_TIMED_S` is spent; the fastest of each counts:
:func:`~gankit.training.probes.interleaved_seconds`) on random inputs of the run's shape, in a batch of at most
:data:`MAX_BATCH`, with the global RNG state restored afterwards (the run's trajectory does not depend on
the probe). Timings are cached per CPU model, instruction set, threads, torch version and the nets' settings
(:mod:`gankit.training.probes`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gankit.config import Config
from gankit.device import describe_machine
from gankit.latent import LatentSpace
from gankit.nets import build_encoder, build_networks
from gankit.training.engine import memory_layout, set_layout
from gankit.training.optim import build_optimizer
from gankit.training.precision import Precision, Timings
from gankit.training.probes import ProbeCache, facts_key, interleaved_seconds
from gankit.training.step import GAN, Batch, GameLosses, alternating_step

STEPS = 3  # timed steps of each precision, after one warm-up step
MAX_TIMED_S = 0.5  # stop timing a precision after this many seconds (at least one timed step)
MAX_BATCH = 32  # the probe's batch: the run's, at most this (an emulated bf16 step is slow)
PROBES = ProbeCache("precision-probes.json", ("fp32_s", "bf16_s"))


def probe_key(cfg: Config, shape: tuple[int, ...], device: torch.device) -> str:
    """What the timings depend on: the nets, losses and optimisers, the sample shape, the probe's batch and the
    machine (CPU model, instruction set, threads, torch version); not the learning rates, seeds or steps."""
    d = cfg.to_dict()
    facts = {k: d[k] for k in ("model", "loss")} | {k: d[k]["name"] for k in ("g_optim", "d_optim")}
    facts |= {"shape": list(shape), "batch": probe_batch(cfg), "machine": describe_machine(device)}
    return facts_key(facts)


def probe_batch(cfg: Config) -> int:
    return min(cfg.train.batch_size, MAX_BATCH)


def measured_timings(
    cfg: Config,
    shape: tuple[int, ...],
    space: LatentSpace,
    device: torch.device,
    log: Callable[[str], None],
    measure: Callable[..., Timings] | None = None,
) -> Timings:
    """The timings of ``cfg``'s nets on ``device``: from the cache, or measured (by ``measure``, default
    :func:`measure_precisions`) and cached."""
    key = probe_key(cfg, shape, device)
    cached = PROBES.get(key)
    if cached is not None:
        return Timings(cached["fp32_s"], cached["bf16_s"], cached=True)
    timings = (measure or measure_precisions)(cfg, shape, space, device)
    PROBES.put(key, {"fp32_s": timings.fp32_s, "bf16_s": timings.bf16_s, "recipe": cfg.recipe}, log)
    return timings


def measure_precisions(cfg: Config, shape: tuple[int, ...], space: LatentSpace, device: torch.device) -> Timings:
    """Seconds per game step of ``cfg``'s nets in fp32 and in bf16 autocast, timed in turn (see the module
    docstring)."""
    with torch.random.fork_rng(devices=[]):  # a CPU probe: the run's CPU RNG stream is restored afterwards
        ways = [_game_step(cfg, shape, space, device, name) for name in ("fp32", "bf16")]
        fp32_s, bf16_s = interleaved_seconds(ways, STEPS, budget_s=MAX_TIMED_S)
        return Timings(fp32_s, bf16_s)


def _game_step(
    cfg: Config, shape: tuple[int, ...], space: LatentSpace, device: torch.device, name: str
) -> Callable[[], None]:
    """One alternating game step of fresh copies of ``cfg``'s nets in precision ``name``, on random inputs."""
    torch.manual_seed(0)
    g, d = (net.to(device) for net in build_networks(cfg.model, shape, space))
    encoder = build_encoder(cfg.model, shape).to(device) if cfg.loss.uses_encoder else None
    precision = Precision(name, device.type)
    set_layout(memory_layout(precision, device, images=len(shape) == 3)[0], precision, g, d, encoder)  # the engine's
    g_side = list(g.parameters()) + (list(encoder.parameters()) if encoder is not None else [])
    gan = GAN(g, d, build_optimizer(g_side, cfg.g_optim), build_optimizer(d.parameters(), cfg.d_optim), encoder)
    gan.precision = precision
    losses = GameLosses.from_config(cfg.loss, space)
    n = probe_batch(cfg)
    x = torch.rand(n, *shape, device=device) * 2 - 1
    y = torch.randint(space.num_classes, (n,), device=device) if space.num_classes else None

    def step() -> None:
        alternating_step(gan, losses, 1, lambda: Batch(x, y), lambda: space.sample(n, device))

    return step
