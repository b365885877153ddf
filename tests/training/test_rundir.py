"""The run folder across crashes: fallback past damaged checkpoints, runs without one, torn logs, edited configs."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import torch

from gankit.errors import CheckpointError
from gankit.store.checkpoint import list_checkpoints, load_checkpoint, step_dir_name
from gankit.store.resume import resume_config
from gankit.store.tempfiles import TEMP_SUFFIX, is_temp_name, temp_name
from gankit.training.trainer import train
from tests.helpers import rewrite_checkpoint, tiny


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


def _truncate(ckpt):
    (ckpt / "tensors.safetensors").write_bytes((ckpt / "tensors.safetensors").read_bytes()[:100])


def _nan_weight(tensors):
    name = next(k for k in sorted(tensors) if k.startswith("generator/"))
    tensors[name] = torch.full_like(tensors[name], float("nan"))


DAMAGES = {
    "truncated": (_truncate, "checkpoint .*does not match the checksum"),  # what a power loss can leave
    "NaN weights": (lambda c: rewrite_checkpoint(c, tensors=_nan_weight), "'generator' holds non-finite values"),
    "step 0": (lambda c: rewrite_checkpoint(c, state=lambda s: s.update(step=0)), "the folder's name says step 6"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_resume_falls_back_past_a_damaged_newest_checkpoint(tmp_path, capsys, damage):
    """A damaged newest checkpoint (the checksum tells, or only its values do): resume says so, sets it aside and
    continues from the newest valid one, as a straight run would have."""
    every = {"train.checkpoint_every": 2, "train.keep_checkpoints": 3}
    straight = train(_cfg(**every, **{"train.steps": 8}), tmp_path / "straight", echo=False)
    run = tmp_path / "run"
    train(_cfg(**every, **{"train.steps": 6}), run, echo=False)
    change, reason = DAMAGES[damage]
    change(run / "checkpoints" / "step-00000006")
    resumed, out = _resume(run, 8, capsys)
    assert re.search(f"skipped checkpoint step-00000006: .*{reason}", out), out
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


def test_a_start_takes_over_a_folder_left_by_a_start_killed_while_writing_config_json(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").touch()
    leftover = run / f".config.json.123-dead{TEMP_SUFFIX}"  # the temporary name write_atomic gives config.json
    assert temp_name(run / "config.json").name.startswith(".config.json.") and is_temp_name(leftover.name)
    leftover.write_text('{"rec')
    train(_cfg(), run, echo=False)
    assert not leftover.exists() and (run / "config.json").is_file()


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


def _make_file(path):
    shutil.rmtree(path, ignore_errors=True)
    path.write_text("x")


def _make_folder(path):
    path.unlink(missing_ok=True)
    path.mkdir()


MISSHAPEN = {
    "metrics.jsonl a folder": (lambda run: _make_folder(run / "metrics.jsonl"), "metrics.jsonl is a folder"),
    "log.txt a folder": (lambda run: _make_folder(run / "log.txt"), "log.txt is a folder"),
    "checkpoints a file": (lambda run: _make_file(run / "checkpoints"), "checkpoints is a file"),
    "samples a file": (lambda run: _make_file(run / "samples"), "samples is a file"),
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A 4-step run with checkpoints at steps 2 and 4 (resumed by copies)."""
    run = tmp_path_factory.mktemp("finished") / "run"
    train(_cfg(**{"train.steps": 4, "train.checkpoint_every": 2}), run, echo=False)
    return run


@pytest.mark.parametrize("shape", MISSHAPEN)
def test_resume_checks_the_shape_of_the_run_folder_before_writing_anything(finished, tmp_path, shape):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    change, message = MISSHAPEN[shape]
    change(run)
    before = _snapshot(run)
    with pytest.raises(CheckpointError, match=f"cannot resume {run}: {run}/{message}, .*nothing was changed"):
        train(resume_config(run, {"train.steps": 6}), run, resume=True, echo=False)
    assert _snapshot(run) == before


@pytest.mark.parametrize("where", [".", "checkpoints", "samples", "metrics.jsonl", "checkpoints/step-00000002"])
def test_resume_refuses_what_it_cannot_write_before_writing_anything(finished, tmp_path, where, monkeypatch):
    """Read-only or immutable (root may write a read-only folder, not an immutable one): os.access tells both."""
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    denied, access = (run / where).resolve(), os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p).resolve() != denied and access(p, mode))
    before = _snapshot(run)
    with pytest.raises(CheckpointError, match=f"cannot resume {run}: .*cannot be written .*nothing was changed"):
        train(resume_config(run, {"train.steps": 6}), run, resume=True, echo=False)
    assert _snapshot(run) == before


def test_resume_and_pruning_past_step_10_to_the_8(finished, tmp_path, capsys):
    """A run past step 10⁸ (its checkpoints renamed to their 9-digit names, steps edited to match) resumes from
    its newest, not from the one whose name sorts last, and pruning removes the oldest."""
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    for old, new in ((2, 99_999_998), (4, 100_000_000)):
        folder = run / "checkpoints" / step_dir_name(new)
        (run / "checkpoints" / step_dir_name(old)).rename(folder)
        rewrite_checkpoint(folder, state=lambda s, new=new: s.update(step=new))
    cfg = resume_config(run, {"train.steps": 100_000_002, "train.keep_checkpoints": 2})
    capsys.readouterr()
    resumed = train(cfg, run, resume=True)
    assert "from step-100000000 (step 100000000)" in capsys.readouterr().out
    assert resumed.step == 100_000_002
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == ["step-100000000", "step-100000002"]


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
