import pytest
import torch

from gankit.training.diagnostics import saturated_fraction, saturation_warning
from gankit.training.trainer import train
from tests.helpers import tiny


def test_saturated_fraction_counts_values_at_tanhs_limits():
    x = torch.tensor([-1.0, -0.995, 0.0, 0.5, 0.999, 1.0])
    assert saturated_fraction(x) == pytest.approx(4 / 6)


def test_a_saturated_g_is_warned_of_unless_the_real_images_are_saturated_too():
    two_values = torch.ones(16, 1, 8, 8).neg_()
    two_values[:, :, :4] = 1
    message = saturation_warning(two_values, real_fraction=0.83, step=40)
    assert message.startswith("warning: step 40: G's samples are saturated: 100.0% of their values at ±1")
    assert "(real images: 83.0%) and all samples alike" in message and "lower the learning rates" in message
    assert saturation_warning(two_values, real_fraction=0.97, step=40) is None  # binary data: G is right
    assert saturation_warning(torch.rand(16, 1, 8, 8) * 2 - 1, real_fraction=0.83, step=40) is None


def test_a_far_too_large_learning_rate_is_logged_as_a_saturated_g(tmp_path, capsys):
    cfg = tiny("hinge", **{"g_optim.lr": 1e6, "d_optim.lr": 1e6, "train.steps": 6, "train.sample_at": (0, 3)})
    train(cfg, tmp_path / "run", echo=True)
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "warning: step 3: G's samples are saturated" in log and "warning: step 6: G's samples" in log
    assert "warning: step 0" not in log


def test_a_normal_run_gets_no_saturation_warning(tmp_path):
    train(tiny("lsgan", **{"train.steps": 6, "train.sample_at": (0, 3)}), tmp_path / "run", echo=False)
    assert "saturated" not in (tmp_path / "run" / "log.txt").read_text()
