"""The metric registry: its contents, when each metric applies, selection, and the protocol object."""

import json

import pytest
import torch

from gankit.errors import ConfigError
from gankit.latent import Latent, LatentSpace
from gankit.metrics import registry
from gankit.metrics.catalog import choose, is_valid_metric, measure, metrics, parse_metrics
from gankit.metrics.errors import MetricInputError
from gankit.metrics.extractors import FeatureExtractor
from gankit.metrics.precision import default_precision
from gankit.metrics.protocol import Protocol, data_defaults, describe_sample_counts
from gankit.metrics.registry import IMAGES, Context, Metric

STANDARD = [
    "fid",
    "kid",
    "prdc",
    "classifier_score",
    "classes",
    "stacked_modes",
    "toy_modes",
    "class_accuracy",
    "categorical_code_accuracy",
]


def stub_classifier() -> FeatureExtractor:
    """A cheap extractor with logits: features are the pixels, logits the first 10 of them."""
    return FeatureExtractor("mnist-classifier", "0" * 64, lambda x: x.flatten(1), lambda x: x.flatten(1)[:, :10])


def context(fake, extractor=None, data="mnist", space=None, latent=None, **protocol) -> Context:
    real = fake.flip(0) if fake.dim() == 4 else None
    return Context(Protocol(**protocol).resolved(data), data, fake, real, extractor, space, latent)


def applying(c: Context) -> list[str]:
    return [m.name for m in metrics().values() if m.name in STANDARD and m.applies(c)]


def test_the_standard_metrics_are_registered_in_the_order_of_the_results_keys():
    names = list(metrics())
    assert [n for n in names if n in STANDARD] == STANDARD
    assert all(is_valid_metric(n) for n in STANDARD) and not is_valid_metric("FID")


def test_each_metric_applies_to_the_data_it_declares():
    grey = torch.rand(12, 1, 4, 4) * 2 - 1
    assert applying(context(grey, stub_classifier())) == ["fid", "kid", "prdc", "classifier_score", "classes"]
    assert applying(context(grey.repeat(1, 3, 1, 1), stub_classifier())) == ["fid", "kid", "prdc", "stacked_modes"]
    no_logits = FeatureExtractor("inception-v3", "0" * 64, lambda x: x.flatten(1))
    assert applying(context(grey, no_logits)) == ["fid", "kid", "prdc"]
    assert applying(context(grey)) == []
    assert applying(context(torch.randn(12, 2), data="ring8")) == ["toy_modes"]
    assert applying(context(torch.randn(12, 2), data="points-of-my-own")) == []
    cgan, infogan = LatentSpace(4, num_classes=10), LatentSpace(4, categorical=10)
    assert "class_accuracy" in applying(context(grey, stub_classifier(), space=cgan))
    assert "categorical_code_accuracy" in applying(context(grey, stub_classifier(), space=infogan))
    assert metrics()["fid"].why_not(context(torch.randn(12, 2), data="ring8")) == (
        "fid needs images and a feature extractor (--features)"
    )


def test_the_default_selection_is_every_metric_that_applies_and_an_explicit_one_must_apply():
    grey = torch.rand(12, 1, 4, 4) * 2 - 1
    assert [m.name for m in choose(context(grey, stub_classifier(), metrics=("kid", "fid")))] == ["fid", "kid"]
    with pytest.raises(MetricInputError, match=r"categorical_code_accuracy needs a run with a categorical code"):
        choose(context(grey, stub_classifier(), metrics=("categorical_code_accuracy",)))
    with pytest.raises(MetricInputError, match=r"--metrics fid does not apply here: fid needs images"):
        choose(context(torch.randn(12, 2), data="ring8", metrics=("fid",)))


def test_unknown_names_are_refused_with_a_suggestion_and_the_known_names():
    assert parse_metrics("fid, kid") == ("fid", "kid")
    with pytest.raises(ConfigError, match=r"unknown metric 'fdi'\. Did you mean 'fid'\?.* Known: fid, kid, prdc"):
        parse_metrics("fid,fdi")
    with pytest.raises(ConfigError, match="unknown metric 'modes'"):
        choose(context(torch.randn(12, 2), data="ring8", metrics=("modes",)))
    with pytest.raises(ConfigError, match="--metrics takes names"):
        parse_metrics(" , ")


def test_measure_gives_each_metrics_values_and_protocol_fields():
    c = context(torch.rand(30, 1, 4, 4) * 2 - 1, stub_classifier(), kid_subsets=3, metrics=("kid", "prdc"))
    values, records = measure(c, choose(c))
    assert set(values) == {"kid", "kid_std", "precision", "recall", "density", "coverage"}
    assert records == {"kid": {"subsets": 3, "subset_size": 30, "degree": 3}, "prdc_k": 5}


@pytest.fixture
def scratch_metric():
    """Removes the test's metric from the registry afterwards."""
    yield "pixel_mean"
    registry.METRICS.pop("pixel_mean", None)


def test_a_metric_registers_once_and_takes_part_by_its_declaration(scratch_metric):
    mean = Metric(
        "pixel_mean",
        "mean pixel value",
        (IMAGES,),
        lambda c: {"pixel_mean": float(c.fake.float().mean())},
        lambda c: {"pixel_mean": {"pixels": "all"}},
    )
    registry.register(mean)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(mean)
    c = context(torch.ones(4, 1, 2, 2))
    assert [m.name for m in choose(c)] == ["pixel_mean"]  # no extractor: the feature metrics do not apply
    assert measure(c, choose(c)) == ({"pixel_mean": 1.0}, {"pixel_mean": {"pixels": "all"}})


def test_a_metric_that_cannot_be_measured_says_why_in_the_protocol():
    grey = torch.rand(12, 1, 4, 4) * 2 - 1
    space = LatentSpace(4, num_classes=10)
    latent = Latent(torch.zeros(12, 4), torch.arange(12) % 10)
    c = context(grey, stub_classifier(), data="fashion-mnist", space=space, latent=latent, metrics=("class_accuracy",))
    assert measure(c, choose(c)) == (
        {},
        {"class_accuracy": "not measured: needs the fashion-mnist classifier, not mnist-classifier"},
    )


def test_data_set_defaults_come_from_one_table():
    assert (data_defaults("ring8").kind, data_defaults("ring8").n_fake) == ("points", 2500)
    native = default_precision("mnist")  # bf16 on CPUs with native bfloat16 (test_precision.py)
    assert Protocol().resolved("grid25") == Protocol(n_fake=2500, precision="fp32")
    assert Protocol().resolved("stacked-mnist") == Protocol(n_fake=26_000, features="mnist", precision=native)
    fashion = Protocol(n_fake=10_000, features="fashion-mnist", precision="fp32")
    assert Protocol().resolved("fashion-mnist") == fashion
    assert Protocol().resolved("kmnist") == Protocol(n_fake=10_000, precision="fp32")
    inception = Protocol(n_fake=50, features="inception", precision="fp32")
    assert Protocol(n_fake=50, features="inception").resolved("mnist") == inception
    assert Protocol().resolved("stacked-mnist-128k") == Protocol().resolved("stacked-mnist")
    assert describe_sample_counts() == "10,000; 26,000 for stacked-mnist, stacked-mnist-128k; 2,500 for ring8, grid25"


def test_the_protocol_round_trips_through_its_json_record():
    protocol = Protocol(n_fake=300, reference_split="train", weights="w.pt", seed=3, prdc_k=4, metrics=("fid", "kid"))
    record = json.loads(json.dumps(protocol.to_record() | {"n_real": 1000, "kid": {"subsets": 100}}))
    assert record["metrics"] == ["fid", "kid"] and record["n_fake"] == 300
    assert Protocol.from_record(record) == protocol
    with pytest.raises(MetricInputError, match="-n must be at least 2"):
        Protocol(n_fake=1)


def test_a_costly_metric_is_computed_only_on_request():
    """swd applies to any large-enough image set but is left out of the default selection."""
    images = torch.rand(40, 1, 28, 28) * 2 - 1
    c = context(images, stub_classifier())
    assert metrics()["swd"].applies(c) and not metrics()["swd"].default
    assert "swd" not in [m.name for m in choose(c)] and "fid" in [m.name for m in choose(c)]
    asked = context(images, stub_classifier(), metrics=("swd",))
    assert [m.name for m in choose(asked)] == ["swd"]


def test_the_help_text_lists_every_metric_and_marks_those_on_request():
    from gankit.metrics.catalog import describe

    text = describe()
    assert all(f"  {name} " in text for name in metrics())
    assert text.count("only on request") == sum(not m.default for m in metrics().values()) == 1
