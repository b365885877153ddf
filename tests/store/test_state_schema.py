"""A checkpoint whose state.json was damaged or edited: one clear error from every command, the run unchanged."""

import json
import shutil

import pytest
import torch

from gankit.cli import main
from gankit.errors import CheckpointError
from gankit.store.checkpoint import list_checkpoints, load_checkpoint
from gankit.store.state_schema import OPTIONAL, SCHEMA, InvalidState, check_state, layout_problem, read_state
from tests.helpers import rewrite_checkpoint, train_once


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
    "step 0 in step-2": (_set("step", 0), "'step' is 0, but the folder's name says step 2"),
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
    return err


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


# -- damaged tensors, with the checksum recomputed: what only a check of the values can catch ----------------------


def _tensor(prefix, change):
    """An edit of the first tensor (by name) whose name starts with ``prefix``."""

    def edit(tensors):
        name = next(k for k in sorted(tensors) if k.startswith(prefix))
        tensors[name] = change(tensors[name].clone())

    return edit


def _fill(value):
    return lambda t: t.fill_(value)


DAMAGE = {
    "NaN G weight": (_tensor("generator/", _fill(float("nan"))), "'generator' holds non-finite values in"),
    "inf D weight": (_tensor("discriminator/", _fill(float("inf"))), "'discriminator' holds non-finite values in"),
    "inf Adam moment": (
        _tensor("g_optimizer/state/0/exp_avg_sq", _fill(float("inf"))),
        "'g_optimizer' has non-finite values in exp_avg_sq of parameter 0",
    ),
    "negative Adam moment": (
        _tensor("g_optimizer/state/0/exp_avg_sq", _fill(-1.0)),
        "'g_optimizer' has negative values in exp_avg_sq of parameter 0",
    ),
    "Adam step -1": (_tensor("d_optimizer/state/1/step", _fill(-1.0)), "'d_optimizer' has step of parameter 1"),
    "Adam step 1.5": (_tensor("d_optimizer/state/1/step", _fill(1.5)), "must be a whole number of steps"),
    "zero permutation": (_tensor("sampler/perm", torch.zeros_like), "'sampler' 'perm' must be a permutation"),
    "float64 G weights": (_tensor("generator/", lambda t: t.double()), "as a torch.float64 tensor; gankit keeps"),
}
DAMAGE_CASES = [(d, c) for c in ("sample", "resume") for d in DAMAGE] + [
    (d, "eval") for d in ("NaN G weight", "float64 G weights")
]


@pytest.mark.parametrize("damage,command", DAMAGE_CASES)
def test_a_checkpoint_damaged_behind_a_valid_checksum_stops_every_command(run, tmp_path, capsys, damage, command):
    """NaN weights, broken optimiser moments or sampler order pass the checksum; every command refuses them
    before it writes anything (resume included: its only checkpoint is damaged, so nothing is left to resume)."""
    change, message = DAMAGE[damage]
    (ckpt,) = list_checkpoints(run / "checkpoints")
    rewrite_checkpoint(ckpt, tensors=change)
    assert ckpt.name in _assert_clean_error(_command(command, run, tmp_path), run, message, capsys)


@pytest.mark.parametrize(
    "change,message",
    [
        (_tensor("generator/", _fill(float("nan"))), "'generator' holds non-finite values"),
        (_tensor("generator/", lambda t: t.double()), "as a torch.float64 tensor; gankit keeps"),
    ],
)
def test_grid_refuses_a_checkpoint_with_damaged_weights(cgan_run, tmp_path, capsys, change, message):
    run = tmp_path / "run"
    shutil.copytree(cgan_run, run)
    rewrite_checkpoint(list_checkpoints(run / "checkpoints")[-1], tensors=change)
    argv = ["grid", str(run), "--by", "class", "--columns", "1", "--out", str(tmp_path / "g.png")]
    err = _assert_clean_error(argv, run, message, capsys)
    assert f"checkpoint {list_checkpoints(run / 'checkpoints')[-1]}:" in err
    assert not (tmp_path / "g.png").exists()


def test_the_values_of_weights_ema_and_batch_norm_statistics_are_checked(trained):
    """The EMA and the encoder hold weights too; a batch-norm running variance is never negative."""
    state = read_state(list_checkpoints(trained / "checkpoints")[-1])
    ema = {f"module.{k}": v.clone() for k, v in state["generator"].items()} | {"n_averaged": torch.tensor(3)}
    assert check_state({**state, "ema": ema}, trained)["ema"] is ema
    first = next(iter(state["generator"]))
    with pytest.raises(InvalidState, match=f"'ema' holds non-finite values in 'module.{first}'"):
        check_state({**state, "ema": ema | {f"module.{first}": torch.full((2,), float("nan"))}}, trained)
    with pytest.raises(InvalidState, match="'encoder' holds non-finite values in 'w'"):
        check_state({**state, "encoder": {"w": torch.tensor([1.0, -float("inf")])}}, trained)
    bn = state["generator"] | {"bn.running_var": torch.tensor([1.0, -0.5])}
    with pytest.raises(InvalidState, match="'generator' holds negative variances in 'bn.running_var'"):
        check_state({**state, "generator": bn}, trained)
    assert check_state({**state, "generator": bn | {"bn.running_var": torch.tensor([1.0, 0.0])}}, trained)
