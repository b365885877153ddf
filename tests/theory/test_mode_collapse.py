import math

import torch

from gankit.theory.mode_collapse import mode_collapse_demo, modes_covered, snapshot, snapshot_inputs
from gankit.training.state import build_training
from tests.helpers import tiny


def test_modes_covered_counts_samples_within_3_sigma():
    angles = torch.tensor([0.0, 1.0, 2.0]) * (2 * math.pi / 8)
    on_modes = torch.stack([angles.cos(), angles.sin()], 1)
    assert modes_covered(on_modes) == 3
    assert modes_covered(on_modes + torch.tensor([0.029, 0.0])) == 3  # within 3σ = 0.03
    assert modes_covered(on_modes + torch.tensor([0.031, 0.0])) == 0
    assert modes_covered(on_modes + 0.025) == 0  # 0.025·√2 = 0.035 > 3σ
    assert modes_covered(torch.zeros(10, 2)) == 0


def test_demo_runs_with_any_scheme(tmp_path):
    out = mode_collapse_demo(tmp_path, scheme="extragradient", steps=4, snapshots=2)
    assert set(out["modes_covered_by_step"]) == {0, 4}
    assert (tmp_path / "mode_collapse_extragradient.png").is_file()


def tiny_ring_training():
    """A tiny nsgan on ring8; building it seeds the global RNG with the run's seed, as training does."""
    return build_training(tiny("nsgan", **{"data.name": "ring8", "model.latent_dim": 2}), log=lambda _: None)


def test_a_snapshot_is_the_same_however_the_global_rng_moved():
    training = tiny_ring_training()
    training.train_step()
    torch.manual_seed(1)
    first = snapshot(training, snapshot_inputs(training, seed=0))
    torch.manual_seed(2)
    torch.rand(1000)
    second = snapshot(training, snapshot_inputs(training, seed=0))
    assert first.shape == (2500, 2) and torch.equal(first, second)
    assert modes_covered(first) == modes_covered(second)
    assert not torch.equal(first, snapshot(training, snapshot_inputs(training, seed=1)))  # the seed is used


def test_a_snapshot_leaves_the_training_that_follows_unchanged():
    """The demo scores G between training steps: its draws must not shift the noise that training draws."""
    weights = []
    for take_snapshot in (True, False):
        training = tiny_ring_training()
        training.train_step()
        if take_snapshot:
            snapshot(training, snapshot_inputs(training, seed=0))
        training.train_step()
        weights.append([p.detach().clone() for p in training.gan.generator.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*weights, strict=True))
