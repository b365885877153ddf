import math

import pytest
import torch

from gankit.errors import GankitError
from gankit.metrics.classifier_score import classifier_score


def confident(labels: list[int], k: int = 10) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(labels), k).float() * 50.0


def test_confident_and_even_samples_score_the_number_of_classes():
    assert classifier_score(confident(list(range(10)) * 20))[0] == pytest.approx(10.0, rel=1e-6)


def test_a_single_class_or_unsure_predictions_score_one():
    assert classifier_score(confident([3] * 50))[0] == pytest.approx(1.0, abs=1e-9)
    assert classifier_score(torch.zeros(50, 10))[0] == pytest.approx(1.0, abs=1e-9)


def test_two_classes_half_each_score_two_and_splits_agree():
    mean, std = classifier_score(confident([1, 7] * 50), splits=5)
    assert mean == pytest.approx(2.0, rel=1e-6)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_partly_confident_predictions_match_the_definition():
    p = torch.tensor([[0.9, 0.1], [0.2, 0.8]], dtype=torch.float64)
    marginal = p.mean(0)
    expected = math.exp(float((p * (p / marginal).log()).sum(1).mean()))
    assert classifier_score(p.log())[0] == pytest.approx(expected, rel=1e-9)


def test_bad_logits_are_refused():
    with pytest.raises(GankitError, match="logits"):
        classifier_score(torch.zeros(10))
