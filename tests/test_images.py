import io

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.images import make_grid, pil_image, png_bytes, save_grid, scatter_png
from gankit.viz.animate import as_image


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


def test_one_channel_images_become_grey_in_pngs_and_animation_frames_alike():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4, 1)
    colour = np.zeros((3, 4, 3), np.uint8)
    colour[..., 1] = 200
    for image in (pil_image(grey), Image.open(io.BytesIO(png_bytes(grey))), as_image(grey)):
        assert image.mode == "L" and image.size == (4, 3)
        assert (np.asarray(image) == grey[..., 0]).all()
    for image in (pil_image(colour), as_image(colour)):
        assert image.mode == "RGB" and np.asarray(image)[2, 3].tolist() == [0, 200, 0]
    assert pil_image(grey[..., 0]).mode == "L"  # already (H, W): unchanged
