"""The metrics log of a run (:class:`MetricsWriter`); its human-readable lines are ``gankit.store.logfile``.

``metrics.jsonl`` gets one JSON object per logged step (the losses averaged since the last record, D's
outputs, gradient norms, images/s); TensorBoard mirrors it; the progress bar shows the latest losses. The
writer is also where a diverging run is stopped: a non-finite average raises ``TrainingDiverged``.
Statistics stay on the device between log steps (no host sync per step).
"""

from __future__ import annotations

import json
import math
import time
from types import TracebackType

import torch
from tqdm import tqdm

from gankit.errors import TrainingDiverged
from gankit.store.checkpoint import list_checkpoints
from gankit.store.layout import RunPaths
from gankit.store.logfile import RunLog
from gankit.training.diagnostics import gradient_norms
from gankit.training.state import Training
from gankit.training.watch import postfix
from gankit.viz.tensorboard import TensorBoardLogger


class MetricsWriter:
    """Averages each step's statistics and writes a record every ``train.log_every`` steps (and when asked).

    Used as a context manager: on leaving, the progress bar and the TensorBoard files are closed.
    """

    def __init__(self, paths: RunPaths, training: Training, log: RunLog, resumed: bool = False):
        t = training.cfg.train
        self.paths, self.log, self.every, self.total = paths, log, t.log_every, t.steps
        # a resumed run logs again from the step after its checkpoint (from step 0, the first grid too)
        first = training.step + 1 if training.step else 0
        self.tensorboard = TensorBoardLogger(paths.root, t.tensorboard, purge_step=first if resumed else None, log=log)
        show = t.progress and log.echo
        total = t.steps if t.time_budget is None else None  # a time budget ends at a step nobody knows yet
        self.bar = tqdm(total=total, initial=training.step, disable=not show, unit="step", dynamic_ncols=True)
        log.bar = None if self.bar.disable else self.bar
        self.sums: dict[str, torch.Tensor] = {}
        self.count, self.tick, self.images_at_tick = 0, time.perf_counter(), training.images_seen
        self.watched: dict[str, str] = {}  # the collapse watch's part of the progress bar (its latest check)

    def __enter__(self) -> MetricsWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.bar.close()
        self.tensorboard.close()
        self.log.bar = None

    def add(
        self, training: Training, stats: dict[str, torch.Tensor], force: bool = False, extra: dict | None = None
    ) -> None:
        """Accumulate one step's statistics; write a record at log steps, the last step, or when ``force`` or
        ``extra`` (keys of this step to add to its record: the collapse watch's) is given."""
        for k, v in stats.items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v.clone()
        self.count += 1
        self.bar.update(1)
        if force or extra or self.due(training.step):
            self.write(training, extra or {})

    def due(self, step: int) -> bool:
        """Whether ``step`` ends a logging window (every ``train.log_every`` steps, and the last step)."""
        return step % self.every == 0 or step == self.total

    def finish(self, training: Training) -> None:
        """Write the statistics of the steps since the last record (a time budget ends at any step)."""
        if self.count:
            self.write(training)

    def write(self, training: Training, extra: dict | None = None) -> None:
        now = time.perf_counter()
        means = {k: v.item() / self.count for k, v in self.sums.items()}
        training.elapsed_s += now - self.tick
        rate = (training.images_seen - self.images_at_tick) / max(now - self.tick, 1e-9)
        record = {
            "step": training.step,
            "epoch": training.sampler.epoch,
            "images_seen": training.images_seen,
            "elapsed_s": round(training.elapsed_s, 3),
            "images_per_s": round(rate, 1),
            **means,
            **gradient_norms(training.gan),
            **(extra or {}),
        }
        self.tensorboard.scalars(record)
        if "watch_histogram" in record:
            self.tensorboard.histogram("watch/histogram", record["watch_histogram"], training.step)
        if "watch_kind" in record:
            self.watched = postfix(record)
        with open(self.paths.metrics, "a") as f:
            f.write(json.dumps(record) + "\n")
        shown = {k: f"{v:.3g}" for k, v in means.items() if k in ("d_loss", "g_loss")}
        self.bar.set_postfix(shown | self.watched | {"img/s": f"{rate:.0f}"})
        if not all(math.isfinite(v) for v in means.values()):
            raise diverged(self.paths, training.step, self.count, means)
        if self.bar.disable and self.log.echo:
            shown_record = {k: v for k, v in record.items() if k != "watch_histogram"}
            self.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown_record.items()))
        self.sums, self.count, self.tick, self.images_at_tick = {}, 0, time.perf_counter(), training.images_seen


def diverged(paths: RunPaths, step: int, window: int, means: dict[str, float]) -> TrainingDiverged:
    """The error for non-finite losses in the ``window`` steps up to ``step``: where the last good checkpoint is."""
    kept = list_checkpoints(paths.checkpoints)
    bad = ", ".join(f"{k}={v}" for k, v in means.items() if not math.isfinite(v))
    fixes = (
        "Lower the learning rates (g_optim.lr, d_optim.lr), check the data, or use a more stable objective "
        "(e.g. --recipe wgan-gp)"
    )
    if kept:
        where = f"the last good checkpoint is {kept[-1]} and was left as it was"
        then = f"; `gankit train --resume {paths.root}` continues from that checkpoint."
    else:
        where = "no checkpoint had been written yet"
        then = (
            f" in a new --run-dir, or edit them in {paths.config} and `gankit train --resume {paths.root}` "
            "(it starts again from step 0)."
        )
    return TrainingDiverged(
        f"training diverged: {bad} in steps {step - window + 1}–{step}; {where}. {fixes}{then}", step=step
    )
