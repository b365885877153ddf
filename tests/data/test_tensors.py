import pytest
import torch

from gankit.data import TensorData, to_model_input, to_uint8_images
from gankit.data.tensors import resize_images, set_channels


def test_to_model_input_range_and_values():
    x = torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8)
    out = to_model_input(x)
    assert out.dtype == torch.float32
    assert out[0].item() == -1.0 and out[-1].item() == 1.0
    torch.testing.assert_close(out, x.double().div(127.5).sub(1).float())


def test_uint8_round_trip_is_exact_for_every_value():
    x = torch.arange(256, dtype=torch.int32).to(torch.uint8).view(1, 1, 16, 16)
    assert torch.equal(to_uint8_images(to_model_input(x)), x)


def test_to_uint8_images_rounds_and_clamps():
    out = to_uint8_images(torch.tensor([-3.0, -1.0, 0.0, 0.999, 1.0, 5.0]))
    assert out.dtype == torch.uint8
    assert out.tolist() == [0, 0, 128, 255, 255, 255]  # 0 -> 127.5 rounds half to even: 128


def test_float_tensors_pass_through_as_float32():
    points = torch.tensor([[0.25, -3.5]], dtype=torch.float64)
    out = to_model_input(points)
    assert out.dtype == torch.float32 and out.tolist() == [[0.25, -3.5]]
    with pytest.raises(TypeError):
        to_model_input(torch.tensor([1, 2]))


def test_tensor_data_basics():
    images = TensorData(torch.zeros(3, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 1, 2]), "t", "src", 3)
    points = TensorData(torch.zeros(7, 2), None, "p", "src", None)
    assert len(images) == 3 and len(points) == 7
    assert images.is_image and not points.is_image
    moved = images.to("cpu")
    assert moved is not images and torch.equal(moved.x, images.x) and torch.equal(moved.y, images.y)
    assert points.to("cpu").y is None


def test_resize_keeps_constant_images_and_centre_crops():
    flat = torch.full((2, 1, 28, 28), 200, dtype=torch.uint8)
    out = resize_images(flat, 14)
    assert out.shape == (2, 1, 14, 14) and out.dtype == torch.uint8
    assert (out == 200).all()
    wide = torch.zeros(1, 1, 4, 8, dtype=torch.uint8)
    wide[..., 4:] = 255  # left half black, right half white; shorter side is already 4: only the crop acts
    assert resize_images(wide, 4)[0, 0, 0].tolist() == [0, 0, 255, 255]


def test_set_channels():
    grey = torch.arange(4, dtype=torch.uint8).view(1, 1, 2, 2)
    rgb = set_channels(grey, 3)
    assert rgb.shape == (1, 3, 2, 2) and all(torch.equal(rgb[:, c], grey[:, 0]) for c in range(3))
    red = torch.zeros(1, 3, 1, 1, dtype=torch.uint8)
    red[0, 0] = 255
    assert set_channels(red, 1).item() == 76  # round(0.299 * 255)
