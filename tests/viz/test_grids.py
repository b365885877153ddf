import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gankit.trained import load_generator
from gankit.viz import image_grid, scatter_array, traversal_grid
from gankit.viz.grids import category_grid, class_grid, code_traversal_grid, figure_grid, grid_kinds
from gankit.viz.latent import LatentInputError, latent_layout, sample_z


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
    assert grid.shape == (2 + 3 * 30, 2 + 4 * 30)
    rows = [grid[2 + 30 * r : 30 + 30 * r] for r in range(3)]
    assert not np.array_equal(rows[0], rows[1])


def test_scatter_array_draws_points():
    img = scatter_array(torch.zeros(10, 2), reference=torch.ones(10, 2), size=64)
    assert img.shape == (64, 64, 3) and (img != 255).any()


def _cell(grid: np.ndarray, row: int, col: int, size: int = 28) -> np.ndarray:
    top, left = 2 + row * (size + 2), 2 + col * (size + 2)
    return grid[top : top + size, left : left + size]


def test_class_grid_of_a_cgan_has_one_row_per_class(cgan_run):
    trained = load_generator(cgan_run)
    layout = latent_layout(trained)
    grid = class_grid(trained, layout, sample_z(layout, 5, seed=0))
    assert grid.shape == (2 + 10 * 30, 2 + 5 * 30)
    assert not np.array_equal(_cell(grid, 0, 0), _cell(grid, 1, 0))  # another class, same z
    assert not np.array_equal(_cell(grid, 0, 0), _cell(grid, 0, 1))  # another z, same class
    picked = class_grid(trained, layout, sample_z(layout, 5, seed=0), classes=[7, 0])
    assert np.array_equal(_cell(picked, 0, 3), _cell(grid, 7, 3)) and np.array_equal(
        _cell(picked, 1, 3), _cell(grid, 0, 3)
    )


def test_code_traversal_of_an_infogan_has_one_row_per_category(infogan_run):
    trained = load_generator(infogan_run)
    layout = latent_layout(trained)
    grid = code_traversal_grid(trained, layout, sample_z(layout, 1, seed=0)[0], "c2", steps=7)
    assert grid.shape == (2 + 10 * 30, 2 + 7 * 30)
    assert not np.array_equal(_cell(grid, 0, 3), _cell(grid, 1, 3))  # another category
    assert not np.array_equal(_cell(grid, 0, 0), _cell(grid, 0, 6))  # c2 = −2 against c2 = +2
    assert category_grid(trained, layout, sample_z(layout, 4, seed=0)).shape == (2 + 10 * 30, 2 + 4 * 30)


class CodeProbe(nn.Module):
    """A stand-in InfoGAN G that records its input z and draws flat images of brightness
    (category − 4.5)/10 + c2/10 + c3/40 (codes decoded from z by the run's latent space)."""

    def __init__(self, space):
        super().__init__()
        self.space, self.seen = space, []
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, z):
        self.seen.append(z)
        codes = self.space.codes(z)
        value = (codes.category - 4.5) / 10 + codes.continuous[:, 0] / 10 + codes.continuous[:, 1] / 40
        return value.view(-1, 1, 1, 1).expand(len(z), 1, 28, 28)


def test_code_traversal_sweeps_one_code_over_minus_2_to_2_with_z_and_the_other_code_fixed(infogan_run):
    trained = load_generator(infogan_run)
    layout = latent_layout(trained)
    trained.generator = probe = CodeProbe(trained.space)
    z = sample_z(layout, 1, seed=3)[0]
    grid = code_traversal_grid(trained, layout, z, "c2", steps=5, categories=[2, 0, 9])
    seen = torch.cat(probe.seen)
    assert torch.equal(seen[:, :62], z.expand(15, -1))  # the same noise in every image
    codes = trained.space.codes(seen)
    assert codes.category.tolist() == [2] * 5 + [0] * 5 + [9] * 5
    assert codes.continuous[:5, 0].tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0] and codes.continuous[:, 1].abs().max() == 0
    brightness = np.array([[_cell(grid, r, c)[0, 0] for c in range(5)] for r in range(3)], dtype=int)
    assert (np.diff(brightness, axis=1) > 0).all()  # c2 grows along each row
    assert brightness[0, 0] > brightness[1, 0] and brightness[2, 0] > brightness[0, 0]  # rows: categories 2, 0, 9


def test_figure_grid_picks_the_figure_and_explains_bad_choices(cgan_run, infogan_run):
    cgan, infogan = load_generator(cgan_run), load_generator(infogan_run)
    assert figure_grid(cgan, latent_layout(cgan), "class", columns=3).shape == (2 + 10 * 30, 2 + 3 * 30)
    assert figure_grid(infogan, latent_layout(infogan), "c3", rows=[1, 2]).shape == (2 + 2 * 30, 2 + 10 * 30)
    assert grid_kinds(latent_layout(infogan)) == ["category", "c2", "c3"]
    for trained, by, rows, message in [
        (cgan, "category", None, "by must be one of class; got 'category'"),
        (infogan, "class", None, "by must be one of category, c2, c3; got 'class'"),
        (cgan, "class", [10], r"classes rows must lie in 0..9, got \[10\]"),
        (infogan, "c2", [], r"categorical code rows must lie in 0..9"),
    ]:
        with pytest.raises(LatentInputError, match=message):
            figure_grid(trained, latent_layout(trained), by, rows=rows)
    with pytest.raises(LatentInputError, match="columns must be in 1..64"):
        figure_grid(cgan, latent_layout(cgan), "class", columns=0)


def test_grey_grids_are_two_dimensional_as_pil_takes_them():
    grid = image_grid(torch.zeros(4, 1, 5, 5), nrow=2, scale=2)
    assert grid.shape == (2 * 16, 2 * 16) and Image.fromarray(grid).mode == "L"
    assert image_grid(torch.zeros(1, 3, 5, 5)).shape == (9, 9, 3)


def test_figure_grid_of_an_unconditional_run_says_which_runs_have_rows(image_run):
    trained = load_generator(image_run)
    with pytest.raises(LatentInputError) as e:
        figure_grid(trained, latent_layout(trained), "class")
    message = str(e.value)
    assert message.startswith("this run (nsgan) has no classes or codes to draw rows of")
    assert "--by class is for class-conditional runs (recipe cgan)" in message
    assert "--by category, c2, c3, … for InfoGAN runs (recipe infogan)" in message and "one of" not in message
