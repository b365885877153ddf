import math

import torch

from gankit.theory.mode_collapse import mode_collapse_demo, modes_covered


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
