"""Helpers shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gankit import get_recipe, train


def tiny(recipe: str = "lsgan", **overrides):
    """A few-second version of a recipe on the embedded MNIST sample (small nets, batches and data).

    On the CPU unless ``GANKIT_TEST_DEVICE`` names another device: ``GANKIT_TEST_DEVICE=cuda pytest
    tests/training`` runs the step, engine and precision tests on a GPU (benchmarks/gpu_checks.sh).
    """
    cfg = get_recipe(recipe)
    small = {
        "train.steps": 4,
        "train.batch_size": 16,
        "train.log_every": 2,
        "train.sample_at": (0,),
        "train.checkpoint_every": 0,
        "train.progress": False,
        "train.device": os.environ.get("GANKIT_TEST_DEVICE", "cpu"),
        "train.grid_size": 16,
        "data.limit": 256,
    }
    small |= {"model.g_width": 8, "model.d_width": 8}  # mnist-conv, infogan: G's FC 128, D's features 128
    if cfg.model.arch == "mlp":
        small |= {"model.g_width": 32, "model.d_width": 32}
    return cfg.override(small | overrides)


def slow_unless(values: list, fast: list) -> list:
    """Parameters for ``pytest.mark.parametrize``, each marked slow unless it is one of ``fast``: the fast lane
    (``pytest -m "not slow"``) keeps these representatives, the full lane runs every case."""
    slow = pytest.mark.slow
    return [v if v in fast else pytest.param(*(v if isinstance(v, tuple) else (v,)), marks=slow) for v in values]


def train_once(tmp_path_factory, name: str, recipe: str = "nsgan", **overrides):
    """Train ``tiny(recipe, **overrides)`` (a run, or a trials run) into a fresh folder (for session fixtures), away
    from this machine's data."""
    with pytest.MonkeyPatch.context() as mp:  # no data from this machine, as in tests/conftest.py
        mp.delenv("GANKIT_DATA_DIR", raising=False)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        run = tmp_path_factory.mktemp(name) / "run"
        cfg = tiny(recipe, **overrides)
        if cfg.has_trials:
            from gankit.trials.runner import train_trials

            train_trials(cfg, run, echo=False)
        else:
            train(cfg, run, echo=False)
    return run


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes): compare two to see that nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def rewrite_checkpoint(folder: Path, tensors=None, state=None) -> None:
    """Damage the checkpoint ``folder`` in a way its checksum cannot tell: ``tensors`` edits its name → tensor map
    in place (e.g. a NaN weight), ``state`` its state.json tree; the tensors file and its sha256 are written again."""
    import hashlib
    import json

    from safetensors.torch import load_file, save_file

    folder = Path(folder)
    meta = json.loads((folder / "state.json").read_text())
    if tensors is not None:
        found = load_file(str(folder / "tensors.safetensors"))
        tensors(found)
        save_file(found, str(folder / "tensors.safetensors"))
        meta["sha256"] = hashlib.sha256((folder / "tensors.safetensors").read_bytes()).hexdigest()
    if state is not None:
        state(meta["state"])
    (folder / "state.json").write_text(json.dumps(meta))
