"""The reference features' cache: hits give the cold run's features, bad or stale files are rebuilt."""

import dataclasses
import re

import pytest
import torch

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.metrics import feature_cache
from gankit.metrics.evaluate import evaluate_real
from gankit.metrics.extractors import load_extractor
from gankit.metrics.feature_cache import FeatureCache, cache_key
from gankit.metrics.protocol import Protocol


@pytest.fixture(scope="module")
def images():
    return load_data(DataConfig(name="mnist", split="test"), log=lambda _: None).x[:300]


@pytest.fixture
def counting():
    """The mnist extractor, counting how many image sets it computes features of."""
    ex = load_extractor("mnist")
    calls = []

    def features(x):
        calls.append(len(x))
        return ex.feature_fn(x)

    return dataclasses.replace(ex, feature_fn=features), calls


@pytest.fixture(autouse=True)
def _no_memory():
    """Every read goes to disk: the in-process copy of the last reference is dropped before each test."""
    feature_cache._MEMORY.clear()
    yield
    feature_cache._MEMORY.clear()


def _cold_then_warm(cache, extractor, images):
    cold, source = cache.features(extractor, images, "fp32")
    assert source == "computed"
    feature_cache._MEMORY.clear()
    warm, source = cache.features(extractor, images, "fp32")
    return cold, warm, source


def test_a_hit_reads_the_features_the_cold_run_computed(tmp_path, counting, images):
    extractor, calls = counting
    cold, warm, source = _cold_then_warm(FeatureCache(tmp_path), extractor, images)
    assert source == "disk" and torch.equal(cold, warm) and len(calls) == 1
    assert [p.suffix for p in tmp_path.iterdir()] == [".safetensors"]  # no temporary file left behind
    _, source = FeatureCache(tmp_path).features(extractor, images, "fp32")
    assert source == "memory" and len(calls) == 1


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-1000])


def _garble(path):
    raw = bytearray(path.read_bytes())
    raw[-500:-490] = bytes(10)  # inside the features: only the checksum can tell
    path.write_bytes(bytes(raw))


def _junk(path):
    path.write_bytes(b"not a safetensors file")


def _wrong_shape(path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as f:
        meta, features = f.metadata(), f.get_tensor("features")
    save_file({"features": features[:10]}, str(path), metadata=meta)


@pytest.mark.parametrize(
    "damage, why",
    [
        (_truncate, "cannot be read"),
        (_garble, "does not match its checksum"),
        (_junk, "cannot be read"),
        (_wrong_shape, r"shape \(10, 128\), not \(300, D\)"),
    ],
)
def test_a_damaged_file_is_reported_and_rebuilt(tmp_path, counting, images, damage, why):
    extractor, calls = counting
    logs = []
    cache = FeatureCache(tmp_path, logs.append)
    cold, _ = cache.features(extractor, images, "fp32")
    path = cache.path(cache_key(extractor, images, "fp32"))
    damage(path)
    feature_cache._MEMORY.clear()
    rebuilt, source = cache.features(extractor, images, "fp32")
    assert source == "computed" and len(calls) == 2 and torch.equal(rebuilt, cold)
    assert len(logs) == 1 and str(path) in logs[0] and "recomputing" in logs[0]
    assert re.search(why, logs[0])
    feature_cache._MEMORY.clear()
    assert cache.features(extractor, images, "fp32")[1] == "disk"  # the rebuilt file is good


def test_other_weights_data_or_precision_miss_and_a_stale_file_is_rebuilt(tmp_path, counting, images):
    extractor, calls = counting
    logs = []
    cache = FeatureCache(tmp_path, logs.append)
    cache.features(extractor, images, "fp32")
    other_weights = dataclasses.replace(extractor, sha256="0" * 64)
    variants = [(other_weights, images), (extractor, images[:299]), (extractor, images.flip(0))]
    for ex, x in variants:
        feature_cache._MEMORY.clear()
        assert cache.features(ex, x, "fp32")[1] == "computed"
    feature_cache._MEMORY.clear()
    assert cache.features(extractor, images, "bf16")[1] == "computed"
    assert len(calls) == 5 and len(list(tmp_path.iterdir())) == 5 and logs == []
    # a file holding another key's features at this key's path: stale
    stale = cache.path(cache_key(other_weights, images, "fp32"))
    stale.replace(cache.path(cache_key(extractor, images, "fp32")))
    feature_cache._MEMORY.clear()
    assert cache.features(extractor, images, "fp32")[1] == "computed"
    assert len(logs) == 1 and "was made for other inputs (stale)" in logs[0]


def test_an_unwritable_cache_is_logged_and_the_features_still_computed(tmp_path, counting, images):
    extractor, _ = counting
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    logs = []
    features, source = FeatureCache(blocker, logs.append).features(extractor, images, "fp32")
    assert source == "computed" and features.shape == (300, 128)
    assert len(logs) == 1 and "cannot write" in logs[0]


def test_evaluate_with_a_warm_cache_gives_the_cold_scores_and_no_cache_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE_DIR", str(tmp_path / "cache"))
    protocol = Protocol(n_fake=200, kid_subsets=5)
    off = evaluate_real("mnist", protocol, blur=1.0, cache=False)
    assert off["protocol"]["reference"]["features"] == "computed" and not (tmp_path / "cache").exists()
    feature_cache._MEMORY.clear()
    cold = evaluate_real("mnist", protocol, blur=1.0)
    feature_cache._MEMORY.clear()
    warm = evaluate_real("mnist", protocol, blur=1.0)
    assert [r["protocol"]["reference"]["features"] for r in (cold, warm)] == ["computed", "disk"]
    assert warm["metrics"] == cold["metrics"] == off["metrics"]
    assert len(list((tmp_path / "cache").iterdir())) == 1
