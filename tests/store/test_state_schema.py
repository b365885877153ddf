"""A checkpoint whose state.json was damaged or edited: one clear error from every command, the run unchanged."""

import json
import shutil

import pytest
import torch

from gankit.cli import main
from gankit.errors import CheckpointError
from gankit.store.checkpoint import list_checkpoints, load_checkpoint
from gankit.store.state_schema import OPTIONAL, SCHEMA, InvalidState, check_state, layout_problem, read_state
from tests.helpers import train_once


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny MLP GAN on the MNIST sample with one checkpoint (so that resume has nothing to fall back to)."""
    return train_once(tmp_path_factory, "state", "nsgan", **{"train.steps": 2})


@pytest.fixture
def run(trained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def _edit(run, change):
    (path,) = (p / "state.json" for p in list_checkpoints(run / "checkpoints"))
    meta = json.loads(path.read_text())
    change(meta["state"])
    path.write_text(json.dumps(meta))


def _set(key, value):
    return lambda state: state.__setitem__(key, value)


def _delete(key):
    return lambda state: state.pop(key)


def _swap_a_generator_tensor(state):
    name = next(iter(state["generator"]))
    state["generator"][name] = next(iter(state["discriminator"].values()))  # a tensor of another shape


MUTATIONS = {
    "no step": (_delete("step"), "'step' is missing"),
    "no rng": (_delete("rng"), "'rng' is missing"),
    "no sampler": (_delete("sampler"), "'sampler' is missing"),
    "no generator": (_delete("generator"), "'generator' is missing"),
    "no g_optimizer": (_delete("g_optimizer"), "'g_optimizer' is missing"),
    "no grid_z": (_delete("grid_z"), "'grid_z' is missing"),
    "no scheme": (_delete("scheme"), "'scheme' is missing"),
    "step x": (_set("step", "x"), "'step' must be an integer"),
    "step inf": (_set("step", float("inf")), "'step' must be an integer"),
    "step 1e29": (_set("step", 1e29), "'step' must be an integer"),
    "step huge": (_set("step", 10**29), "'step' must be an integer"),
    "data_shape None": (_set("data_shape", None), "'data_shape' must be a list"),
    "data_shape []": (_set("data_shape", []), "'data_shape' must be a list"),
    "data_shape negative": (_set("data_shape", [1, -28, 28]), "'data_shape' must be a list"),
    "data_shape huge": (_set("data_shape", [3, 60000, 60000]), "'data_shape' asks for"),
    "generator 5": (_set("generator", 5), "'generator' must map"),
    "generator []": (_set("generator", []), "'generator' must map"),
    "generator shape": (_swap_a_generator_tensor, "'generator' has a torch.float32 tensor of shape"),
    "rng not bytes": (lambda s: s["rng"].__setitem__("torch", 3), "'rng' 'torch' must be a 1-D bytes tensor"),
    "no param groups": (lambda s: s["g_optimizer"].__setitem__("param_groups", []), "'g_optimizer'"),
    "num_classes huge": (_set("num_classes", 10**12), "'num_classes' must be an integer"),
}


def _snapshot(run):
    return {p: (p.read_bytes() if p.is_file() else None) for p in sorted(run.rglob("*"))}


def _command(name, run, tmp_path):
    return {
        "sample": ["sample", str(run), "--out", str(tmp_path / "s.npz")],
        "resume": ["train", "--resume", str(run), "--steps", "4", "--no-progress"],
        "report": ["report", str(run), "--out", str(tmp_path / "r.html")],
        "eval": ["eval", str(run), "--out", str(tmp_path / "e.json"), "-n", "100"],
    }[name]


def _assert_clean_error(argv, run, message, capsys):
    before = _snapshot(run)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err and "state.json" in err, err
    assert _snapshot(run) == before  # nothing of the run changed: not a byte, not a name


CASES = [(m, c) for c in ("sample", "resume") for m in MUTATIONS] + [
    (m, c) for c in ("report", "eval") for m in ("no step", "data_shape huge", "generator shape", "step 1e29")
]


@pytest.mark.parametrize("mutation,command", CASES)
def test_a_damaged_state_json_stops_every_command_with_the_field_named(run, tmp_path, capsys, mutation, command):
    change, message = MUTATIONS[mutation]
    _edit(run, change)
    _assert_clean_error(_command(command, run, tmp_path), run, message, capsys)


@pytest.mark.parametrize("command", ["sample", "resume", "report", "eval"])
def test_a_state_json_nested_100000_deep_is_an_error_not_a_recursion_error(run, tmp_path, capsys, command):
    (path,) = (p / "state.json" for p in list_checkpoints(run / "checkpoints"))
    path.write_text(path.read_text().replace('"scheme": {}', '"scheme": ' + "[" * 100_000 + "]" * 100_000))
    _assert_clean_error(_command(command, run, tmp_path), run, "nests lists or objects more than 64 deep", capsys)


def test_resume_checks_what_only_a_running_training_can(run, tmp_path, capsys):
    """Optimiser moments, sampler indices and grid labels of the wrong shape would fail steps later."""
    cases = [
        (lambda s: s["g_optimizer"]["state"]["0"].__setitem__("exp_avg", s["grid_z"]), "'g_optimizer' has exp_avg"),
        (lambda s: s["sampler"].__setitem__("position", 10**6), "'sampler' holds indices or a position outside"),
        (lambda s: s["grid_z"].__setitem__("$tensor", "rng/torch"), "'grid_z' must be a 2-D float tensor"),
        (lambda s: s["g_optimizer"]["state"]["0"].pop("exp_avg_sq"), "'g_optimizer' has a state for parameter 0"),
    ]
    pristine = {p: p.read_bytes() for p in run.rglob("state.json")}
    for change, message in cases:
        for p, data in pristine.items():
            p.write_bytes(data)
        _edit(run, lambda s, change=change: _items_as_dict(s, change))
        _assert_clean_error(_command("resume", run, tmp_path), run, message, capsys)


def _items_as_dict(state, change):
    """Edit an optimiser's per-parameter state (stored as "$items" pairs) as a dict keyed by str, then back."""
    for name in ("g_optimizer", "d_optimizer"):
        state[name]["state"] = {str(k): v for k, v in state[name]["state"]["$items"]}
    change(state)
    for name in ("g_optimizer", "d_optimizer"):
        state[name]["state"] = {"$items": [[int(k), v] for k, v in state[name]["state"].items()]}


def test_the_schema_accepts_what_training_writes(trained):
    state = read_state(list_checkpoints(trained / "checkpoints")[-1])
    assert set(SCHEMA) | set(OPTIONAL) == set(state)  # every field the trainer writes is checked
    with pytest.raises(InvalidState, match="'elapsed_s' must be a finite number"):
        check_state({**state, "elapsed_s": -1.0}, trained)
    with pytest.raises(CheckpointError, match="field 'state' must be a JSON object"):
        check_state([], trained)
    assert load_checkpoint(list_checkpoints(trained / "checkpoints")[-1])["step"] == 2


def test_layout_problem_names_the_first_difference():
    expected = {"w": torch.zeros(2, 3), "n": [1, 2.0], "s": "x"}
    assert layout_problem(expected, {"w": torch.ones(2, 3), "n": [5, 6], "s": "y"}) is None
    assert "missing ['w']" in layout_problem(expected, {"n": [1, 2], "s": "x"})
    assert "at 'w'" in layout_problem(expected, {"w": torch.zeros(3, 2), "n": [1, 2], "s": "x"})
    assert "at 'n.1'" in layout_problem(expected, {"w": torch.zeros(2, 3), "n": [1, float("nan")], "s": "x"})
    assert "where 2 entries belong" in layout_problem(expected, {"w": torch.zeros(2, 3), "n": [1], "s": "x"})


@pytest.mark.parametrize(
    "text,message",
    [
        (b"[" * 100_000 + b"]" * 100_000, "config.json nests lists or objects more than 64 deep"),
        (b"\xff\xfe{", "config.json is not UTF-8 text"),
        (b'"lsgan"', "config.json must hold a JSON object of config fields, got str"),
        (b'{"model": 5}', "config.json is corrupt or from another version"),
    ],
)
@pytest.mark.parametrize("command", ["sample", "resume"])
def test_a_damaged_config_json_is_a_clear_error(run, tmp_path, capsys, text, message, command):
    (run / "config.json").write_bytes(text)
    before = _snapshot(run)
    assert main(_command(command, run, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and message in err and "Traceback" not in err, err
    assert _snapshot(run) == before
