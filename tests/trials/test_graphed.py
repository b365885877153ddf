"""Trials replayed from a CUDA graph (``gankit.trials.graphed``, ``train.trials_mode=graphed``).

On a GPU (``GANKIT_TEST_DEVICE=cuda``, benchmarks/gpu_checks.sh): N trials whose step is captured once and replayed
equal N trials stepped eager and vectorised, step by step. The replayed kernels are the eager ones on the same
values, and the capturable optimisers do the arithmetic of the eager ones (fused Adam takes its step count on the
GPU either way), so with deterministic kernels the two agree exactly. The tolerances leave room for kernels that
round differently from run to run, as tests/trials/test_vectorised.py does for its own rounding: a loss within
:data:`LOSSES`, each player's weights within :data:`WEIGHTS` of its update (Adam's step is ~lr·sign(g), so a
parameter whose true gradient is 0 moves by rounding noise's sign), batch-norm statistics and the EMA within
:data:`WEIGHTS` of their size. A stale input gives far more (``test_the_comparison_catches_stale_inputs``).
Unmeasured until a GPU is lent: the gaps found are printed (``graphed RECIPE: …``; gpu_checks.sh shows them).

On a CPU: the GPU tests are skipped (no CUDA), and the mode is refused with the reason before anything is written.
"""

from __future__ import annotations

import re

import pytest
import torch

from gankit.cli import main
from gankit.errors import ConfigError
from gankit.store.checkpoint import list_checkpoints
from gankit.store.layout import RunPaths
from gankit.store.state_schema import read_state
from gankit.trials.graphed import WARMUP_STEPS, GraphedTrials, build_graphed, graphed_refusal
from gankit.trials.mode import check_mode, choose_mode
from gankit.trials.runner import train_trials
from gankit.trials.vectorised import VectorisedTrials, build_vectorised
from tests.commands.helpers import error_line
from tests.helpers import tiny
from tests.trials import test_vectorised
from tests.trials.test_static import configs, run
from tests.trials.test_vectorised import quiet

NO_CUDA = (
    "no CUDA GPU: CUDA graphs are captured and replayed on one (GANKIT_TEST_DEVICE=cuda, benchmarks/gpu_checks.sh)"
)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
STEPS = WARMUP_STEPS + 4  # eager warm-up steps, the step captured (and replayed at once), three more replays
LOSSES = 1e-4  # |loss_graphed − loss_eager| / (1 + |loss_eager|), every step
# after STEPS: ‖w_graphed − w_eager‖ / ‖w_eager − w_start‖ over each player's weights; ‖b_graphed − b_eager‖ / ‖b_eager‖
# for each batch-norm statistic and the EMA's weights
WEIGHTS = test_vectorised.WEIGHTS


def relative(a: list[torch.Tensor], b: list[torch.Tensor], scale: list[torch.Tensor]) -> float:
    """‖a − b‖ / ‖scale‖ over the tensors together (float64)."""
    norm = lambda ts: sum(t.detach().double().norm().item() ** 2 for t in ts) ** 0.5  # noqa: E731
    return norm([x.detach() - y.detach() for x, y in zip(a, b, strict=True)]) / max(norm(scale), 1e-30)


def gaps(eager: VectorisedTrials, graphed: VectorisedTrials, before: dict[str, torch.Tensor]) -> dict[str, float]:
    """Each player's weights relative to its update; each float buffer and EMA tensor relative to its size."""
    out = {}
    for player in sorted({n.split(".", 1)[0] for n in eager.params}):
        names = [n for n in eager.params if n.startswith(f"{player}.")]
        moved = [eager.params[n].detach() - before[n] for n in names]
        out[player] = relative([eager.params[n] for n in names], [graphed.params[n] for n in names], moved)
    for n, b in eager.buffers.items():
        if b.is_floating_point():
            out[n] = relative([b], [graphed.buffers[n]], [b])
    if eager.ema is not None:
        out |= {f"ema.{n}": relative([v], [graphed.ema.values[n]], [v]) for n, v in eager.ema.values.items()}
    return out


@needs_cuda
@pytest.mark.parametrize(
    "recipe, overrides",
    [
        ("lsgan", {}),  # alternating, conv nets with batch norm
        ("wgan-gp", {"train.n_critic": 2}),  # the penalty (double backward in the graph), two D steps
        ("pacgan-2d", {"train.ema": 0.9}),  # simultaneous, maxout D on packs; the EMA outside the graph
        ("wgan", {"train.n_critic": 2}),  # RMSprop and weight clipping
    ],
)
def test_replayed_steps_equal_the_eager_vectorised_steps(recipe, overrides):
    cfgs = configs(recipe, **overrides | {"train.device": "cuda"})
    eager, graphed = build_vectorised(cfgs, quiet), build_graphed(cfgs, quiet)
    before = {n: p.detach().clone() for n, p in graphed.params.items()}
    la, lb = run(eager, STEPS), run(graphed, STEPS)
    torch.cuda.synchronize()
    assert graphed.graph is not None  # the last four steps were replays
    losses = [((a[n] - b[n]).abs() / (1 + a[n].abs())).max().item() for a, b in zip(la, lb, strict=True) for n in a]
    found = gaps(eager, graphed, before)
    worst = max(found, key=found.get)
    print(
        f"graphed {recipe}: losses {max(losses):.1e}, weights {worst} {found[worst]:.1e}; at most {LOSSES}, {WEIGHTS}"
    )
    assert max(losses) <= LOSSES and found[worst] <= WEIGHTS, (max(losses), worst, found[worst])
    moved = max((graphed.params[n].detach() - before[n]).abs().max().item() for n in before)
    assert 1e-7 < moved < 10  # the trials trained (the largest change of a weight over the steps)


@needs_cuda
def test_the_comparison_catches_stale_inputs(monkeypatch):
    """Replays that read the inputs captured with the graph instead of each step's fresh draws (the inputs drawn but
    never copied into the static tensors) train on the same batch and noise every step: off by far more than
    :data:`LOSSES`."""
    cfgs = configs("wgan-gp", **{"train.device": "cuda"})
    eager, graphed = build_vectorised(cfgs, quiet), build_graphed(cfgs, quiet)
    monkeypatch.setattr(GraphedTrials, "load", lambda self, drawn: None)
    la, lb = run(eager, STEPS), run(graphed, STEPS)
    late = [
        ((a[n] - b[n]).abs() / (1 + a[n].abs())).max().item() for a, b in zip(la[1:], lb[1:], strict=True) for n in a
    ]
    assert max(late) > 1e-3, late


@needs_cuda
def test_a_graphed_trials_run_writes_what_the_vectorised_run_writes(tmp_path):
    """Through the runner: 8 steps (3 warm-up, 5 replayed), a log record every 2 steps (each brings the Trainings up
    to date) and a checkpoint at the end; each trial's final weights are the vectorised run's."""
    states = {}
    for mode in ("vectorised", "graphed"):
        cfg = tiny(
            "wgan-gp",
            **{
                "train.trials": 2,
                "train.trials_mode": mode,
                "train.steps": 8,
                "train.precision": "fp32",
                "train.compile": "off",
                "train.device": "cuda",
            },
        )
        train_trials(cfg, tmp_path / mode, echo=False)
        states[mode] = [
            read_state(list_checkpoints(RunPaths(RunPaths(tmp_path / mode).trial(k)).checkpoints)[-1]) for k in range(2)
        ]
    for ours, theirs in zip(states["graphed"], states["vectorised"], strict=True):
        assert ours["step"] == theirs["step"] == 8
        for player in ("generator", "discriminator"):
            names = [n for n, v in theirs[player].items() if v.is_floating_point()]
            gap = relative(
                [theirs[player][n] for n in names], [ours[player][n] for n in names], [theirs[player][n] for n in names]
            )
            assert gap <= LOSSES, (player, gap)  # the weights, relative to their size: a few steps' rounding at most


def test_graphed_trials_are_refused_off_cuda_before_anything_is_written(tmp_path, capsys):
    cfg = tiny("pacgan-2d", **{"train.trials": 2, "train.trials_mode": "graphed", "train.device": "cpu"})
    assert graphed_refusal(cfg) == "CUDA graphs need a CUDA GPU, and this run's device is cpu"
    expected = (
        "train.trials_mode=graphed: CUDA graphs need a CUDA GPU, and this run's device is cpu; "
        "use train.trials_mode=vectorised, sequential or auto"
    )
    with pytest.raises(ConfigError, match=re.escape(expected)):
        check_mode(cfg)
    with pytest.raises(ConfigError, match=re.escape(expected)):
        choose_mode(cfg, [0], quiet)  # one trial left to train: still refused, not quietly trained alone
    with pytest.raises(ValueError, match="cannot be replayed from a CUDA graph: CUDA graphs need a CUDA GPU"):
        build_graphed(configs("pacgan-2d", **{"train.device": "cpu"}), quiet)
    run_dir = tmp_path / "run"
    args = ["train", "--recipe", "pacgan-2d", "--trials", "2", "--steps", "1", "--run-dir", str(run_dir)]
    assert main([*args, "--set", "train.trials_mode=graphed", "--set", "train.device=cpu"]) == 2
    assert expected in error_line(capsys) and not run_dir.exists()
    check_mode(cfg.override({"train.trials_mode": "vectorised"}))  # the other modes are settled later, as before


def test_graphed_trials_say_which_schemes_they_cover(monkeypatch):
    """On a GPU the scheme is checked as for static steps (monkeypatched device: this runs anywhere)."""
    monkeypatch.setattr("gankit.trials.graphed.resolve_device", lambda name: torch.device("cuda"))
    cfg = tiny("pacgan-2d", **{"train.scheme": "optimistic", "train.precision": "fp32", "train.compile": "off"})
    assert graphed_refusal(cfg).startswith("scheme optimistic: its step keeps state between steps")
    assert graphed_refusal(cfg.override({"train.scheme": "simultaneous"})) is None
