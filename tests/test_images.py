import numpy as np
import pytest
import torch
from PIL import Image

from gankit.images import make_grid, save_grid, scatter_png


def test_grid_layout_and_padding():
    imgs = torch.stack([torch.full((1, 2, 3), v, dtype=torch.uint8) for v in (10, 20, 30)])
    grid = make_grid(imgs, nrow=2, padding=1, pad_value=0)
    assert grid.shape == (1 + 2 * 3, 1 + 2 * 4)  # grey images: (H, W), as PIL takes them
    assert grid[1, 1] == 10 and grid[1, 5] == 20 and grid[4, 1] == 30 and grid[4, 5] == 0
    assert grid[0].max() == 0  # padding row


def test_grid_rejects_float_images():
    with pytest.raises(ValueError, match="uint8"):
        make_grid(torch.rand(2, 1, 4, 4))


def test_save_grid_and_scatter(tmp_path):
    path = save_grid(torch.randint(0, 255, (4, 3, 8, 8), dtype=torch.uint8), tmp_path / "g.png", scale=2)
    assert Image.open(path).mode == "RGB" and Image.open(path).size == (2 * (2 + 2 * 10), 2 * (2 + 2 * 10))
    path = scatter_png(torch.randn(100, 2), tmp_path / "s.png", reference=torch.randn(50, 2))
    pixels = np.asarray(Image.open(path))
    assert (pixels == [31, 119, 180]).all(axis=2).any() and (pixels == [180, 180, 180]).all(axis=2).any()
