"""The collapse watch's measurements (gankit.metrics.watch): pure functions of a batch of samples."""

import math

import pytest
import torch

from gankit.config import DataConfig
from gankit.data import load_data, to_model_input
from gankit.data.toy import ring8_modes, sample_toy
from gankit.metrics.extractors import classifier_extractor
from gankit.metrics.watch import (
    ClassProbe,
    FeatureProbe,
    StackedProbe,
    ToyProbe,
    choose_probe,
    cover_floor,
    expected_covered,
    hopped,
    kl_ceiling,
    mode_values,
)

SCHEMA_MODE_KEYS = {"watch_kind", "watch_modes", "watch_covered", "watch_kl", "watch_top_share", "watch_collapsed"}


@pytest.fixture(scope="module")
def digits():
    """500 images of the embedded MNIST sample (floats in [−1, 1]) and their labels."""
    data = load_data(DataConfig(name="mnist", limit=500), log=lambda _: None)
    return to_model_input(data.x), data.y


@pytest.fixture(scope="module")
def mnist_classifier():
    return classifier_extractor("mnist")


def test_a_perfect_sampler_covers_what_the_binomial_says():
    assert expected_covered(10, 500) == pytest.approx(10, abs=1e-6)  # every class holds ≥ 5 of 500
    assert expected_covered(1000, 2000) == pytest.approx(1000 * (1 - (1 - 1e-3) ** 2000), rel=1e-9)  # 864.9
    assert 8 <= cover_floor(10, 500) <= 8 + 1e-6 and kl_ceiling(10, 500) == pytest.approx(0.15 * math.log(10) + 0.009)


@pytest.mark.parametrize(
    "counts,collapsed,missing",
    [
        ([50] * 10, False, []),  # even
        ([56] * 9 + [0], False, [9]),  # one class missing: 9 of 10 covered, KL log(10/9) = 0.105
        ([71] * 7 + [0] * 3, True, [7, 8, 9]),  # 7 of 10 covered, KL log(10/7) = 0.357 > 0.354
        ([491] + [1] * 9, True, list(range(1, 10))),  # one class; the others' single samples count as missing
    ],
)
def test_mode_values_say_collapsed_below_the_thresholds_only(counts, collapsed, missing):
    values, absent = mode_values(torch.tensor(counts))
    assert values["watch_collapsed"] is collapsed and absent == missing
    assert values["watch_covered"] == 10 - len(missing) and values["watch_histogram"] == counts
    assert values["watch_top_share"] == pytest.approx(max(counts) / sum(counts), abs=1e-5)


def test_real_digits_are_healthy_and_one_digit_is_collapsed(digits, mnist_classifier):
    x, y = digits
    probe = ClassProbe(mnist_classifier)
    healthy = probe.measure(x)
    assert set(healthy.values) == SCHEMA_MODE_KEYS | {"watch_histogram", "watch_confidence"}
    assert healthy.values["watch_kind"] == "classes" and healthy.values["watch_covered"] == 10
    assert not healthy.values["watch_collapsed"] and healthy.values["watch_kl"] < 0.05
    assert healthy.values["watch_confidence"] > 0.9 and (healthy.labels == y).float().mean() > 0.95
    sevens = x[y == 7]
    collapsed = probe.measure(sevens.repeat(500 // len(sevens) + 1, 1, 1, 1)[:500])
    assert collapsed.values["watch_collapsed"] and collapsed.values["watch_covered"] == 1
    assert collapsed.missing == [0, 1, 2, 3, 4, 5, 6, 8, 9] and collapsed.values["watch_top_share"] > 0.95


def test_stacked_modes_are_the_three_channels_digits(digits, mnist_classifier):
    x, y = digits
    stacks = torch.cat([x[:300], x[100:400], x[200:500]], dim=1)  # (300, 3, 28, 28)
    check = StackedProbe(mnist_classifier).measure(stacks)
    truth = 100 * y[:300] + 10 * y[100:400] + y[200:500]
    assert (check.labels == truth).float().mean() > 0.9
    assert check.values["watch_modes"] == 1000 and "watch_histogram" not in check.values  # K > 100
    assert check.values["watch_covered"] == len(set(check.labels.tolist()))  # min count 1 at 300 samples
    assert check.values["watch_collapsed"] is (check.values["watch_covered"] < cover_floor(1000, 300))


def test_toy_points_on_every_mode_are_healthy_and_on_one_are_collapsed():
    modes = ring8_modes()
    probe = ToyProbe(modes)
    points, truth = sample_toy(modes, 2500, seed=3)
    healthy = probe.measure(points)
    assert healthy.values["watch_covered"] == 8 and not healthy.values["watch_collapsed"]  # 1 − e^(−4.5) within 3σ
    assert 0.98 < healthy.values["watch_high_quality"] < 1 and torch.equal(healthy.labels, truth)
    one = probe.measure(modes.centers[2].expand(2500, 2) + 0.001)
    assert one.values["watch_collapsed"] and one.values["watch_covered"] == 1 and one.missing == [0, 1, 3, 4, 5, 6, 7]
    far = probe.measure(points * 3)  # spread over every mode's direction, but no point within 3σ: poor, not collapsed
    assert far.values["watch_covered"] == 8 and not far.values["watch_collapsed"]
    assert far.values["watch_high_quality"] == 0


def test_features_see_a_batch_collapsed_onto_one_image(digits, mnist_classifier):
    x, _ = digits
    probe = FeatureProbe(mnist_classifier, x[:250])
    healthy = probe.measure(x[250:])
    assert set(healthy.values) == {"watch_kind", "watch_coverage", "watch_density", "watch_spread", "watch_collapsed"}
    assert 0.8 < healthy.values["watch_spread"] < 1.2 and healthy.values["watch_coverage"] > 0.7
    assert not healthy.values["watch_collapsed"]
    noise = 0.01 * torch.randn(250, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    one = x[300:301].repeat(250, 1, 1, 1) + noise
    collapsed = probe.measure(one.clamp(-1, 1))
    assert collapsed.values["watch_spread"] < 0.1 and collapsed.values["watch_collapsed"]
    assert len(set(collapsed.labels.tolist())) <= 2  # nearly every sample's nearest real image is the same


def test_each_data_set_gets_its_kind_or_a_reason(digits):
    x, _ = digits
    assert choose_probe("ring8", (2,), x)[1] == "toy"
    assert choose_probe("mnist", (1, 28, 28), x)[1] == "classes"
    assert choose_probe("fashion-mnist", (1, 28, 28), x)[1] == "classes"
    assert choose_probe("stacked-mnist", (3, 28, 28), x)[1] == "stacked"
    assert choose_probe("kmnist", (1, 28, 28), x)[1] == "features"
    assert choose_probe("kmnist", (1, 28, 28), x[:5]) == (
        None,
        "coverage in features needs more than 5 real images, the data has 5",
    )
    probe, why = choose_probe("mnist", (1, 32, 32), x)  # resized: the classifier takes 28×28
    assert probe is None and "no feature extractor for mnist examples of shape 1×32×32" in why


def test_hopping_is_the_share_of_changed_labels():
    assert hopped(None, torch.tensor([1, 2])) is None
    assert hopped(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 0])) == 0.5
    assert hopped(torch.tensor([1, 2]), torch.tensor([1, 2, 3])) is None  # another batch size: no comparison
