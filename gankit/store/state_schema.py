"""What a checkpoint's state must hold, checked before any of it is used or anything is written.

:func:`read_state` loads a checkpoint (``gankit.store.checkpoint``) and checks its state against ``SCHEMA``:
every field present, of its type, in its range. :func:`layout_problem` and :func:`optimizer_problem` then
check it against the networks built from the run's ``config.json`` (names and shapes of the tensors), and
:func:`check_fits` against all that ``train --resume`` built (also data, classes, sample grid, scheme), so
that ``sample``, ``report``, ``eval`` and ``train --resume`` stop with one line naming the file and the
field, never a traceback from deep inside torch, and never after having changed the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gankit.errors import CheckpointError
from gankit.store.checkpoint import STATE_FILE, checkpoint_step, load_checkpoint
from gankit.store.finite import nonfinite

MAX_COUNT = 10**15  # steps, images seen
MAX_SIDE = 1 << 16  # one side of the data shape
MAX_VALUES = 1 << 26  # values in one example
MAX_CLASSES = 100_000
RNG_BYTES = torch.get_rng_state().numel()

Check = Callable[[Any], "str | None"]  # None if the value is fine, else what is wrong with it


def _count(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        return f"must be an integer from 0 to {MAX_COUNT:.0e}, got {_show(value)}"
    return None


def _seconds(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
        return f"must be a finite number of seconds >= 0, got {_show(value)}"
    return None


def _shape(value: Any) -> str | None:
    sides_ok = isinstance(value, list) and all(not isinstance(s, bool) and isinstance(s, int) for s in value)
    if not sides_ok or not 1 <= len(value) <= 3 or not all(1 <= s <= MAX_SIDE for s in value):
        return f"must be a list of 1 to 3 sizes from 1 to {MAX_SIDE}, got {_show(value)}"
    if math.prod(value) > MAX_VALUES:
        return f"asks for {math.prod(value):,} values per example (at most {MAX_VALUES:,})"
    return None


def _classes(value: Any) -> str | None:
    if value is None or (type(value) is int and 0 <= value <= MAX_CLASSES):
        return None
    return f"must be an integer from 0 to {MAX_CLASSES:,} (or null), got {_show(value)}"


def _tensors(value: Any) -> str | None:
    if not isinstance(value, dict) or not value:
        return f"must map parameter names to tensors, got {_show(value)}"
    wrong = [k for k, v in value.items() if not isinstance(v, Tensor)]
    return f"holds {wrong[0]!r}, which is not a tensor" if wrong else None


def _weights(value: Any) -> str | None:
    """A module's ``state_dict``: tensors, its floating ones float32 (as training keeps them, under mixed precision
    too) and finite, its batch-norm running variances >= 0."""
    problem = _tensors(value)
    if problem:
        return problem
    bad = set(nonfinite(value))
    for name, t in value.items():
        if t.is_floating_point() and t.dtype != torch.float32:
            return f"holds {name!r} as a {t.dtype} tensor; gankit keeps weights in torch.float32"
        if name in bad:
            return f"holds non-finite values in {name!r}"
        if name.endswith("running_var") and (t < 0).any():
            return f"holds negative variances in {name!r}"
    return None


def _maybe(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be a JSON object, got {_show(value)}"


def _optimizer(value: Any) -> str | None:
    if not isinstance(value, dict) or not isinstance(value.get("state"), dict):
        return "must be an optimiser state with 'state' and 'param_groups'"
    groups = value.get("param_groups")
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
        return "must hold a non-empty list 'param_groups' of objects"
    if not all(isinstance(g.get("params"), list) and all(type(i) is int for i in g["params"]) for g in groups):
        return "has a parameter group without its list of parameter numbers ('params')"
    state = value["state"]
    tensors = {
        (key, name): t
        for key, entry in state.items()
        if isinstance(entry, dict)
        for name, t in entry.items()
        if isinstance(t, Tensor)
    }
    bad = set(nonfinite(tensors))
    return next(filter(None, (_moments(key, entry, bad) for key, entry in state.items())), None)


# Running means of squared gradients (Adam's and RMSprop's): never negative; an optimiser divides by their root.
SECOND_MOMENTS = ("exp_avg_sq", "max_exp_avg_sq", "square_avg")


def _moments(key: Any, entry: Any, nonfinite_moments: set[tuple[Any, str]]) -> str | None:
    """What is wrong with the values of one parameter's optimiser state (finite moments, that is none of
    ``nonfinite_moments`` (parameter, name), second moments >= 0, a whole step count >= 0), or None; its names and
    shapes are checked against the model by ``optimizer_problem``."""
    if not isinstance(entry, dict):
        return None
    for name, value in entry.items():
        where = f"{name} of parameter {key}"
        if (key, name) in nonfinite_moments:
            return f"has non-finite values in {where}"
        if name in SECOND_MOMENTS and isinstance(value, Tensor) and (value < 0).any():
            return f"has negative values in {where} (a mean of squares)"
        if name == "step":
            count = value.item() if isinstance(value, Tensor) and value.numel() == 1 else value
            if isinstance(count, bool) or not isinstance(count, (int, float)) or not 0 <= count <= MAX_COUNT:
                return f"has {where} {_show(value)}; it must be a whole number of steps from 0 to {MAX_COUNT:.0e}"
            if count != int(count):
                return f"has {where} {count}; it must be a whole number of steps"
    return None


def _tensor_of(kind: str, dims: int, numel: int | None = None) -> Check:
    def check(value: Any) -> str | None:
        ok = isinstance(value, Tensor) and value.dim() == dims
        ok = ok and (value.dtype == torch.uint8 if kind == "bytes" else _kind(value) == kind)
        if not ok or (numel is not None and value.numel() != numel):
            size = f" of {numel} values" if numel is not None else ""
            return f"must be a {dims}-D {kind} tensor{size}, got {_show(value)}"
        if kind == "float" and not torch.isfinite(value).all():
            return "holds non-finite values"
        return None

    return check


def _fields(checks: dict[str, Check]) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"must be a JSON object, got {_show(value)}"
        for name, field_check in checks.items():
            if name not in value:
                return f"lacks {name!r}"
            problem = field_check(value[name])
            if problem:
                return f"{name!r} {problem}"
        return None

    return check


_rng = _tensor_of("bytes", 1, RNG_BYTES)


def _permutation(value: Any) -> str | None:
    """The sampler's order of the data: each index of 0..n-1 once."""
    problem = _tensor_of("int", 1)(value)
    if problem:
        return problem
    if not torch.equal(torch.sort(value.cpu()).values, torch.arange(value.numel(), dtype=value.dtype)):
        return f"must be a permutation of 0..{value.numel() - 1} (each index once); it is not"
    return None


MAX_PROCESSES = 1 << 20


def _processes(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PROCESSES:
        return f"must be a number of processes from 1 to {MAX_PROCESSES:,}, got {_show(value)}"
    return None


def _watch(value: Any) -> str | None:
    """The collapse watch's state: counts of checks, an onset step or null, the previous check's labels or null."""
    problem = _fields({"checks": _count, "streak": _count, "onset": _maybe(_count), "warned": _maybe(_count)})(value)
    if problem:
        return problem
    labels = value.get("labels")
    if labels is not None and (problem := _tensor_of("int", 1)(labels)):
        return f"'labels' {problem}"
    if not isinstance(value.get("armed", False), bool):
        return f"'armed' must be true or false, got {_show(value['armed'])}"
    if value["streak"] > value["checks"]:
        return f"has a streak of {value['streak']} collapsed checks in {value['checks']} checks"
    return None


# Every field of ``Training.state_dict()`` with its check; those of ``OPTIONAL`` may be absent (older checkpoints).
SCHEMA: dict[str, Check] = {
    "step": _count,
    "images_seen": _count,
    "elapsed_s": _seconds,
    "data_shape": _shape,
    "num_classes": _classes,
    "generator": _weights,
    "discriminator": _weights,
    "g_optimizer": _optimizer,
    "d_optimizer": _optimizer,
    "encoder": _maybe(_weights),
    "ema": _maybe(_weights),
    "scheme": _mapping,
    "sampler": _fields({"epoch": _count, "position": _count, "perm": _permutation, "rng": _rng}),
    "grid_z": _tensor_of("float", 2),
    "grid_y": _maybe(_tensor_of("int", 1)),
    "rng": _fields({"torch": _rng}),
}
OPTIONAL: dict[str, Check] = {
    "loss_scalers": _maybe(_mapping),
    "gankit_version": _maybe(lambda v: _text(v)),
    "world_size": _maybe(_processes),  # informative (resuming under another world size is allowed)
    "watch": _maybe(_watch),  # the collapse watch's state (absent before gankit had one)
}


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be text, got {_show(value)}"


def _kind(t: Tensor) -> str:
    return "float" if t.is_floating_point() else "bool" if t.dtype == torch.bool else "int"


def _show(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {list(value.shape)}"
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__} ({text[:30]}…)"


class InvalidState(CheckpointError):
    """A checkpoint whose state cannot be used; ``reason`` says which field and why."""

    def __init__(self, path: Path, field: str, problem: str):
        self.path, self.reason = path, f"{STATE_FILE}, field {field!r} {problem}"
        super().__init__(
            f"checkpoint {path}: {self.reason} — it is damaged, or config.json changed since it was "
            "written; use another checkpoint of the run (--checkpoint)"
        )


def check_state(state: Any, path: Path) -> dict[str, Any]:
    """``state`` if it has every field of ``SCHEMA`` (and valid optional ones), else :class:`InvalidState`."""
    if not isinstance(state, dict):
        raise InvalidState(path, "state", f"must be a JSON object, got {_show(state)}")
    for name, check in SCHEMA.items():
        if name not in state:
            raise InvalidState(path, name, "is missing")
        problem = check(state[name])
        if problem:
            raise InvalidState(path, name, problem)
    for name, check in OPTIONAL.items():
        problem = check(state.get(name))
        if problem:
            raise InvalidState(path, name, problem)
    return state


def read_state(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The state of the checkpoint ``path``, checked against ``SCHEMA``, and its step against its folder's name."""
    path = Path(path)
    state = check_state(load_checkpoint(path, map_location), path)
    named = checkpoint_step(path)
    if named is not None and state["step"] != named:
        raise InvalidState(path, "step", f"is {state['step']}, but the folder's name says step {named}")
    return state


def layout_problem(expected: Any, got: Any, where: str = "") -> str | None:
    """What differs between ``got`` and the structure of ``expected`` (same keys, lengths, tensor shapes and
    kinds, numbers where numbers are), or None."""
    at = f" at {where!r}" if where else ""
    if isinstance(expected, Tensor):
        if not isinstance(got, Tensor):
            return f"has {_show(got)}{at} where a tensor belongs"
        if got.shape != expected.shape or got.dtype != expected.dtype:
            return f"has {_show(got)}{at}; the model in config.json needs {_show(expected)}"
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"has {_show(got)}{at} where an object belongs"
        missing, extra = sorted(map(str, set(expected) - set(got))), sorted(map(str, set(got) - set(expected)))
        if missing or extra:
            return f"does not fit the model in config.json{at}: missing {missing[:3]}, unexpected {extra[:3]}"
        parts = [(expected[k], got[k], f"{where}.{k}" if where else str(k)) for k in expected]
    elif isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"has {_show(got)}{at} where {len(expected)} entries belong"
        parts = [(e, g, f"{where}.{i}") for i, (e, g) in enumerate(zip(expected, got, strict=True))]
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        ok = isinstance(got, (int, float)) and not isinstance(got, bool) and math.isfinite(got)
        return None if ok else f"has {_show(got)}{at} where a finite number belongs"
    else:
        return (
            None if type(got) is type(expected) else f"has {_show(got)}{at} where a {type(expected).__name__} belongs"
        )
    return next((problem for e, g, w in parts if (problem := layout_problem(e, g, w))), None)


def optimizer_problem(optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> str | None:
    """What keeps the optimiser ``state`` (checked by ``SCHEMA``) from fitting ``optimizer``, or None."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    sizes, saved = [len(g["params"]) for g in optimizer.param_groups], [len(g["params"]) for g in state["param_groups"]]
    if saved != sizes:
        return f"has parameter groups of sizes {saved}; the model in config.json needs {sizes}"
    ids = [i for g in state["param_groups"] for i in g["params"]]
    by_id = dict(zip(ids, params, strict=True))
    keys = state_keys(optimizer)
    for key, entry in state["state"].items():
        if key not in by_id or not isinstance(entry, dict) or (entry and set(entry) != keys):
            return f"has a state for parameter {key!r} that is not {sorted(keys)} of one of its parameters"
        for name, value in entry.items():
            if isinstance(value, Tensor) and value.dim() > 0 and value.shape != by_id[key].shape:
                return f"has {name} of parameter {key} with {_show(value)}; its parameter has {list(by_id[key].shape)}"
            if not isinstance(value, (Tensor, int, float)) and value is not None:
                return f"has {name} of parameter {key} of type {type(value).__name__}"
    return None


def state_keys(optimizer: torch.optim.Optimizer) -> set[str]:
    """The per-parameter state an optimiser of this class keeps (found by one step on a single number)."""
    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.zeros(1)
    options = {k: v for k, v in optimizer.defaults.items() if k not in ("fused", "foreach", "capturable")}
    probe = type(optimizer)([p], **options)
    probe.step()
    return set(probe.state[p])


# Where each player's optimiser state sits in a checkpoint's state (``Training.optimizers`` are by player).
OPTIMIZER_STATES = {"generator": "g_optimizer", "discriminator": "d_optimizer"}


def check_fits(
    state: dict[str, Any],
    path: Path,
    own: dict[str, Any],
    optimizers: Mapping[str, torch.optim.Optimizer],
    scheme_problem: Check,
) -> None:
    """Raise :class:`InvalidState` unless ``state`` (checked by ``SCHEMA``) fits the run that would save ``own``
    (its networks, data, classes, sample grid, data order and generators), with ``optimizers`` (by player) and
    an update scheme that says what keeps a saved state from being its own (``scheme_problem``), so that loading
    it cannot fail half-way or later."""
    misfit = _misfit(state, own, optimizers, scheme_problem)
    if misfit is not None:
        raise InvalidState(path, *misfit)


def _misfit(
    state: dict[str, Any], own: dict[str, Any], optimizers: Mapping[str, torch.optim.Optimizer], scheme_problem: Check
) -> tuple[str, str] | None:
    if state["data_shape"] != own["data_shape"]:
        return "data_shape", f"is {state['data_shape']}, but the data now has shape {own['data_shape']}"
    if state["num_classes"] != own["num_classes"]:
        return "num_classes", f"is {state['num_classes']}, but this run has {own['num_classes']} classes"
    for name in ("generator", "discriminator", "encoder", "ema"):
        problem = layout_problem(own[name], state[name])
        if problem:
            return name, problem
    scalers, own_scalers = state.get("loss_scalers") or {}, own["loss_scalers"]
    for name in set(scalers) & set(own_scalers):  # a run that changed its precision has none to load
        problem = layout_problem(own_scalers[name], scalers[name], name)
        if problem:
            return "loss_scalers", problem
    problem = scheme_problem(state["scheme"])
    if problem:
        return "scheme", problem
    return _grid_misfit(state, own) or _optimizer_misfit(state, optimizers) or _sampler_misfit(state, own)


def _grid_misfit(state: dict[str, Any], own: dict[str, Any]) -> tuple[str, str] | None:
    z, y, k = state["grid_z"], state["grid_y"], own["num_classes"]
    if z.shape != own["grid_z"].shape or z.dtype != own["grid_z"].dtype:
        return "grid_z", f"is {_show(z)}; this run needs {_show(own['grid_z'])}"
    if (y is None) != (k == 0) or (y is not None and (len(y) != len(z) or y.min() < 0 or y.max() >= k)):
        return "grid_y", f"must be {len(z)} class labels in 0..{k - 1}" if k else "must be null (no classes)"
    own_cuda = own["rng"].get("cuda")  # a run on a CUDA device saves its generator's state
    cuda = state["rng"].get("cuda") if own_cuda is not None else None
    if cuda is not None and (not isinstance(cuda, Tensor) or cuda.numel() != own_cuda.numel()):
        return "rng", "'cuda' is not a CUDA generator state"
    return None


def _optimizer_misfit(state: dict[str, Any], optimizers: Mapping[str, torch.optim.Optimizer]) -> tuple[str, str] | None:
    for player, optimizer in optimizers.items():
        key = OPTIMIZER_STATES[player]
        problem = optimizer_problem(optimizer, state[key])
        if problem:
            return key, problem
    return None


def _sampler_misfit(state: dict[str, Any], own: dict[str, Any]) -> tuple[str, str] | None:
    sampler, n = state["sampler"], own["sampler"]["perm"].numel()  # the run's data order: one epoch of its data
    perm = sampler["perm"]
    if perm.numel() != n:
        return "sampler", f"was trained on {perm.numel()} examples, but the data set now has {n}; use the same data"
    if n and (perm.min() < 0 or perm.max() >= n or sampler["position"] > n):
        return "sampler", "holds indices or a position outside the data set"
    return None
