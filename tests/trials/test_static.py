"""Static steps (``gankit.trials.static``): each step's random inputs drawn ahead into static tensors, then the step's
arithmetic on them, as a CUDA graph replays it. The arithmetic is the eager vectorised step's on the same values, so
N trials stepped static equal N trials stepped eager bit for bit: losses, weights, buffers, optimiser states, RNG
states and data order."""

from __future__ import annotations

import pytest
import torch

from gankit.trials.static import StaticTrials, build_static, static_refusal
from gankit.trials.vectorised import VectorisedTrials, build_vectorised
from tests.trials.test_vectorised import quiet, seeded, trial_config

STEPS = 3  # the first records the plan (eager); the others are static
TRIALS = 2
CASES = {
    # alternating: conv nets with batch norm and max pooling, one D step
    "lsgan": ("lsgan", {}),
    # the penalty's ε (drawn from each trial's RNG after its noise) and two D steps per game step
    "wgan-gp, 2 D steps": ("wgan-gp", {"train.n_critic": 2}),
    # weight clipping with RMSprop, three D steps
    "wgan, 3 D steps": ("wgan", {"train.n_critic": 3}),
    # simultaneous: one D step, then the joint step; G on D's noise (no draw of its own); EMA
    "pacgan-2d, 2 D steps, shared noise, EMA": (
        "pacgan-2d",
        {"train.n_critic": 2, "train.g_noise": "shared", "train.ema": 0.9},
    ),
}


def run(trials: VectorisedTrials, steps: int = STEPS) -> list[dict[str, torch.Tensor]]:
    """``steps`` steps of ``trials``: each step's statistics (stacked over the trials)."""
    steps_stats = [trials.step() for _ in range(steps)]
    return [{name: torch.stack([s[name] for s in step]) for name in step[0]} for step in steps_stats]


def gaps(a: VectorisedTrials, b: VectorisedTrials, la: list, lb: list) -> dict[str, float]:
    """The largest absolute difference of each kind between two sets of trials after their steps."""
    out = {
        "losses": max((la_s[n] - lb_s[n]).abs().max().item() for la_s, lb_s in zip(la, lb, strict=True) for n in la_s)
    }
    out["weights"] = max((a.params[n] - b.params[n]).abs().max().item() for n in a.params)
    out["buffers"] = max(
        (a.buffers[n] - b.buffers[n]).abs().max().item() for n in a.buffers if a.buffers[n].is_floating_point()
    )
    return out


def configs(recipe: str, **overrides) -> list:
    return seeded(trial_config(recipe, **overrides))[:TRIALS]


@pytest.mark.parametrize("case", list(CASES))
def test_static_steps_equal_the_eager_vectorised_steps(case):
    recipe, overrides = CASES[case]
    cfgs = configs(recipe, **overrides)
    assert static_refusal(cfgs[0]) is None
    eager, static = build_vectorised(cfgs, quiet), build_static(cfgs, quiet)
    before = {n: p.detach().clone() for n, p in static.params.items()}
    la, lb = run(eager), run(static)
    assert static.plan and len(static.static) == len(static.plan)  # the plan was recorded, its inputs held
    assert la[0].keys() == lb[0].keys()
    for step_a, step_b in zip(la, lb, strict=True):
        assert all(torch.equal(step_a[n], step_b[n]) for n in step_a), (step_a, step_b)
    for n in eager.params:
        assert torch.equal(eager.params[n], static.params[n]), n
        assert torch.equal(eager.params[n].grad, static.params[n].grad), n
    assert all(torch.equal(eager.buffers[n], static.buffers[n]) for n in eager.buffers)
    moved = max((static.params[n] - before[n]).abs().max().item() for n in before)
    assert 1e-6 < moved < 10  # the trials trained (WGAN: the first clip moves weights the most)
    for side, opt in eager.optimizers.items():
        theirs = static.optimizers[side]
        for p, q in zip(opt.param_groups[0]["params"], theirs.param_groups[0]["params"], strict=True):
            assert all(torch.equal(v, theirs.state[q][key]) for key, v in opt.state[p].items()), side
    for k in range(TRIALS):  # the same random streams and data order, drawn as far
        assert torch.equal(eager.rng_states[k].cpu, static.rng_states[k].cpu)
        sa, sb = eager.trainings[k].sampler, static.trainings[k].sampler
        assert (sa.epoch, sa.position) == (sb.epoch, sb.position) and torch.equal(sa.perm, sb.perm)
    assert eager.trainings[0].step == static.trainings[0].step == STEPS


def test_the_plan_is_the_schemes_order_of_draws():
    """wgan-gp with 2 D steps draws, per game step: a real batch, noise, ε for each D step, then G's noise."""
    static = build_static(configs("wgan-gp", **{"train.n_critic": 2}), quiet)
    static.step()
    assert [kind for kind, _ in static.plan] == ["real", "noise", "eps", "real", "noise", "eps", "noise"]
    eps = static.static[2]
    assert eps.shape[:2] == (TRIALS, 16) and eps.shape[2:] == (1, 1, 1)  # (N, B, 1, 1, 1), one ε per sample


def test_inputs_drawn_in_another_order_break_the_comparison(monkeypatch):
    """Each trial's noise and ε come from its one RNG stream: drawing ε before the noise of its D step (the static
    tensors still filled slot by slot) gives each other values, and the trials no longer equal the eager ones."""

    def eps_first(self: StaticTrials) -> list:
        order = list(range(len(self.plan)))
        for i, (kind, _) in enumerate(self.plan):
            if kind == "eps":
                order[i - 1], order[i] = order[i], order[i - 1]  # the ε before the noise just ahead of it
        drawn = {i: self._draw(*self.plan[i]) for i in order}
        return [drawn[i] for i in range(len(self.plan))]

    cfgs = configs("wgan-gp", **{"train.n_critic": 2})
    eager, static = build_vectorised(cfgs, quiet), build_static(cfgs, quiet)
    la, lb = run(eager, 2), run(static, 1)
    monkeypatch.setattr(StaticTrials, "draw", eps_first)
    lb += run(static, 1)
    assert all(torch.equal(la[0][n], lb[0][n]) for n in la[0])  # the recorded (eager) step is unaffected
    found = gaps(eager, static, la, lb)
    assert found["losses"] > 1e-3 and found["weights"] > 1e-6, found


def test_after_a_dropped_trial_the_plan_is_recorded_again_and_the_others_stay_exact():
    """A drop restacks the trials (N − 1 on every axis): the next step records a new plan and fresh static tensors,
    and the trials left go on equal to eager vectorised trials that dropped the same one."""
    cfgs = seeded(trial_config("pacgan-2d"))
    eager, static = build_vectorised(cfgs, quiet), build_static(cfgs, quiet)
    run(eager, 2), run(static, 2)
    held = static.static[0].x.shape[0]
    eager.drop(1), static.drop(1)
    assert static.plan is None and static.trials == [0, 2]
    la, lb = run(eager, 2), run(static, 2)
    assert held == 3 and static.static[0].x.shape[0] == 2
    assert all(torch.equal(a[n], b[n]) for a, b in zip(la, lb, strict=True) for n in a)
    assert all(torch.equal(eager.params[n], static.params[n]) for n in eager.params)


def test_what_is_not_covered_is_refused_with_the_reason():
    for scheme in ("optimistic", "lookahead", "extragradient"):
        cfg = trial_config("pacgan-2d", **{"train.scheme": scheme})
        assert f"scheme {scheme}: its step keeps state" in static_refusal(cfg)
        with pytest.raises(ValueError, match=f"cannot take static steps: scheme {scheme}"):
            build_static(configs("pacgan-2d", **{"train.scheme": scheme}), quiet)
    assert "precision bf16" in static_refusal(trial_config("dcgan", **{"train.precision": "bf16"}))
    assert static_refusal(trial_config("dcgan", **{"train.scheme": "simultaneous"})) is None
