import pytest
import torch

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.data.stacked import stack_digits
from gankit.metrics.extractors import load_extractor
from gankit.metrics.modes import STACKED_MODES, expected_kl_of_uniform_sample, mode_report, stacked_mode_labels

N_STACKED = 10_000  # the protocol's 26,000 takes about a minute on 2 CPU cores; 10,000 still reach every mode


def test_real_stacked_digits_cover_all_1000_modes_with_kl_near_zero():
    sample = [load_data(DataConfig(name="mnist", split=s), log=lambda _: None) for s in ("train", "test")]
    digits, labels = torch.cat([d.x for d in sample]), torch.cat([d.y for d in sample])  # 6,000 real digits
    images, true_modes = stack_digits(digits, labels, N_STACKED, seed=0)
    classifier = load_extractor("mnist")
    found = stacked_mode_labels(images, lambda x: classifier.logits(x).argmax(1))
    report = mode_report(found, STACKED_MODES)
    truth = mode_report(true_modes, STACKED_MODES)
    chance_missing = STACKED_MODES * (1 - 1 / STACKED_MODES) ** N_STACKED  # 0.045 modes expected unseen
    assert report.modes_covered == pytest.approx(STACKED_MODES - chance_missing, abs=2)
    assert (found == true_modes).float().mean().item() == pytest.approx(0.985, abs=0.015)  # three digits right
    # KL ≈ 0: only the sampling noise of 10 samples per mode, (K − 1) / 2n ≈ 0.05 nats, as for the true labels
    assert report.reverse_kl == pytest.approx(truth.reverse_kl, abs=0.01)
    assert report.reverse_kl == pytest.approx(expected_kl_of_uniform_sample(STACKED_MODES, N_STACKED), rel=0.2)
