import math

import pytest
import torch

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.data.toy import grid25_modes, ring8_modes
from gankit.errors import DataError

N = 20_000


def load(name, **kw):
    return load_data(DataConfig(name=name, toy_points=N, **kw), log=lambda _: None)


def test_mode_centres():
    ring = ring8_modes()
    assert ring.sigma == 0.01 and ring.num_modes == 8
    torch.testing.assert_close(ring.centers.norm(dim=1), torch.ones(8))
    s = math.sqrt(0.5)
    torch.testing.assert_close(ring.centers[:3], torch.tensor([[1.0, 0.0], [s, s], [0.0, 1.0]]))
    grid = grid25_modes()
    assert grid.sigma == 0.05 and grid.num_modes == 25
    axis = (-4, -2, 0, 2, 4)
    assert {tuple(c) for c in grid.centers.tolist()} == {(a, b) for a in axis for b in axis}


@pytest.mark.parametrize(("name", "modes"), [("ring8", ring8_modes), ("grid25", grid25_modes)])
def test_points_sit_on_their_modes(name, modes):
    data, m = load(name), modes()
    assert data.x.shape == (N, 2) and data.x.dtype == torch.float32 and data.y.dtype == torch.int64
    assert data.num_classes == m.num_modes and not data.is_image and data.name == name
    offsets = data.x - m.centers[data.y]
    assert offsets.norm(dim=1).max() < 6 * m.sigma  # P(r > 6σ) = e^-18 per point
    assert offsets.std(dim=0).sub(m.sigma).abs().max() < 0.03 * m.sigma
    assert offsets.mean(dim=0).abs().max() < 0.05 * m.sigma
    nearest = torch.cdist(data.x, m.centers).argmin(dim=1)
    assert torch.equal(nearest, data.y)
    counts = torch.bincount(data.y, minlength=m.num_modes).float()
    expected = N / m.num_modes
    assert counts.min() > 0.85 * expected and counts.max() < 1.15 * expected  # every mode present, ~uniform


def test_deterministic_and_test_split_is_another_draw():
    a, b = load("grid25"), load("grid25")
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    test = load("grid25", split="test")
    assert test.x.shape == (N, 2) and not torch.equal(test.x, a.x)
    assert "seed 0" in a.source and "seed 1" in test.source


def test_limit_keeps_the_first_points():
    full, few = load("ring8"), load("ring8", limit=100)
    assert torch.equal(few.x, full.x[:100]) and torch.equal(few.y, full.y[:100])


def test_image_options_are_rejected():
    with pytest.raises(DataError, match="image_size"):
        load("ring8", image_size=32)
    with pytest.raises(DataError, match="2-D points"):
        load("grid25", channels=3)
