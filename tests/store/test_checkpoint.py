import json
import os
import re
import shutil
import stat
from pathlib import Path

import pytest
import torch

from gankit.errors import CheckpointError
from gankit.store import faults
from gankit.store.checkpoint import (
    checkpoint_step,
    flatten_state,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    remove_leftovers,
    save_checkpoint,
    step_dir_name,
    unflatten_state,
)


def _state():
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.9))
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    return {
        "step": 7,
        "net": net.state_dict(),
        "opt": opt.state_dict(),
        "rng": torch.get_rng_state(),
        "nothing": None,
        "shape": [1, 28, 28],
    }


def test_flatten_round_trip_keeps_int_keys_and_values():
    state = _state()
    tensors, tree = flatten_state(state)
    json.dumps(tree)  # the tree is plain JSON
    back = unflatten_state(json.loads(json.dumps(tree)), tensors)
    assert back["step"] == 7 and back["nothing"] is None and back["shape"] == [1, 28, 28]
    assert set(back["opt"]["state"]) == {0, 1}  # int keys survive
    assert torch.equal(back["opt"]["state"][0]["exp_avg"], state["opt"]["state"][0]["exp_avg"])
    assert torch.equal(back["rng"], state["rng"])


def test_save_and_load(tmp_path):
    state = _state()
    save_checkpoint(tmp_path / "step-00000007", state)
    back = load_checkpoint(tmp_path / "step-00000007")
    net = torch.nn.Linear(3, 2)
    net.load_state_dict(back["net"])
    assert torch.equal(net.weight, state["net"]["weight"])
    opt = torch.optim.Adam(net.parameters())
    opt.load_state_dict(back["opt"])
    assert opt.param_groups[0]["betas"] == (0.5, 0.9)
    assert opt.state_dict()["state"][0]["step"].item() == 1


def test_no_pickle_anywhere(tmp_path):
    path = save_checkpoint(tmp_path / "step-00000001", _state())
    assert sorted(p.name for p in path.iterdir()) == ["state.json", "tensors.safetensors"]


def test_missing_and_corrupt_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")
    path = save_checkpoint(tmp_path / "step-00000001", _state())
    data = bytearray((path / "tensors.safetensors").read_bytes())
    data[-3] ^= 0xFF
    (path / "tensors.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match the checksum"):
        load_checkpoint(path)
    path = save_checkpoint(tmp_path / "step-00000002", _state())
    (path / "state.json").write_text('{"format": 1, "sha2')
    with pytest.raises(CheckpointError, match="state.json is corrupt"):
        load_checkpoint(path)
    path = save_checkpoint(tmp_path / "step-00000003", _state())
    (path / "tensors.safetensors").unlink()
    with pytest.raises(CheckpointError, match="tensors.safetensors is missing"):
        load_checkpoint(path)


def test_a_failed_write_leaves_the_previous_checkpoint_untouched(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "step-00000005", {"w": torch.ones(3)})
    before = (path / "tensors.safetensors").read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("gankit.store.checkpoint.json.dump", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "step-00000005", {"w": torch.zeros(3)})
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "step-00000006", {"w": torch.zeros(3)})
    assert (path / "tensors.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["step-00000005"]  # no half-written folder
    assert torch.equal(load_checkpoint(path)["w"], torch.ones(3))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_state_is_not_written(tmp_path, bad):
    with pytest.raises(CheckpointError, match="non-finite values in w, v$"):
        state = {"w": torch.tensor([1.0, bad]), "ok": torch.ones(2), "v": torch.tensor([bad], dtype=torch.float64)}
        save_checkpoint(tmp_path / "step-00000001", state)
    assert not any(tmp_path.iterdir())


def test_prune_keeps_the_newest(tmp_path):
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path / f"step-{step:08d}", {"s": torch.tensor(step)})
    (tmp_path / ".tmp-step-00000005-1").mkdir()
    prune_checkpoints(tmp_path, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000003", "step-00000004"]
    assert not (tmp_path / ".tmp-step-00000005-1").exists()


def test_checkpoints_sort_by_step_past_eight_digits(tmp_path):
    """From step 10⁸ on a name has 9 digits: the newest is still the last listed, pruning still drops the oldest."""
    for step in (99_999_998, 6, 100_000_000, 1_000_000_002):
        save_checkpoint(tmp_path / step_dir_name(step), {"s": torch.tensor(step)})
    (tmp_path / "step-0000000٣").mkdir()  # an Arabic-Indic digit: not a checkpoint name
    names = ["step-00000006", "step-99999998", "step-100000000", "step-1000000002"]
    assert [p.name for p in list_checkpoints(tmp_path)] == names
    assert [checkpoint_step(p) for p in list_checkpoints(tmp_path)] == [6, 99_999_998, 100_000_000, 1_000_000_002]
    assert checkpoint_step(tmp_path / "step-00000006.damaged") is None
    prune_checkpoints(tmp_path, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == names[2:]


def test_the_list_holds_only_complete_checkpoints(tmp_path):
    for step in (1, 2, 3):
        save_checkpoint(tmp_path / f"step-{step:08d}", {"s": torch.tensor(step)})
    (tmp_path / "step-00000002" / "tensors.safetensors").unlink()  # what a kill in the old pruning left
    shutil.copytree(tmp_path / "step-00000001", tmp_path / ".del-step-00000004-7")
    shutil.copytree(tmp_path / "step-00000001", tmp_path / "step-00000005.damaged")
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000001", "step-00000003"]


def test_pruning_renames_a_checkpoint_out_of_the_list_before_deleting_it(tmp_path, monkeypatch):
    """A crash at any moment of the removal leaves the checkpoint listed and whole, or unlisted."""
    for step in (1, 2, 3):
        save_checkpoint(tmp_path / f"step-{step:08d}", {"s": torch.tensor(step)})
    seen = []

    def crash_at(point):
        seen.append((point, [p.name for p in list_checkpoints(tmp_path)]))
        if point == "prune:half-deleted":
            raise KeyboardInterrupt  # stands for the SIGKILL of the kill trials

    monkeypatch.setattr(faults, "reached", crash_at)
    with pytest.raises(KeyboardInterrupt):
        prune_checkpoints(tmp_path, keep=1)
    assert seen == [
        ("prune:renamed", ["step-00000002", "step-00000003"]),
        ("prune:half-deleted", ["step-00000002", "step-00000003"]),
    ]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000002", "step-00000003"]
    assert all(load_checkpoint(p) for p in list_checkpoints(tmp_path))
    assert [p.name for p in remove_leftovers(tmp_path)] == [f".del-step-00000001-{os.getpid()}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-00000002", "step-00000003"]


def test_both_files_and_both_folders_are_synced_before_and_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync, real_rename = os.fsync, Path.rename

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def rename(self, target):
        synced.append(f"rename {self.name} -> {Path(target).name}")
        return real_rename(self, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(Path, "rename", rename)
    save_checkpoint(tmp_path / "step-00000001", {"w": torch.ones(2)})
    tmp = f".tmp-step-00000001-{os.getpid()}"
    assert [Path(s).name if s.startswith("/") else s for s in synced] == [
        "tensors.safetensors",
        "state.json",
        tmp,
        f"rename {tmp} -> step-00000001",
        tmp_path.name,
    ]


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_both_files_get_the_mode_the_umask_gives(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = save_checkpoint(tmp_path / "step-00000001", {"w": torch.ones(2)})
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.iterdir()}
    assert modes == {"tensors.safetensors": 0o666 & ~umask, "state.json": 0o666 & ~umask}


@pytest.mark.parametrize(
    "tree,message",
    [
        ("[" * 100_000 + "]" * 100_000, "nests lists or objects more than 64 deep"),
        ('{"$items": 5}', "state.json is corrupt"),
        ('{"$items": [[[1], 2]]}', "state.json is corrupt"),
        ('{"$tensor": "nope"}', "tensor 'nope' named in state.json is missing"),
        ('{"$tuple": 3}', "state.json is corrupt"),
    ],
)
def test_a_hostile_state_json_gives_a_clear_error(tmp_path, tree, message):
    path = save_checkpoint(tmp_path / "step-00000001", {"w": torch.ones(2)})
    meta = json.loads((path / "state.json").read_text())
    text = json.dumps({**meta, "state": None}).replace("null", tree)
    (path / "state.json").write_text(text)
    with pytest.raises(CheckpointError, match=re.escape(message)):
        load_checkpoint(path)
    (path / "state.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(CheckpointError, match="state.json is corrupt: it is not UTF-8"):
        load_checkpoint(path)
