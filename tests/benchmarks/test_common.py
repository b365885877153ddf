"""What the benchmark scripts share (``benchmarks/common.py``): trials runs trained and scored per trial."""

from __future__ import annotations

import gankit.trials.runner as runner
from benchmarks.common import trials_and_score
from gankit.errors import TrainingDiverged
from gankit.training.trainer import train

TINY = {
    "train.steps": 2,
    "train.batch_size": 16,
    "train.log_every": 1,
    "train.sample_at": (0,),
    "train.checkpoint_every": 0,
    "train.progress": False,
    "train.tensorboard": False,
    "train.trials": 3,
    "train.trials_mode": "sequential",
    "data.name": "ring8",
    "model.g_width": 16,
    "model.d_width": 16,
}


def test_a_trial_that_diverged_before_its_first_checkpoint_is_left_out_and_the_others_scored(tmp_path, monkeypatch):
    def diverging(cfg, folder, resume=False, echo=True):
        if cfg.train.seed == 1:
            raise TrainingDiverged("training diverged: d_loss=nan in steps 1–1", step=1)
        return train(cfg, folder, resume=resume, echo=echo)

    real = runner.train_trials
    monkeypatch.setattr(runner, "train_trials", lambda *a, **k: real(*a, **k, train_one=diverging))
    lines = []
    results = trials_and_score("nsgan", TINY, tmp_path / "cell", 200, lines.append, kid_subsets=2)
    got = [(r["trial"], r["seed"], r["diverged_at"], r["trials_mode"]) for r in results]
    assert got == [(0, 0, None, "sequential"), (2, 2, None, "sequential")]  # how each trained: from trials.jsonl
    assert all(r["metrics"]["modes"]["modes_covered"] >= 0 for r in results)
    assert any("trial-01: diverged at step 1 before its first checkpoint" in line for line in lines)
