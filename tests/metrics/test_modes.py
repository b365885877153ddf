import math

import pytest
import torch

from gankit.data.toy import grid25_modes, ring8_modes, sample_toy
from gankit.errors import GankitError
from gankit.metrics.modes import (
    class_histogram,
    count_toy_modes,
    expected_kl_of_uniform_sample,
    mode_report,
    reverse_kl_to_uniform,
    stacked_mode_labels,
)


def test_histogram_and_kl_to_uniform():
    counts = class_histogram(torch.tensor([0, 0, 1, 1]), 4)
    assert counts.tolist() == [2, 2, 0, 0]
    assert reverse_kl_to_uniform(counts) == pytest.approx(math.log(2))  # half the modes, evenly
    assert reverse_kl_to_uniform(torch.tensor([5, 5, 5, 5])) == pytest.approx(0.0, abs=1e-12)
    assert reverse_kl_to_uniform(torch.tensor([9, 0, 0])) == pytest.approx(math.log(3))  # total collapse


def test_mode_report_counts_modes_above_a_threshold():
    report = mode_report(torch.tensor([0, 0, 0, 1, 2, 2]), 4, min_count=2)
    assert report.counts == [3, 1, 2, 0]
    assert report.modes_covered == 2
    assert report.n_samples == 6
    p = torch.tensor([3, 1, 2]) / 6
    assert report.reverse_kl == pytest.approx(float((p * (4 * p).log()).sum()))


def test_labels_out_of_range_are_refused():
    with pytest.raises(GankitError, match=r"\[0, 3\)"):
        class_histogram(torch.tensor([0, 3]), 3)


def test_ring_mode_counter_counts_exactly_on_hand_built_samples():
    modes = ring8_modes()  # σ = 0.01: high quality within 0.03 of a centre
    c = modes.centers
    points = torch.stack(
        [
            c[0],  # at mode 0
            c[0] + torch.tensor([0.02, 0.0]),  # 2σ from mode 0: high quality
            c[1] + torch.tensor([0.0, 0.029]),  # 2.9σ from mode 1: high quality
            c[2] + torch.tensor([0.05, 0.0]),  # 5σ from mode 2: nearest is 2, but low quality
            0.5 * c[4],  # halfway to mode 4: low quality
        ]
    )
    report = count_toy_modes(points, modes)
    assert report.modes_covered == 2  # modes 0 and 1; mode 2 has only a low-quality sample
    assert report.high_quality == pytest.approx(3 / 5)
    assert report.counts == [2, 1, 1, 0, 1, 0, 0, 0]  # nearest modes, whatever the quality
    assert report.hq_counts == [2, 1, 0, 0, 0, 0, 0, 0]  # within 3σ only
    assert report.kl_all == pytest.approx(0.4 * math.log(8 * 0.4) + 3 * 0.2 * math.log(8 * 0.2))
    # PacGAN's KL reads the high-quality histogram: 2/3 and 1/3 of the samples on 2 of 8 modes
    assert report.kl_hq == pytest.approx(2 / 3 * math.log(8 * 2 / 3) + 1 / 3 * math.log(8 / 3))


def test_grid_mode_counter_on_real_samples_finds_all_modes():
    modes = grid25_modes()
    points, labels = sample_toy(modes, 2500, seed=0)
    report = count_toy_modes(points, modes)
    assert report.modes_covered == 25
    assert report.high_quality == pytest.approx(0.989, abs=0.01)  # P(|N(0, I₂)| ≤ 3) = 1 − e^{−4.5} = 0.9889
    assert report.counts == class_histogram(labels, 25).tolist()  # modes 2 apart, σ 0.05: never confused
    assert report.kl_all == pytest.approx(expected_kl_of_uniform_sample(25, 2500), rel=0.5)
    assert report.kl_hq == pytest.approx(report.kl_all, rel=0.2)  # 1.1% of the samples dropped, evenly


def test_collapsed_grid_samples():
    modes = grid25_modes()
    points = modes.centers[torch.tensor([0, 0, 0, 12])] + 0.2  # 4σ off: all low quality
    report = count_toy_modes(points, modes)
    assert (report.modes_covered, report.high_quality) == (0, 0.0)
    assert report.kl_all == pytest.approx(0.75 * math.log(25 * 0.75) + 0.25 * math.log(25 * 0.25))
    assert report.kl_hq is None  # no high-quality sample: no histogram to compare


def test_kl_hq_ignores_the_low_quality_samples_that_kl_all_counts():
    """Even high-quality samples on every mode, plus off-mode samples all nearest to mode 0: kl_hq = 0."""
    modes = ring8_modes()
    points = torch.cat([modes.centers.repeat(10, 1), modes.centers[:1].repeat(40, 1) * 0.5])
    report = count_toy_modes(points, modes)
    assert report.high_quality == pytest.approx(80 / 120)
    assert report.kl_hq == pytest.approx(0.0, abs=1e-12)
    p = torch.tensor([50] + [10] * 7, dtype=torch.float64) / 120  # all samples: 50 of 120 in mode 0
    assert report.kl_all == pytest.approx(float((p * (8 * p).log()).sum()))  # 0.265


def test_stacked_labels_combine_the_three_channel_classes():
    images = torch.zeros(2, 3, 4, 4)
    images[0, 0], images[0, 1], images[0, 2] = 7, 0, 3  # each channel is "classified" as its first pixel
    images[1, 0], images[1, 1], images[1, 2] = 0, 9, 9
    labels = stacked_mode_labels(images, lambda x: x[:, 0, 0, 0].long())
    assert labels.tolist() == [703, 99]
    with pytest.raises(GankitError, match="3-channel"):
        stacked_mode_labels(torch.zeros(2, 1, 4, 4), lambda x: x)
