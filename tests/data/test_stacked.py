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


def test_the_veegan_training_set_stacks_digits_of_both_splits():
    """VEEGAN's and PacGAN's Table 2 set: 128,000 stacks drawn from the train and test digits together."""
    train = load_data(DataConfig(name="stacked-mnist-128k"), log=lambda _: None)
    assert train.x.shape == (128_000, 3, 28, 28) and train.x.dtype == torch.uint8
    assert len(train.y.unique()) == 1000  # 128 draws per mode on average: every mode is there
    test_digits = load_data(DataConfig(name="mnist", split="test"), log=lambda _: None).x
    from_test = torch.isin(train.x[:2000, 0].flatten(1).sum(1), test_digits[:, 0].flatten(1).sum(1))
    assert 0.05 < from_test.float().mean() < 0.35  # 1,000 of the sample's 6,000 digits are test digits
    test = load_data(DataConfig(name="stacked-mnist-128k", split="test"), log=lambda _: None)
    same = load_data(DataConfig(name="stacked-mnist", split="test"), log=lambda _: None)
    assert torch.equal(test.x, same.x)  # scored against the same test stacks as stacked-mnist
    limited = load_data(DataConfig(name="stacked-mnist-128k", limit=300), log=lambda _: None)
    assert "128,000 stacks" in limited.source  # data.limit builds only the stacks it keeps: the set's first
    assert torch.equal(limited.x, train.x[:300]) and torch.equal(limited.y, train.y[:300])
