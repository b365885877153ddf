"""How the trials of a run train: together as one vectorised model, or one after another (``train.trials_mode``).

``graphed`` is the vectorised model with its step replayed from a CUDA graph (:mod:`gankit.trials.graphed`): only
when asked for, never chosen by ``auto`` (unmeasured until a GPU is lent), and refused before the run folder is
touched where it cannot run (:func:`check_mode`).

``auto`` plays them together only where that is measured faster for this config on this machine: a short probe
times a few game steps of the trials both ways (on throwaway copies; the run is not touched) and the choice is
logged with both timings. Vectorised must beat one-after-another by ``MARGIN`` so that noise in a short probe
never makes N trials slower than N runs. Probes are cached (keyed by everything that changes a step's speed and
the machine) in ``trials-probes.json`` in gankit's cache folder (:mod:`gankit.training.probes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gankit.config import Config
from gankit.data import load_data
from gankit.data.tensors import data_nbytes
from gankit.device import describe_machine, resolve_device
from gankit.errors import ConfigError
from gankit.latent import latent_space
from gankit.memory.available import device_memory, format_bytes
from gankit.memory.footprint import footprint
from gankit.store.logfile import RunLog
from gankit.training.probes import ProbeCache, facts_key
from gankit.trials.graphed import graphed_refusal
from gankit.trials.vectorised import probe, vectorised_refusal

MARGIN = 0.9  # vectorised is chosen when its step takes at most this fraction of the sequential steps' time
PROBE_STEPS = 3  # timed game steps of each mode (after one warm-up step)
HOW = {  # each mode, in words
    "vectorised": "together as one vectorised model",
    "graphed": "together as one vectorised model, its step replayed from a CUDA graph",
    "sequential": "one after another",
}
TOGETHER = {"vectorised": vectorised_refusal, "graphed": graphed_refusal}  # each way of playing trials together, and
# why it cannot (None: it can)
SPEED_FIELDS = ("batch_size", "n_critic", "g_steps", "g_noise", "scheme", "ema", "precision", "compile", "device")


def together_refusal(cfg: Config, mode: str = "vectorised") -> str | None:
    """Why the trials of ``cfg`` cannot be played together in ``mode`` (vectorised, graphed; None if they can)."""
    if cfg.train.time_budget is not None:
        return "train.time_budget is each trial's own budget"
    if cfg.train.fid_every > 0:
        return "FID during training (train.fid_every) is computed for runs trained one after another"
    return TOGETHER[mode](cfg)


def _refused(mode: str, reason: str) -> ConfigError:
    others = "vectorised, sequential or auto" if mode == "graphed" else "sequential (or auto)"
    return ConfigError(f"train.trials_mode={mode}: {reason}; use train.trials_mode={others}")


def check_mode(cfg: Config) -> None:
    """Raise a ConfigError if ``train.trials_mode=graphed`` cannot run for ``cfg`` (no CUDA GPU, a scheme or setting
    it does not cover): checked before the run folder is touched, as it needs no data and no probe."""
    if cfg.train.trials_mode == "graphed" and (reason := together_refusal(cfg, "graphed")) is not None:
        raise _refused("graphed", reason)


@dataclass(frozen=True)
class MemoryRoom:
    """What one trial played together needs on the device (bytes) and what is available there (None: unknown)."""

    per_trial: int
    free: int | None
    device: str

    def refusal(self, n: int) -> str | None:
        """Why ``n`` trials cannot be held at once (None if they fit)."""
        if self.free is None or n * self.per_trial <= self.free:
            return None
        return (
            f"{n} trials together would need about {format_bytes(n * self.per_trial)} on {self.device}, "
            f"{format_bytes(self.free)} is available: at most {self.free // self.per_trial} fit"
        )


def memory_room(cfg: Config) -> MemoryRoom:
    """The room for trials of ``cfg`` on its device: each trial played together keeps its own networks, optimiser
    state, activations and copy of the data."""
    data = load_data(cfg.data, log=lambda _: None)
    shape = tuple(data.x.shape[1:])
    device = resolve_device(cfg.train.device)
    per_trial = footprint(cfg.trial(0), shape, latent_space(cfg.model, data.num_classes)).total + data_nbytes(data)
    return MemoryRoom(per_trial, device_memory(device), device.type)


def choose_mode(cfg: Config, trials: list[int], log: RunLog) -> str:
    """``vectorised``, ``graphed`` (only when asked for) or ``sequential`` for training ``trials`` of ``cfg`` (see the
    module docstring)."""
    wanted = cfg.train.trials_mode
    if wanted == "sequential" or (len(trials) < 2 and wanted != "graphed"):
        return "sequential"
    reason = together_refusal(cfg, "graphed" if wanted == "graphed" else "vectorised")
    room = memory_room(cfg) if reason is None else None  # the data is loaded once, for both checks
    reason = reason or room.refusal(len(trials))
    if reason is not None:
        if wanted in TOGETHER:
            raise _refused(wanted, reason)
        log(f"trials one after another: {reason}")
        return "sequential"
    if wanted in TOGETHER:
        return wanted
    in_turn = room.refusal(2 * len(trials)) is None  # the probe holds both modes' trials at once
    sequential_s, vectorised_s = _probe(cfg, trials, log, in_turn)
    mode = "vectorised" if vectorised_s <= MARGIN * sequential_s else "sequential"
    log(
        f"trials_mode auto: a game step of {len(trials)} trials took {sequential_s * 1e3:.1f} ms one after another "
        f"and {vectorised_s * 1e3:.1f} ms vectorised ({sequential_s / vectorised_s:.2f}×) on "
        f"{describe_machine(resolve_device(cfg.train.device))}: {mode}"
    )
    return mode


PROBES = ProbeCache("trials-probes.json", ("sequential_s", "vectorised_s"))


def probe_key(cfg: Config, n: int) -> str:
    """What a probe's timings depend on: the networks, losses, optimisers, data shape, the step's settings, the
    number of trials and the machine."""
    d = cfg.to_dict()
    facts = {k: d[k] for k in ("model", "loss", "g_optim", "d_optim")}
    facts |= {"data": {k: d["data"][k] for k in ("name", "image_size", "channels")}}
    facts |= {"train": {k: d["train"][k] for k in SPEED_FIELDS}, "trials": n}
    facts |= {"machine": describe_machine(resolve_device(cfg.train.device))}
    return facts_key(facts)


def _probe(cfg: Config, trials: list[int], log: RunLog, in_turn: bool) -> tuple[float, float]:
    """(sequential, vectorised) seconds per game step of ``trials``: from the cache, or measured (the two modes in
    turn where ``in_turn``, else one after the other) and cached."""
    key = probe_key(cfg, len(trials))
    cached = PROBES.get(key)
    if cached is not None:
        log("trials_mode auto: the probe of this config on this machine was cached")
        return cached["sequential_s"], cached["vectorised_s"]
    sequential_s, vectorised_s = probe([cfg.trial(k) for k in trials], PROBE_STEPS, lambda _: None, in_turn)
    entry = {"sequential_s": sequential_s, "vectorised_s": vectorised_s, "recipe": cfg.recipe, "n": len(trials)}
    PROBES.put(key, entry, lambda line: log(f"trials_mode auto: {line}"))
    return sequential_s, vectorised_s
