"""Class accuracy and categorical-code accuracy, with known answers.

The stand-in generators draw real MNIST test images (the embedded sample: 100 per digit), so the
evaluator's own accuracy on those images is the answer they must get.
"""

from pathlib import Path

import pytest
import torch
from torch import nn

from gankit import get_recipe
from gankit.config import DataConfig
from gankit.data import load_data, to_model_input
from gankit.errors import ConfigError
from gankit.latent import Latent, LatentSpace
from gankit.metrics.catalog import measure, selected
from gankit.metrics.conditional import (
    balanced_latents,
    categorical_code_accuracy,
    class_accuracy,
    class_accuracy_from,
    confusion_counts,
    hungarian_matching,
    recognition_accuracy,
)
from gankit.metrics.errors import MetricInputError
from gankit.metrics.evaluate import evaluate_run
from gankit.metrics.extractors import FeatureExtractor, load_extractor
from gankit.metrics.protocol import Protocol
from gankit.metrics.registry import Context
from gankit.trained import TrainedGenerator, load_recognition

PERMUTATION = [3, 8, 0, 5, 1, 9, 2, 7, 4, 6]  # category c draws digit PERMUTATION[c]


@pytest.fixture(scope="module")
def digits():
    """The embedded MNIST test sample: images as G makes them ([−1, 1]) and their labels."""
    data = load_data(DataConfig(name="mnist", split="test"), log=lambda _: None)
    return to_model_input(data.x), data.y


@pytest.fixture(scope="module")
def classify():
    extractor = load_extractor("mnist")
    return lambda images: extractor.logits(images).argmax(1)


class RealDigits(nn.Module):
    """A stand-in G: for a class y (CGAN) or the digit ``digit_of[category]`` (InfoGAN) it returns the next
    real test image of that digit, in order; with ``ignore_codes`` it returns the image picked by z[:, 0]."""

    def __init__(self, digits, space: LatentSpace, digit_of=None, ignore_codes=False):
        super().__init__()
        images, labels = digits
        self.images, self.by_digit = images, [images[labels == d] for d in range(10)]
        self.space, self.digit_of, self.ignore_codes = space, torch.tensor(digit_of or range(10)), ignore_codes
        self.served = [0] * 10
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, z, y=None):
        if self.ignore_codes:
            return self.images[((z[:, 0] + 1) / 2 * (len(self.images) - 1)).round().long()]
        wanted = y if y is not None else self.digit_of[self.space.codes(z).category]
        out = []
        for d in wanted.tolist():
            out.append(self.by_digit[d][self.served[d] % len(self.by_digit[d])])
            self.served[d] += 1
        return torch.stack(out)


def standin(recipe: str, generator: RealDigits) -> TrainedGenerator:
    return TrainedGenerator(get_recipe(recipe), generator, (1, 28, 28), 0, Path("stand-in"), generator.space)


def evaluator_accuracy(digits, classify) -> torch.Tensor:
    """The evaluator's accuracy on the test sample's images of each digit (the known answer)."""
    images, labels = digits
    correct = classify(images) == labels
    return torch.stack([correct[labels == d].double().mean() for d in range(10)])


def test_class_accuracy_from_counts_each_class():
    result = class_accuracy_from(torch.tensor([0, 0, 1, 1, 1, 2]), torch.tensor([0, 1, 1, 1, 0, 2]), 3)
    assert result.per_class == pytest.approx([0.5, 2 / 3, 1.0]) and result.counts == [2, 3, 1]
    assert result.mean == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert result.to_dict()["min"] == 0.5
    with pytest.raises(MetricInputError, match=r"no samples were asked of class\(es\) \[2\]"):
        class_accuracy_from(torch.tensor([0, 1]), torch.tensor([0, 1]), 3)


def test_hungarian_matching_undoes_a_permutation_and_leaves_extra_categories_unmatched():
    categories = torch.arange(40) % 4
    predicted = torch.tensor([2, 0, 1, 1])[categories]  # category 3 draws what category 2 draws
    result = hungarian_matching(categories, predicted, 4, 3)
    assert result.matching[:2] == [2, 0] and sorted(result.matching[2:], key=str) == [1, None]
    assert result.accuracy == pytest.approx(0.75)  # one of categories 2, 3 cannot have digit 1
    assert result.counts[0] == [0, 0, 10] and sum(map(sum, result.counts)) == 40


def test_bad_labels_are_explained():
    with pytest.raises(MetricInputError, match=r"columns must lie in 0..2"):
        confusion_counts(torch.tensor([0]), torch.tensor([3]), 3, 3)
    with pytest.raises(MetricInputError, match="2 intended labels but 1 predictions"):
        confusion_counts(torch.tensor([0, 1]), torch.tensor([1]), 3, 3)


def test_a_generator_of_real_digits_gets_the_evaluators_accuracy_per_class(digits, classify):
    trained = standin("cgan", RealDigits(digits, LatentSpace(4, num_classes=10)))
    result = class_accuracy(trained, classify, n_per_class=100)  # every test image of each digit once
    expected = evaluator_accuracy(digits, classify)
    assert result.counts == [100] * 10
    assert result.per_class == pytest.approx(expected.tolist(), abs=1e-12)
    assert 0.95 <= result.mean <= 1.0  # the evaluator: 99.35% on the full MNIST test set


def test_a_permuted_code_is_matched_back_to_the_evaluators_accuracy(digits, classify):
    space = LatentSpace(4, categorical=10, continuous=2)
    trained = standin("infogan", RealDigits(digits, space, digit_of=PERMUTATION))
    result = categorical_code_accuracy(trained, classify, n_per_category=100)
    assert result.matching == PERMUTATION
    expected = (classify(digits[0]) == digits[1]).double().mean().item()
    assert result.accuracy == pytest.approx(expected, abs=1e-12) and 0.95 <= result.accuracy <= 1.0


def test_a_code_that_ignores_the_digit_scores_about_chance(digits, classify):
    space = LatentSpace(4, categorical=10, continuous=2)
    trained = standin("infogan", RealDigits(digits, space, ignore_codes=True))
    result = categorical_code_accuracy(trained, classify, n_per_category=100, seed=1)
    # 1/10, plus what the best matching of noise gains: 0.13..0.16 in 2,000 simulated draws
    assert 0.10 <= result.accuracy <= 0.19
    assert sorted(result.matching) == list(range(10))


def test_balanced_latents_put_the_categories_in_turn_and_keep_the_rest():
    space = LatentSpace(5, categorical=3, continuous=2)
    trained = standin("infogan", RealDigits((torch.zeros(10, 1, 28, 28), torch.arange(10)), space))
    latent, plain = balanced_latents(trained, 7, seed=4), trained.latents(7, seed=4)
    assert space.codes(latent.z).category.tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert torch.equal(latent.z[:, :5], plain.z[:, :5]) and torch.equal(latent.z[:, -2:], plain.z[:, -2:])


def test_metrics_ask_for_a_conditional_generator(digits, classify):
    plain = standin("dcgan", RealDigits(digits, LatentSpace(4)))
    with pytest.raises(MetricInputError, match="class-conditional generator"):
        class_accuracy(plain, classify)
    with pytest.raises(MetricInputError, match="categorical code"):
        categorical_code_accuracy(plain, classify)


def test_evaluate_run_scores_a_cgan_and_an_infogan_run(cgan_run, infogan_run):
    cgan = evaluate_run(cgan_run, Protocol(n_fake=100, kid_subsets=5))
    accuracy = cgan["metrics"]["class_accuracy"]
    assert accuracy["counts"] == [10] * 10 and len(accuracy["per_class"]) == 10 and 0 <= accuracy["mean"] <= 1
    assert cgan["protocol"]["class_accuracy"] == {"n": 100, "judge": "mnist-classifier", "classes": "0..9 in turn"}
    assert "categorical_code_accuracy" not in cgan["metrics"]
    info = evaluate_run(infogan_run, Protocol(n_fake=100, kid_subsets=5))
    code = info["metrics"]["categorical_code_accuracy"]
    assert sorted(code["matching"]) == list(range(10)) and 0.1 <= code["accuracy"] <= 1
    assert [sum(row) for row in code["counts"]] == [10] * 10  # categories in turn
    assert "Hungarian" in info["protocol"]["categorical_code_accuracy"]["matching"]
    assert "class_accuracy" not in info["metrics"]


def conditional_scores(space: LatentSpace, latent: Latent, images, extractor: FeatureExtractor):
    """(metrics, protocol records) of the conditional metrics that apply to these samples."""
    context = Context(Protocol(), "mnist", images, None, extractor, space, latent)
    chosen = [m for m in selected(["class_accuracy", "categorical_code_accuracy"]) if m.applies(context)]
    return measure(context, chosen)


def test_conditional_scores_say_why_they_were_not_measured(digits):
    images, labels = digits[0][:20], digits[1][:20]
    cgan = LatentSpace(4, num_classes=10)
    latent = Latent(torch.zeros(20, 4), labels)
    no_labels = FeatureExtractor("inception-v3", "0" * 64, lambda x: x.flatten(1))
    assert conditional_scores(cgan, latent, images, no_labels) == (
        {},
        {"class_accuracy": "not measured: needs the mnist classifier, not inception-v3"},
    )
    few = conditional_scores(cgan, latent[:5], images[:5], load_extractor("mnist"))[1]
    assert few == {"class_accuracy": "not measured: 5 samples do not cover every class / category"}
    assert conditional_scores(LatentSpace(4), Latent(torch.zeros(20, 4)), images, no_labels) == ({}, {})


def test_q_used_as_a_classifier_of_real_digits_is_matched_back(digits, classify):
    """A stand-in Q that puts digit d in category PERMUTATION.index(d): after matching, its accuracy on the real
    digits is the evaluator's, whatever the batch size, and each category is matched to its digit."""
    images, labels = digits
    category_of = torch.tensor([PERMUTATION.index(d) for d in range(10)])
    expected = (classify(images) == labels).double().mean().item()
    for batch in (7, 1000):
        result = recognition_accuracy(lambda x: category_of[classify(x)], images, labels, 10, 10, batch=batch)
        assert result.accuracy == pytest.approx(expected, abs=1e-12)
        assert result.matching == PERMUTATION
    with pytest.raises(MetricInputError, match="3 images but 2 labels"):
        recognition_accuracy(lambda x: x, images[:3], labels[:2], 10, 10)
    with pytest.raises(MetricInputError, match="batch must be at least 1"):
        recognition_accuracy(lambda x: x, images[:3], labels[:3], 10, 10, batch=0)


def test_load_recognition_reads_q_from_an_infogan_run(infogan_run, cgan_run):
    data = load_data(DataConfig(name="mnist", split="test"), log=lambda _: None)
    recognise, space = load_recognition(infogan_run)
    categories = recognise(data.x[:50])
    assert space.categorical == 10 and categories.shape == (50,) and categories.dtype == torch.long
    assert categories.min() >= 0 and categories.max() < 10
    assert torch.equal(recognise(to_model_input(data.x[:50])), categories)  # uint8 or [−1, 1]: the same input
    with pytest.raises(ConfigError, match="no categorical code"):
        load_recognition(cgan_run)
