import pytest
import torch

from gankit.store.resume import resume_config
from gankit.training.schemes import SCHEMES
from gankit.training.state import build_training
from gankit.training.trainer import train
from tests.helpers import tiny
from tests.training.test_trainer import _assert_same_state


@pytest.mark.slow
@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_scheme_trains_and_resumes_exactly(scheme, tmp_path):
    base = {"train.scheme": scheme, "train.n_critic": 2, "train.lookahead_k": 3, "data.limit": 64}
    straight = train(tiny("dcgan", **base, **{"train.steps": 8}), tmp_path / "a", echo=False)
    train(tiny("dcgan", **base, **{"train.steps": 4}), tmp_path / "b", echo=False)
    resumed = train(resume_config(tmp_path / "b", {"train.steps": 8}), tmp_path / "b", resume=True, echo=False)
    _assert_same_state(straight, resumed)
    for a, b in zip(
        straight.scheme.state_dict().get("slow", {}).get("generator", []),
        resumed.scheme.state_dict().get("slow", {}).get("generator", []),
        strict=True,
    ):
        assert torch.equal(a, b)
    assert resumed.images_seen == straight.images_seen


@pytest.mark.parametrize(
    "scheme,batches_per_step", [("alternating", 2), ("simultaneous", 2), ("optimistic", 2), ("extragradient", 4)]
)
def test_real_batches_per_game_step(scheme, batches_per_step):
    training = build_training(tiny("dcgan", **{"train.scheme": scheme, "train.n_critic": 2}), log=lambda _: None)
    training.train_step()
    assert training.images_seen == batches_per_step * training.cfg.train.batch_size


def test_lookahead_with_alpha_one_is_alternating():
    a = build_training(tiny("dcgan", **{"train.scheme": "alternating"}), log=lambda _: None)
    for _ in range(4):  # one run after the other: both draw from the global RNG, seeded by build_training
        a.train_step()
    b = build_training(tiny("dcgan", **{"train.scheme": "lookahead", "train.lookahead_alpha": 1.0}), log=lambda _: None)
    for _ in range(4):
        b.train_step()
    _assert_same_state(a, b)


def test_lookahead_moves_slow_weights_alpha_of_the_way():
    """After k fast steps, θ = φ₀ + α(θ_fast − φ₀), where θ_fast is what alternating steps reach."""
    k, alpha = 3, 0.5
    fast = build_training(tiny("dcgan"), log=lambda _: None)
    start = [p.detach().clone() for p in fast.gan.generator.parameters()]
    for _ in range(k):
        fast.train_step()
    look = build_training(
        tiny("dcgan", **{"train.scheme": "lookahead", "train.lookahead_k": k, "train.lookahead_alpha": alpha}),
        log=lambda _: None,
    )
    for _ in range(k):
        look.train_step()
    for p0, pf, pl in zip(start, fast.gan.generator.parameters(), look.gan.generator.parameters(), strict=True):
        torch.testing.assert_close(pl, p0 + alpha * (pf - p0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scheme", ["alternating", "optimistic", "lookahead"])
def test_g_steps_reach_every_alternating_scheme(scheme):
    cfg = tiny("dcgan", **{"train.scheme": scheme, "train.g_steps": 3, "train.g_noise": "shared"})
    training = build_training(cfg, log=lambda _: None)
    counts = {"g": 0, "z": 0}
    training.gan.g_optimizer.register_step_post_hook(lambda *_: counts.__setitem__("g", counts["g"] + 1))
    sample_z = training.sample_z
    training.sample_z = lambda *a: (counts.__setitem__("z", counts["z"] + 1), sample_z(*a))[1]
    training.train_step()
    assert counts == {"g": 3, "z": 1}  # three G updates, all on the D step's noise


@pytest.mark.parametrize("scheme,fresh,shared", [("simultaneous", 2, 1), ("extragradient", 4, 2)])
def test_shared_noise_in_the_joint_schemes(scheme, fresh, shared):
    for noise, draws in (("fresh", fresh), ("shared", shared)):
        training = build_training(tiny("dcgan", **{"train.scheme": scheme, "train.g_noise": noise}), log=lambda _: None)
        n = {"z": 0}
        sample_z = training.sample_z
        training.sample_z = lambda *a, sample_z=sample_z, n=n: (n.__setitem__("z", n["z"] + 1), sample_z(*a))[1]
        training.train_step()
        assert n["z"] == draws, noise


def test_two_generator_steps_train_and_resume_exactly(tmp_path):
    base = {"train.g_steps": 2, "train.g_noise": "shared", "data.limit": 64}
    straight = train(tiny("dcgan", **base, **{"train.steps": 6}), tmp_path / "a", echo=False)
    train(tiny("dcgan", **base, **{"train.steps": 3}), tmp_path / "b", echo=False)
    resumed = train(resume_config(tmp_path / "b", {"train.steps": 6}), tmp_path / "b", resume=True, echo=False)
    _assert_same_state(straight, resumed)
    assert straight.gan.g_optimizer.state_dict()["state"][0]["step"].item() == 12  # 6 game steps × 2 G updates
