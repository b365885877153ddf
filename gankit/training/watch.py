"""The collapse watch while training: every ``train.watch_every`` steps, how G's fixed batch spreads over the modes.

G (the EMA weights if the run keeps them, in eval mode) generates the same fixed batch at every check (z from seed
``WATCH_SEED``, never from the global random stream, so a run's trajectory is the same with the watch on or off);
``gankit.metrics.watch`` measures it. The keys go into the ``metrics.jsonl`` record of that step
(docs/collapse-watch.md), TensorBoard and the progress bar. A collapsed check starts (or continues) a streak: its
first check is the *onset* (an untrained G looks collapsed: checks count from the first healthy one, or from step
``WARMUP_STEPS`` on); the log gets one warning line at the first collapsed check of a streak, at most once per
``WARN_EVERY`` checks (a G that flaps in and out of collapse is not warned at every new streak), and with
``train.watch_stop`` = S the run stops after S collapsed checks in a row
(:class:`~gankit.errors.TrainingCollapsed`). The watch's state (checks made, the streak, its onset, the last
warning, the previous check's labels) is in every checkpoint, so a resumed run's records and warnings are those of
an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gankit.data import to_model_input
from gankit.errors import TrainingCollapsed
from gankit.latent import generate
from gankit.metrics.watch import Check, Probe, choose_probe, hopped
from gankit.store.checkpoint import checkpoint_step, list_checkpoints
from gankit.training.state import Training

WATCH_SEED = 4242  # the fixed batch's z (FID's monitor uses 1234)
DEFAULT_SAMPLES = {"classes": 500, "stacked": 2000, "toy": 2500, "features": 500}
WARN_EVERY = 10  # checks between two warnings of one collapse
WARMUP_STEPS = 500  # an untrained G is "collapsed": checks count once one was healthy, or from this step on
MAX_LISTED = 12  # missing modes named in a warning


@dataclass
class WatchState:
    """What the watch carries from check to check (and through a checkpoint)."""

    checks: int = 0
    streak: int = 0  # consecutive collapsed checks up to the last one
    onset: int | None = None  # the step of the streak's first check
    warned: int | None = None  # the check (count) of the last warning
    labels: torch.Tensor | None = None  # the previous check's label of each sample
    armed: bool = False  # collapsed checks count: one check was healthy, or the run reached WARMUP_STEPS

    @classmethod
    def from_dict(cls, state: dict[str, Any] | None) -> WatchState:
        return cls() if state is None else cls(**state)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": self.checks,
            "streak": self.streak,
            "onset": self.onset,
            "warned": self.warned,
            "labels": self.labels,
            "armed": self.armed,
        }


def watch_probe(training: Training, n: int | None = None) -> tuple[Probe | None, str, int]:
    """The run's probe (or None and why not) and the size of its fixed batch."""
    data, shape = training.cfg.data.name, training.data_shape
    real_n = n or DEFAULT_SAMPLES["features"]
    rows = torch.randperm(len(training.data), generator=torch.Generator().manual_seed(WATCH_SEED))[:real_n]
    probe, why = choose_probe(data, shape, to_model_input(training.data.x[rows.to(training.data.x.device)].cpu()))
    return probe, why, n or DEFAULT_SAMPLES[why if probe is not None else "classes"]


def suggestions() -> str:
    """What to try against mode collapse, in gankit's terms."""
    return (
        "try --set model.pack=2 (PacGAN), --set model.minibatch=stddev, a lower D learning rate (--set "
        "d_optim.lr=1e-4), --set loss.feature_matching=1, or --set train.scheme=optimistic"
    )


def describe_check(values: dict[str, Any]) -> str:
    """What the check measured, in a few words: ``3/10 modes covered, KL 1.2 nats``."""
    if values["watch_kind"] == "features":
        return f"coverage {values['watch_coverage']:.2f}, spread {values['watch_spread']:.2f} of the real images'"
    return (
        f"{values['watch_covered']}/{values['watch_modes']} modes covered, KL to uniform "
        f"{values['watch_kl']:.3g} nats, largest mode {values['watch_top_share']:.0%} of the samples"
    )


def missing_text(check: Check) -> str:
    if not check.missing:
        return ""
    shown = ", ".join(map(str, check.missing[:MAX_LISTED]))
    more = f" and {len(check.missing) - MAX_LISTED} more" if len(check.missing) > MAX_LISTED else ""
    return f"; missing modes {shown}{more}"


def postfix(values: dict[str, Any]) -> dict[str, str]:
    """The progress bar's part: ``modes 10/10`` (features: ``cov 0.85``)."""
    if values["watch_kind"] == "features":
        return {"cov": f"{values['watch_coverage']:.2f}"}
    return {"modes": f"{values['watch_covered']}/{values['watch_modes']}"}


class WatchSchedule:
    """The collapse watch of one run (rank 0's): ``check`` at its steps returns the record's keys."""

    def __init__(self, training: Training, log: Callable[[str], None]):
        t = training.cfg.train
        self.every, self.stop_after, self.log = t.watch_every, t.watch_stop, log
        self.probe: Probe | None = None
        self.state = WatchState.from_dict(training.watch)
        self.stop: TrainingCollapsed | None = None
        if not self.every:
            return
        self.probe, why, n = watch_probe(training, t.watch_samples)
        if self.probe is None:
            log(f"collapse watch: off, {why} (train.watch_every=0 hides this line)")
            return
        rng = torch.Generator().manual_seed(WATCH_SEED)
        self.latent = training.space.sample(n, "cpu", rng)

    def due(self, step: int) -> bool:
        return self.probe is not None and step > 0 and step % self.every == 0

    @torch.no_grad()
    def samples(self, training: Training, batch_size: int = 500) -> torch.Tensor:
        """G's fixed batch, G in eval mode (the EMA weights if kept), as float32 on the CPU."""
        g = training.sampling_generator()
        device, was_training = next(g.parameters()).device, g.training
        g.eval()
        try:
            parts = [self.latent[i : i + batch_size].to(device) for i in range(0, len(self.latent), batch_size)]
            return torch.cat([generate(g, part).float().cpu() for part in parts])
        finally:
            g.train(was_training)

    def check(self, training: Training, checkpoints: Path) -> dict[str, Any] | None:
        """Measure the fixed batch; update the state (and ``training.watch``), warn, and set ``stop`` when due.
        None if G's samples are not finite (the divergence check reports that)."""
        fake = self.samples(training)
        if not torch.isfinite(fake).all():
            return None
        check = self.probe.measure(fake.clamp(-1, 1) if fake.dim() == 4 else fake)
        values = dict(check.values)
        if (changed := hopped(self.state.labels, check.labels)) is not None:
            values["watch_hopped"] = changed
        s = self.state
        s.checks, s.labels = s.checks + 1, check.labels.cpu().long()
        s.armed = s.armed or not values["watch_collapsed"] or training.step >= WARMUP_STEPS
        if values["watch_collapsed"] and s.armed:
            s.streak += 1
            s.onset = training.step if s.streak == 1 else s.onset
            if s.warned is None or s.checks - s.warned >= WARN_EVERY:  # a new streak too: a flapping G
                s.warned = s.checks
                self.log(self.warning(training.step, check, values))
            if self.stop_after and s.streak >= self.stop_after:
                self.stop = self.stopped(training.step, checkpoints, values)
        else:
            s.streak, s.onset = 0, None
        training.watch = s.to_dict()
        return values

    def warning(self, step: int, check: Check, values: dict[str, Any]) -> str:
        s = self.state
        since = f"since step {s.onset} ({s.streak} checks)" if s.streak > 1 else "first seen now"
        return (
            f"warning: step {step}: mode collapse: {describe_check(values)}{missing_text(check)}, {since}; "
            f"{suggestions()}"
        )

    def stopped(self, step: int, checkpoints: Path, values: dict[str, Any]) -> TrainingCollapsed:
        onset = self.state.onset
        good = last_before(checkpoints, onset)
        if good is not None:
            keeps = f"the last checkpoint saved before the collapse began is {good} (kept on disk)"
        else:
            keeps = "no checkpoint was saved before the collapse began"
        return TrainingCollapsed(
            f"stopped at step {step}: G stayed mode-collapsed for {self.state.streak} checks "
            f"(train.watch_stop={self.stop_after}) since step {onset}: {describe_check(values)}; {keeps}. "
            f"{suggestions().capitalize()}",
            step=step,
        )


def collapse_vote_due(every: int, step: int) -> bool:
    """Whether the ranks of a data-parallel run agree at ``step`` on stopping a collapsed run (``every``: the
    watch's period when ``train.watch_stop`` is on, else 0); the same on every rank, from the config alone."""
    return every > 0 and step > 0 and step % every == 0


def follower_vote(every: int, step: int, agreed: Callable[[bool], bool]) -> None:
    """A rank other than 0 at ``step``: stop with rank 0 when it stops a collapsed run (it says why)."""
    if collapse_vote_due(every, step) and agreed(False):
        raise TrainingCollapsed(f"stopped at step {step} with rank 0, whose collapse watch stopped the run", step=step)


def last_before(folder: Path, step: int | None) -> Path | None:
    """The newest checkpoint in ``folder`` saved before ``step`` (None: none, or no step)."""
    if step is None:
        return None
    before = [p for p in list_checkpoints(folder) if checkpoint_step(p) < step]
    return before[-1] if before else None
