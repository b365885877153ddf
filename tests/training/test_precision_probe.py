"""The precision probe (``gankit.training.precision_probe``): cached per machine and nets, and the real thing."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.latent import latent_space
from gankit.training import precision_probe
from gankit.training.precision import Timings
from gankit.training.precision_probe import measure_precisions, measured_timings
from gankit.training.state import build_training
from tests.helpers import tiny

CPU = torch.device("cpu")
SHAPE = (1, 28, 28)


def _measured(calls: list):
    def measure(cfg, shape, space, device) -> Timings:
        calls.append(cfg.recipe)
        return Timings(0.01, 0.2)

    return measure


def _timings(cfg, calls, shape=SHAPE) -> Timings:
    return measured_timings(cfg, shape, latent_space(cfg.model, 10), CPU, lambda _: None, _measured(calls))


def test_the_probe_is_cached_per_nets_and_machine_not_per_learning_rate_or_seed(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_CACHE_DIR", str(tmp_path))
    calls = []
    first = _timings(tiny("lsgan"), calls)
    assert (first.fp32_s, first.bf16_s, first.cached) == (0.01, 0.2, False) and calls == ["lsgan"]
    again = _timings(tiny("lsgan", **{"g_optim.lr": 1e-5, "train.seed": 7, "train.steps": 99}), calls)
    assert again == Timings(0.01, 0.2, cached=True) and calls == ["lsgan"]
    entry = next(iter(json.loads((tmp_path / "precision-probes.json").read_text()).values()))
    assert entry == {"fp32_s": 0.01, "bf16_s": 0.2, "recipe": "lsgan"}
    _timings(tiny("lsgan", **{"train.batch_size": 8}), calls)  # the probe's batch
    _timings(tiny("lsgan", **{"model.latent_dim": 10}), calls)  # the nets
    _timings(tiny("lsgan"), calls, shape=(3, 32, 32))  # the data's shape
    assert len(calls) == 4
    monkeypatch.setattr(precision_probe, "describe_machine", lambda device: "another CPU (AVX512), torch 9")
    _timings(tiny("lsgan"), calls)  # another machine (CPU model, instruction set, threads, torch version)
    assert len(calls) == 5


def test_a_damaged_precision_cache_counts_as_empty(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_CACHE_DIR", str(tmp_path))
    (tmp_path / "precision-probes.json").write_text('{"k": {"fp32_s": -1.0, "bf16_s": "fast"}')
    calls = []
    assert _timings(tiny("lsgan"), calls).cached is False and calls == ["lsgan"]


def test_a_forced_slow_bf16_warns_in_the_run_log_and_auto_logs_both_timings(monkeypatch):
    monkeypatch.setattr(precision_probe, "measure_precisions", lambda *a: pytest.fail("the test's probe is faked"))
    monkeypatch.setattr("gankit.training.state.measured_timings", lambda *a: Timings(0.02, 0.42))
    lines = []
    build_training(tiny("dcgan", **{"train.precision": "bf16", "train.compile": "off"}), log=lines.append)
    warning = "warning: train.precision=bf16 measured 21.0× slower than fp32 on this machine (420 vs 20 ms a step"
    assert sum(line.startswith(warning) for line in lines) == 1
    lines.clear()
    training = build_training(tiny("dcgan", **{"train.compile": "off"}), log=lines.append)
    engine = next(line for line in lines if line.startswith("engine:"))
    assert training.engine.precision.name == "fp32" and not any(line.startswith("warning") for line in lines)
    assert "precision fp32 (auto: a step of these nets took 20.0 ms in fp32 and 420.0 ms in bf16 (21.00×)" in engine


@pytest.mark.slow
def test_the_real_probe_times_both_precisions_and_leaves_the_rng_as_it_was():
    cfg = tiny("dcgan")
    before = torch.get_rng_state()
    timings = measure_precisions(cfg, SHAPE, latent_space(cfg.model, 10), CPU)
    assert torch.equal(torch.get_rng_state(), before)
    assert 0 < timings.fp32_s < 10 and 0 < timings.bf16_s < 60 and not timings.cached


def test_the_runs_of_session_fixtures_read_the_probe_stand_in(infogan_run):
    """Session fixtures are set up before any function fixture: the stand-in (tests/conftest.py) is session-wide, so
    their runs skip the real probe (4 s of an InfoGAN fixture's 5 s on an AVX2 EPYC) and pick their precision from
    the stand-in's timings on every machine."""
    assert "a step of these nets took 20.0 ms in fp32" in (infogan_run / "log.txt").read_text()
