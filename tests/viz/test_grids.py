import numpy as np
import torch

from gankit.run import load_generator
from gankit.viz import image_grid, scatter_array, traversal_grid
from gankit.viz.latent import latent_layout, sample_z


def test_image_grid_takes_floats_or_pixels_and_scales():
    images = torch.linspace(-1, 1, 4 * 3 * 5 * 5).view(4, 3, 5, 5)
    grid = image_grid(images, nrow=2)
    assert grid.shape == (2 + 2 * 7, 2 + 2 * 7, 3) and grid.dtype == np.uint8
    assert grid[2, 2, 0] == 0 and grid[-3, -3, 2] == 255  # first pixel −1 → 0, last +1 → 255
    assert image_grid(images, nrow=4, scale=3).shape == (3 * 9, 3 * 30, 3)


def test_traversal_grid_has_one_row_per_dimension(image_run):
    trained = load_generator(image_run)
    layout = latent_layout(trained)
    grid = traversal_grid(trained, layout, sample_z(layout, 1, 0)[0], dims=[0, 5, 7], steps=4)
    assert grid.shape == (2 + 3 * 30, 2 + 4 * 30, 1)
    rows = [grid[2 + 30 * r : 30 + 30 * r] for r in range(3)]
    assert not np.array_equal(rows[0], rows[1])


def test_scatter_array_draws_points():
    img = scatter_array(torch.zeros(10, 2), reference=torch.ones(10, 2), size=64)
    assert img.shape == (64, 64, 3) and (img != 255).any()
