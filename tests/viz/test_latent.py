import pytest
import torch

from gankit.latent import Latent
from gankit.trained import load_generator
from gankit.viz.grids import generate
from gankit.viz.latent import (
    ContinuousCode,
    LatentInputError,
    LatentLayout,
    check_input,
    generator_inputs,
    interpolate,
    latent_layout,
    sample_z,
    traverse,
)


def test_linear_interpolation_for_a_uniform_prior():
    a, b = torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 1.0])
    path = interpolate(a, b, 5, "uniform")
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)
    assert torch.allclose(path[2], torch.tensor([0.0, 0.5]))


def test_spherical_interpolation_keeps_the_norm_for_a_normal_prior():
    a, b = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    path = interpolate(a, b, 7, "normal")
    assert torch.allclose(path[0], a) and torch.allclose(path[-1], b, atol=1e-6)
    assert torch.allclose(path.norm(dim=1), torch.full((7,), 3.0))
    assert torch.allclose(interpolate(a, a, 3, "normal"), a.expand(3, 2))  # same end points: no division by 0


def test_traverse_sets_one_coordinate_per_column():
    z = torch.zeros(2, 3)
    out = traverse(z, 1, torch.tensor([-1.0, 0.0, 1.0]))
    assert out.shape == (6, 3)
    assert out[:, 1].tolist() == [-1.0, 0.0, 1.0] * 2 and out[:, [0, 2]].abs().sum() == 0


def test_sample_z_is_seeded_and_bounded():
    layout = LatentLayout(8, "normal", "images")
    assert torch.equal(sample_z(layout, 4, 1), sample_z(layout, 4, 1))
    assert sample_z(layout, 64, 2).abs().max() <= 4
    with pytest.raises(LatentInputError, match="n must be in 1..64"):
        sample_z(layout, 65, 0)
    assert LatentLayout(2, "uniform", "points").max_batch == 5000


def test_check_input_accepts_one_vector_and_reports_what_is_wrong():
    layout = LatentLayout(2, "uniform", "images", continuous=(ContinuousCode("width", 0, 2),), categories=3)
    inp = check_input(layout, [0.5, -0.5], continuous=[1.5], category=2)
    assert inp.z.shape == (1, 2) and inp.continuous == (1.5,) and inp.category == 2
    for kwargs, message in [
        ({"z": [0.0, float("nan")], "continuous": [0.0], "category": 0}, "not finite"),
        ({"z": [0.0, 0.0], "continuous": [-0.5], "category": 0}, r"width must lie in \[0, 2\]"),
        ({"z": [0.0, 0.0], "continuous": [0.0], "category": 3}, r"category must be in 0..2"),
        ({"z": [0.0, 0.0], "continuous": [0.0], "category": True}, r"category must be in 0..2"),
        ({"z": "zz", "continuous": [0.0], "category": 0}, "non-empty list"),
    ]:
        with pytest.raises(LatentInputError, match=message):
            check_input(layout, **kwargs)


def test_layout_of_a_cgan_run_names_its_classes(cgan_run):
    layout = latent_layout(load_generator(cgan_run))
    assert layout.latent_dim == 100 and layout.dist == "uniform" and layout.output == "images"
    assert layout.classes == tuple("0123456789") and layout.continuous == () and layout.categories == 0


def test_layout_of_an_infogan_run_has_its_codes_with_a_span_beyond_the_prior(infogan_run):
    layout = latent_layout(load_generator(infogan_run))
    assert layout.latent_dim == 62 and layout.classes == () and layout.categories == 10
    assert layout.continuous == (ContinuousCode("c2", -2.0, 2.0, (-1.0, 1.0)), ContinuousCode("c3", -2.0, 2.0))


def test_generator_inputs_of_a_cgan_are_z_and_the_label(cgan_run):
    trained = load_generator(cgan_run)
    layout = latent_layout(trained)
    inp = check_input(layout, sample_z(layout, 3, seed=0).tolist(), label=4)
    z, y = generator_inputs(layout, inp)
    assert torch.equal(z, inp.z) and y.tolist() == [4, 4, 4]
    direct = trained.generate_from(Latent(inp.z, torch.full((3,), 4)))
    assert torch.equal(generate(trained, layout, inp), direct)  # the same images as the core's path


def test_generator_inputs_of_an_infogan_compose_noise_and_codes(infogan_run):
    trained = load_generator(infogan_run)
    layout = latent_layout(trained)
    inp = check_input(layout, sample_z(layout, 2, seed=0).tolist(), continuous=[1.5, -2.0], category=7)
    (z,) = generator_inputs(layout, inp)
    codes = trained.space.codes(z)
    assert z.shape == (2, 62 + 10 + 2) and torch.equal(z[:, :62], inp.z)
    assert codes.category.tolist() == [7, 7] and codes.continuous.tolist() == [[1.5, -2.0]] * 2
    assert torch.equal(generate(trained, layout, inp), trained.generate_from(Latent(z)))
