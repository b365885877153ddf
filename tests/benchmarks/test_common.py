"""What the benchmark scripts share (``benchmarks/common.py``): trials runs trained and scored per trial."""

from __future__ import annotations

import json
import shutil

import gankit.trials.runner as runner
from benchmarks.common import last_figure, machine, trials_and_score
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


def test_a_cell_kept_in_scores_is_reused_on_a_machine_without_its_run_folder(tmp_path, monkeypatch):
    """A scored cell is kept as JSON beside a page; with the run folder gone (another session or machine) the same
    cell is reused from there and not trained again, while a cell of another budget is trained and kept anew."""
    scores, lines = tmp_path / "scores", []
    first = trials_and_score("nsgan", TINY, tmp_path / "runs" / "cell", 200, lines.append, 2, scores)
    cell = json.loads((scores / "cell" / "cell.json").read_text())
    assert (scores / "cell" / "samples.png").read_bytes() == last_figure(tmp_path / "runs" / "cell").read_bytes()
    assert cell["scored"] == [0, 1, 2] and cell["config"]["train"]["trials"] == 3
    assert all(r["machine"] == machine(r["training"]["config"]["train"]["device"]) for r in first)  # in its eval.json
    shutil.rmtree(tmp_path / "runs")

    def no_training(*args, **kwargs):
        raise AssertionError("a kept cell was trained again")

    monkeypatch.setattr(runner, "train_trials", no_training)
    again = trials_and_score("nsgan", TINY, tmp_path / "elsewhere" / "cell", 200, lines.append, 2, scores)

    def without_folder(results: list[dict]) -> str:  # NaN-safe: compared as the JSON holds them
        return json.dumps([{k: v for k, v in r.items() if k != "run_dir"} for r in results], sort_keys=True)

    assert without_folder(again) == without_folder(first)
    assert [r["run_dir"] for r in again] == [str(scores / "cell" / f"trial-{k:02d}") for k in range(3)]
    assert any("reusing the scores of its 3 trials kept in" in line for line in lines)
    assert last_figure(tmp_path / "elsewhere" / "cell", scores) == scores / "cell" / "samples.png"
    monkeypatch.undo()
    longer = trials_and_score("nsgan", TINY | {"train.steps": 3}, tmp_path / "cell", 200, lines.append, 2, scores)
    assert [r["training"]["steps"] for r in longer] == [3, 3, 3]
    assert any("kept for another config (or budget)" in line for line in lines)
    assert json.loads((scores / "cell" / "cell.json").read_text())["config"]["train"]["steps"] == 3
