"""Shared fixtures: isolate every test from data on this machine."""

from __future__ import annotations

import os
import tempfile

import pytest
import torch

from tests.helpers import train_once

# torch.compile's on-disk caches do not key on the kernels' instruction set: on an AMX Xeon, a run of the suite
# under ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 (CONTRIBUTING.md) loaded a graph a native run had compiled
# and cached, and crashed in it (a segfault in test_compiled_vectorised_trials_equal_the_eager_ones, torch 2.13;
# with an empty cache folder the test passes). So each ISA setting gets its own cache folder.
_ISA = "-".join(os.environ.get(name, "") for name in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA"))
if _ISA.strip("-") and "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), f"torchinductor-isa-{_ISA.lower()}")

if os.environ.get("GANKIT_TEST_DEVICE", "cpu").startswith("cuda"):
    # The bit-exact tests (resume) need kernels that give the same bits on every run: on a GPU that means
    # deterministic cuBLAS/cuDNN algorithms (some weight gradients otherwise accumulate with atomics).
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``-n auto``) the cores are shared out: each of W workers runs torch, and the runs it
    starts, on cores // W threads. W workers of the default thread count oversubscribe the cores (the full suite
    took 626 s with 2 such workers on 2 cores, 305 s with one thread each, 449 s without xdist, on 1,112 tests; the
    first two while other work shared the machine)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        threads = max(1, cores // workers)
        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules that hold slow tests run first, each module's tests in their order: pytest-xdist hands each
    worker whole modules (``--dist loadscope --no-loadscope-reorder``, pyproject.toml), so every module fixture is
    set up once, and the run ends on small modules instead of one worker finishing a long module alone."""
    heavy = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in heavy)


@pytest.fixture(scope="session", autouse=True)
def _isolated_feature_cache(tmp_path_factory):
    """Reference features are cached in a folder of this session (module fixtures too), never the user's."""
    patch = pytest.MonkeyPatch()
    patch.setenv("GANKIT_CACHE_DIR", str(tmp_path_factory.mktemp("feature-cache")))
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def _precision_probe_stand_in():
    """``train.precision=auto`` reads a stand-in for the probe (seconds a run on this CPU): bf16 twice as fast
    where the CPU has bf16 units, twice as slow elsewhere. The real probe: tests/training/test_precision_probe.py.
    Session-wide, so that the runs session and module fixtures train get it too (the real probe took 4 of an
    infogan fixture's 5 s on an AVX2 EPYC, and picked bf16 or fp32 by the machine). It stands in for the cached
    probe as a whole: the processes tests start (torchrun ranks, `gankit train`) share this session's cache folder
    and cache the real probe's timings there, which a run of this process read in place of the stand-in's when
    the same nets had run in such a process first."""
    from gankit.device import native_bf16
    from gankit.training import state
    from gankit.training.precision import Timings

    def stand_in(cfg, shape, space, device, log) -> Timings:
        return Timings(0.02, 0.01 if native_bf16(device)[0] else 0.04)

    patch = pytest.MonkeyPatch()
    patch.setattr(state, "measured_timings", stand_in)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _isolated_data_dirs(tmp_path_factory, monkeypatch):
    """No test may find MNIST files on the machine: the embedded sample or files the test makes are used."""
    monkeypatch.delenv("GANKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def cgan_run(tmp_path_factory):
    """A class-conditional DCGAN (concatenated label embedding) on the MNIST sample, 2 steps."""
    return train_once(tmp_path_factory, "cgan", "cgan", **{"train.steps": 2})


@pytest.fixture(scope="session")
def infogan_run(tmp_path_factory):
    """An InfoGAN (62 noise dims, a 10-way categorical code c1, continuous codes c2, c3) on the MNIST sample."""
    return train_once(tmp_path_factory, "infogan", "infogan", **{"train.steps": 2})


@pytest.fixture(scope="session")
def trials_run(tmp_path_factory):
    """A trials run: 2 trials (seeds 0 and 1) of a tiny nsgan on the MNIST sample, 2 steps each."""
    trials = {"train.steps": 2, "train.trials": 2, "train.trials_mode": "sequential"}
    return train_once(tmp_path_factory, "trials", "nsgan", **trials)
