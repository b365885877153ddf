"""The run folder across crashes: fallback past damaged checkpoints, runs without one, torn logs, edited configs."""

import json

import pytest
import torch

from gankit.errors import CheckpointError
from gankit.store.checkpoint import list_checkpoints, load_checkpoint
from gankit.store.resume import resume_config
from gankit.training.trainer import train
from tests.helpers import tiny


def _cfg(**overrides):
    return tiny("nsgan", **{"data.limit": 64, "train.log_every": 2, **overrides})


def _resume(run, steps, capsys):
    capsys.readouterr()
    training = train(resume_config(run, {"train.steps": steps}), run, resume=True)
    return training, capsys.readouterr().out


def _same_weights(a, b):
    for name in ("generator", "discriminator"):
        sa, sb = getattr(a.gan, name).state_dict(), getattr(b.gan, name).state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa), name
    return True


def _snapshot(run):
    return {p: (p.read_bytes() if p.is_file() else None) for p in sorted(run.rglob("*"))}


def _steps(path):
    return [json.loads(line)["step"] for line in path.read_text().splitlines()]


def test_resume_falls_back_past_a_damaged_newest_checkpoint(tmp_path, capsys):
    """A power loss can leave the newest tensors file short: resume says so and continues from the one before."""
    every = {"train.checkpoint_every": 2, "train.keep_checkpoints": 3}
    straight = train(_cfg(**every, **{"train.steps": 8}), tmp_path / "straight", echo=False)
    run = tmp_path / "run"
    train(_cfg(**every, **{"train.steps": 6}), run, echo=False)
    newest = run / "checkpoints" / "step-00000006" / "tensors.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])
    resumed, out = _resume(run, 8, capsys)
    assert "skipped checkpoint step-00000006: checkpoint" in out and "does not match the checksum" in out
    assert f"resumed {run} from step-00000004 (step 4)" in out
    assert "moved the damaged checkpoint step-00000006 aside" in out
    assert _same_weights(resumed, straight)
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == ["step-00000004", "step-00000006", "step-00000006.damaged", "step-00000008"]
    assert _steps(run / "metrics.jsonl") == [2, 4, 6, 8]  # the records after step 4 were written again, once


def test_a_run_without_a_checkpoint_resumes_from_step_0(tmp_path, capsys):
    """A kill before the first checkpoint leaves config.json (and maybe some records): resume starts it over."""
    run = tmp_path / "run"
    straight = train(_cfg(**{"train.steps": 6}), run, echo=False)
    for p in list_checkpoints(run / "checkpoints"):
        for f in p.iterdir():
            f.unlink()
        p.rmdir()
    resumed, out = _resume(run, 6, capsys)
    assert "has no checkpoint yet: starting it from step 0" in out
    assert _same_weights(resumed, straight)
    assert _steps(run / "metrics.jsonl") == [2, 4, 6]


def test_a_start_takes_over_a_folder_that_a_start_killed_early_left(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").touch()
    (run / ".config.json.tmp-123").write_text('{"rec')  # killed while writing config.json
    train(_cfg(), run, echo=False)
    assert not (run / ".config.json.tmp-123").exists() and (run / "config.json").is_file()


def test_a_start_in_a_run_without_a_checkpoint_says_how_to_continue_it(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(_cfg().to_json())
    before = _snapshot(run)
    with pytest.raises(CheckpointError, match=r"already holds a run.*--resume .*no checkpoint yet: resuming starts"):
        train(_cfg(), run, echo=False)
    assert _snapshot(run) == before


def test_resume_drops_a_torn_last_metrics_line_and_says_so(tmp_path, capsys):
    run = tmp_path / "run"
    train(_cfg(**{"train.steps": 4}), run, echo=False)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 5, "d_lo')  # what a kill in the middle of a write leaves
    _, out = _resume(run, 6, capsys)
    assert "metrics.jsonl: dropped its last line, cut off by a crash" in out
    assert _steps(run / "metrics.jsonl") == [2, 4, 6]


@pytest.mark.parametrize("line", ["garbage", "[1, 2]", '{"no": "step"}'])
def test_resume_refuses_a_damaged_metrics_line_and_changes_nothing(tmp_path, line):
    run = tmp_path / "run"
    train(_cfg(**{"train.steps": 4}), run, echo=False)
    records = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join([records[0], line, *records[1:]]) + "\n")
    before = _snapshot(run)
    with pytest.raises(CheckpointError, match=r"metrics.jsonl line 2 .*nothing was changed. Delete or repair"):
        train(resume_config(run, {"train.steps": 6}), run, resume=True, echo=False)
    assert _snapshot(run) == before


def test_optimiser_settings_edited_in_config_json_are_applied_on_resume_and_logged(tmp_path, capsys):
    run = tmp_path / "run"
    first = train(_cfg(**{"train.steps": 4}), run, echo=False)
    old_lr = first.gan.g_optimizer.param_groups[0]["lr"]
    fields = json.loads((run / "config.json").read_text())
    fields["g_optim"]["lr"], fields["d_optim"]["betas"] = old_lr / 10, [0.0, 0.99]
    (run / "config.json").write_text(json.dumps(fields))
    resumed, out = _resume(run, 6, capsys)
    assert f"resume: g_optim.lr {old_lr!r} → {old_lr / 10!r}" in out
    assert "resume: d_optim.betas" in out and "→ (0.0, 0.99)" in out
    assert resumed.gan.g_optimizer.param_groups[0]["lr"] == old_lr / 10
    assert resumed.gan.d_optimizer.param_groups[0]["betas"] == (0.0, 0.99)
    saved = load_checkpoint(list_checkpoints(run / "checkpoints")[-1])
    assert saved["g_optimizer"]["param_groups"][0]["lr"] == old_lr / 10
    _, again = _resume(run, 8, capsys)
    assert "resume: g_optim" not in again and "resume: d_optim" not in again  # the checkpoint holds them now


def test_optimiser_settings_set_on_resume_act_as_edited_in_config_json_and_are_logged_once(tmp_path, capsys):
    """``resume_config(run, {"g_optim.lr": …})`` (``--set`` with ``--resume``) does what editing config.json does."""
    run = tmp_path / "run"
    first = train(_cfg(**{"train.steps": 4}), run, echo=False)
    old_lr = first.gan.g_optimizer.param_groups[0]["lr"]
    capsys.readouterr()
    cfg = resume_config(run, {"train.steps": 6, "g_optim.lr": old_lr / 10, "train.log_every": 3})
    resumed = train(cfg, run, resume=True)
    out = capsys.readouterr().out
    assert resumed.gan.g_optimizer.param_groups[0]["lr"] == old_lr / 10
    assert json.loads((run / "config.json").read_text())["g_optim"]["lr"] == old_lr / 10
    assert out.count("resume: g_optim.lr") == 1 and f"resume: g_optim.lr {old_lr!r} → {old_lr / 10!r}" in out
    assert "resume: train.log_every 2 → 3" in out and "resume: train.steps 4 → 6" in out
    assert f"resume: g_optim.lr {old_lr!r} → {old_lr / 10!r}" in (run / "log.txt").read_text()
