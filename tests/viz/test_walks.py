import pytest
import torch

from gankit.trained import load_generator
from gankit.viz.grids import latent_grid
from gankit.viz.latent import LatentInputError, LatentLayout, latent_layout, sample_z
from gankit.viz.walks import code_frames, loop_path, segment_lengths, sweep_values


def test_a_loop_starts_at_the_seeded_z_and_passes_every_key_once():
    layout = LatentLayout(latent_dim=5, dist="uniform", output="images")
    path = loop_path(layout, n=3, frames=8, seed=7)
    assert path.shape == (8, 3, 5)
    assert torch.equal(path[0], sample_z(layout, 3, 7))
    for k in range(4):  # 2 frames a segment: key k, then halfway to the next key (straight lines: uniform prior)
        key, after = sample_z(layout, 3, 7 + k), sample_z(layout, 3, 7 + (k + 1) % 4)
        assert torch.allclose(path[2 * k], key) and torch.allclose(path[2 * k + 1], (key + after) / 2)


def test_a_loop_under_a_normal_prior_is_slerp_and_keeps_the_norm():
    layout = LatentLayout(latent_dim=256, dist="normal", output="images")
    path = loop_path(layout, n=4, frames=8)
    norms, keys = path.norm(dim=2), path[::2].norm(dim=2)
    assert (norms > 0.9 * keys.min()).all() and (norms < 1.1 * keys.max()).all()  # a straight line dips to ~0.71
    halfway = path[1] / path[1].norm(dim=1, keepdim=True)
    ends = path[0] + path[2]
    assert torch.allclose(halfway, ends / ends.norm(dim=1, keepdim=True), atol=1e-5)  # halfway along the arc


def test_segments_and_sweeps_use_exactly_the_frames_asked_for():
    assert segment_lengths(10, 4) == [2, 3, 2, 3] and sum(segment_lengths(61, 4)) == 61
    assert sweep_values(-2, 2, 2) == [-2, 2]
    assert sweep_values(-2, 2, 4) == [-2, 0, 2, 0]
    assert sweep_values(-2, 2, 5) == pytest.approx([-2, 0, 2, 2 / 3, -2 / 3])
    with pytest.raises(LatentInputError, match="at least 2 frames"):
        sweep_values(-2, 2, 1)
    with pytest.raises(LatentInputError, match="at least 2 frames"):
        loop_path(LatentLayout(2, "uniform", "images"), 1, 1)


def test_latent_grid_of_an_unconditional_run_is_square_and_codes_need_infogan(image_run, toy_run):
    trained = load_generator(image_run)
    layout = latent_layout(trained)
    assert latent_grid(trained, layout, sample_z(layout, 4, 0)).shape == (2 + 2 * 30, 2 + 2 * 30)
    with pytest.raises(LatentInputError, match="no continuous InfoGAN codes"):
        code_frames(trained, layout, 2, 4)
    toy = load_generator(toy_run)
    with pytest.raises(LatentInputError, match="image generators; this one makes 2-D points"):
        latent_grid(toy, latent_layout(toy), sample_z(latent_layout(toy), 2, 0))
