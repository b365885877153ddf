import json

import pytest
import torch

import gankit
from gankit.errors import GankitError
from gankit.metrics.evaluate import evaluate_real, evaluate_run, write_result
from gankit.metrics.protocol import Protocol
from gankit.training.trainer import train
from tests.helpers import tiny

KID_SUBSETS = 10  # the protocol's 100 subsets cost seconds each call; 10 suffice for these checks


@pytest.fixture(scope="module")
def real_scores():
    """The shipped sample's train images (500) against its test images (1,000): as is, blurred, one class."""
    protocol = Protocol(n_fake=500, kid_subsets=KID_SUBSETS)
    return {
        "as is": evaluate_real("mnist", protocol),
        "blurred": evaluate_real("mnist", protocol, blur=1.5),
        "one class": evaluate_real("mnist", protocol, only=1),
    }


def test_real_data_scores_near_the_floor_and_degraded_sets_score_worse(real_scores):
    same, blurred, single = (real_scores[k]["metrics"] for k in ("as is", "blurred", "one class"))
    assert same["fid"] < 0.1 * blurred["fid"] and same["fid"] < 0.1 * single["fid"]
    assert same["precision"] == pytest.approx(0.95, abs=0.05)
    assert same["recall"] == pytest.approx(0.95, abs=0.05)
    assert same["classes"]["modes_covered"] == 10
    assert same["classifier_score"] == pytest.approx(9.5, abs=0.5)  # 10 balanced classes, ~99% confident
    assert single["classes"]["modes_covered"] == 1
    assert single["classifier_score"] == pytest.approx(1.0, abs=0.1)
    assert single["recall"] < 0.3 and single["coverage"] < 0.3
    assert abs(same["kid"]) < 0.1 * blurred["kid"]


def test_result_records_its_protocol(real_scores, tmp_path):
    result = real_scores["blurred"]
    p = result["protocol"]
    assert result["gankit_version"] == gankit.__version__
    assert (p["n_real"], p["n_fake"], p["seed"], p["kid"]["subsets"]) == (1000, 500, 0, KID_SUBSETS)
    assert p["reference"]["data"] == "mnist" and p["reference"]["split"] == "test"
    assert p["extractor"]["name"] == "mnist-classifier" and len(p["extractor"]["sha256"]) == 64
    assert result["subject"]["blur_sigma"] == 1.5
    path = write_result(result, tmp_path / "x" / "eval.json")
    assert json.loads(path.read_text()) == result


def test_the_protocol_object_is_what_the_result_records(real_scores):
    record = real_scores["as is"]["protocol"]
    assert record["metrics"][:5] == ["fid", "kid", "prdc", "classifier_score", "classes"]
    expected = Protocol(n_fake=500, kid_subsets=KID_SUBSETS, metrics=tuple(record["metrics"])).resolved("mnist")
    assert Protocol.from_record(record) == expected and expected.features == "mnist"


def test_evaluate_run_scores_a_trained_image_run(tmp_path):
    train(tiny("gan"), tmp_path / "run", echo=False)
    result = evaluate_run(tmp_path / "run", Protocol(n_fake=300, kid_subsets=KID_SUBSETS))
    m = result["metrics"]
    assert result["subject"]["step"] == 4 and result["protocol"]["n_fake"] == 300
    assert m["fid"] > 0 and 0 <= m["precision"] <= 1 and sum(m["classes"]["counts"]) == 300


def test_evaluate_run_counts_modes_of_a_2d_run_with_the_pacgan_protocol(tmp_path):
    train(tiny("nsgan", **{"data.name": "ring8", "model.latent_dim": 2}), tmp_path / "ring", echo=False)
    result = evaluate_run(tmp_path / "ring")
    modes = result["metrics"]["modes"]
    assert result["protocol"]["n_fake"] == 2500 and modes["n_samples"] == 2500 and modes["num_modes"] == 8
    assert 0 <= modes["modes_covered"] <= 8 and 0 <= modes["high_quality"] <= 1
    torch.manual_seed(1)  # the evaluation's z come from Protocol.seed alone, not from the global RNG
    torch.rand(1000)
    assert evaluate_run(tmp_path / "ring")["metrics"] == result["metrics"]


@pytest.mark.slow  # trains on Stacked MNIST and scores 1,000 modes
def test_evaluate_run_counts_stacked_mnist_modes(tmp_path):
    train(tiny("dcgan-stacked"), tmp_path / "stacked", echo=False)
    result = evaluate_run(tmp_path / "stacked", Protocol(n_fake=200, kid_subsets=KID_SUBSETS))
    assert result["metrics"]["modes"]["num_modes"] == 1000 and result["metrics"]["modes"]["n_samples"] == 200
    assert result["protocol"]["extractor"]["name"] == "mnist-classifier"


def test_data_without_a_shipped_evaluator_asks_for_one():
    with pytest.raises(GankitError, match="--features inception --weights FILE"):
        evaluate_real("kmnist", Protocol(data_dir="/nonexistent-but-not-read"))


def test_scoring_more_samples_than_fit_is_refused_with_the_largest_n_that_fits(monkeypatch):
    """Issue 26: eval -n 200000 died after 4 minutes with an allocator error; it is now refused up front."""
    from gankit.errors import ConfigError
    from gankit.memory import available
    from gankit.metrics.evaluate import check_scoring_memory
    from gankit.metrics.extractors import FeatureExtractor

    extractor = FeatureExtractor("test", "", lambda x: x, info={"feature_dim": 128})
    monkeypatch.setattr(available, "host_memory", lambda: 2**30)
    per_sample = 8 * (784 + 128)
    largest = (2**30 - 64 * 2**20) // per_sample
    check_scoring_memory(largest, (1, 28, 28), extractor)
    with pytest.raises(ConfigError, match=f"scoring 200,000 samples would need .* lower -n to at most {largest:,}$"):
        check_scoring_memory(200_000, (1, 28, 28), extractor)
    with pytest.raises(ConfigError, match="scoring"):
        check_scoring_memory(largest + 1, (1, 28, 28), extractor)
