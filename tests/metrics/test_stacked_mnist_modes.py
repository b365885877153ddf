import pytest
import torch

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.data.stacked import stack_digits
from gankit.metrics.extractors import load_extractor
from gankit.metrics.modes import (
    STACKED_MODES,
    STACKED_SAMPLES,
    expected_kl_of_uniform_sample,
    mode_report,
    stacked_mode_labels,
)


def evaluator_labels_of(pool: torch.Tensor):
    """The shipped MNIST classifier's label for any image of ``pool``, each computed once.

    The 26,000 × 3 channel images of the protocol are drawn from the 6,000 digits of the shipped sample, so
    the classifier (deterministic in eval mode) runs on the distinct digits and each channel looks its label up.
    """
    labels = load_extractor("mnist").logits(pool).argmax(1)
    table = {image.numpy().tobytes(): int(label) for image, label in zip(pool, labels, strict=True)}
    return lambda x: torch.tensor([table[image.numpy().tobytes()] for image in x])


@pytest.mark.slow
def test_real_stacked_digits_cover_all_1000_modes_with_kl_near_zero():
    sample = [load_data(DataConfig(name="mnist", split=s), log=lambda _: None) for s in ("train", "test")]
    digits, labels = torch.cat([d.x for d in sample]), torch.cat([d.y for d in sample])  # 6,000 real digits
    images, true_modes = stack_digits(digits, labels, STACKED_SAMPLES, seed=0)
    found = stacked_mode_labels(images, evaluator_labels_of(digits))
    report, truth = mode_report(found, STACKED_MODES), mode_report(true_modes, STACKED_MODES)
    assert report.n_samples == 26_000
    assert report.modes_covered == pytest.approx(1000, abs=1)  # 26 samples per mode: all reached
    assert (found == true_modes).float().mean().item() == pytest.approx(0.985, abs=0.015)  # all three digits right
    # KL ≈ 0: the sampling noise of 26 samples per mode, (K − 1) / 2n ≈ 0.019 nats, as for the true labels
    assert report.reverse_kl == pytest.approx(truth.reverse_kl, abs=0.005)
    assert report.reverse_kl == pytest.approx(expected_kl_of_uniform_sample(STACKED_MODES, STACKED_SAMPLES), rel=0.25)
