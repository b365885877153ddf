import pytest
import torch

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.data.stacked import stack_digits


def test_stack_digits_puts_one_digit_in_each_channel_and_labels_the_triple():
    digits = torch.arange(5, dtype=torch.uint8).view(5, 1, 1, 1).expand(5, 1, 2, 2).clone()
    labels = torch.tensor([0, 1, 2, 3, 4])
    images, modes = stack_digits(digits, labels, 50, seed=0)
    assert images.shape == (50, 3, 2, 2)
    channel_labels = images[:, :, 0, 0].long()  # each digit's pixels equal its label here
    assert torch.equal(modes, 100 * channel_labels[:, 0] + 10 * channel_labels[:, 1] + channel_labels[:, 2])
    again, _ = stack_digits(digits, labels, 50, seed=0)
    assert torch.equal(images, again)


def test_stacked_mnist_from_the_shipped_sample():
    data = load_data(DataConfig(name="stacked-mnist", split="test"), log=lambda _: None)
    assert data.x.shape == (1000, 3, 28, 28) and data.x.dtype == torch.uint8
    assert data.num_classes == 1000
    assert int(data.y.min()) >= 0 and int(data.y.max()) < 1000
    expected = 1000 * (1 - (1 - 1 / 1000) ** 1000)  # distinct modes among 1,000 uniform draws: 632
    assert len(data.y.unique()) == pytest.approx(expected, abs=40)
