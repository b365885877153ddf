"""bf16 autocast against fp32: features and scores agree within ``gankit.metrics.precision.bf16_tolerance``."""

import pytest
import torch

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.device import native_bf16
from gankit.errors import GankitError
from gankit.metrics.evaluate import evaluate_real, evaluate_run
from gankit.metrics.extractors import load_extractor
from gankit.metrics.precision import PRDC_KEYS, bf16_tolerance, default_precision
from gankit.metrics.protocol import Protocol
from gankit.training.trainer import train
from tests.helpers import tiny

needs_bf16 = pytest.mark.skipif(not native_bf16(torch.device("cpu"))[0], reason="this CPU has no native bfloat16")
SCORES = ("fid", "kid", "classifier_score", *PRDC_KEYS)
N = 500


def test_the_default_precision_is_bf16_only_for_the_checked_extractor_on_a_bf16_cpu():
    native = "bf16" if native_bf16(torch.device("cpu"))[0] else "fp32"
    assert Protocol().resolved("mnist").precision == native
    assert Protocol().resolved("stacked-mnist").precision == native  # the mnist classifier, per channel
    assert Protocol().resolved("fashion-mnist").precision == "fp32"  # its classifier was not checked in bf16
    assert Protocol().resolved("ring8").precision == "fp32"  # 2-D points: σ of the modes is near bf16's step
    assert default_precision("inception") == "fp32"
    assert Protocol(precision="fp32").resolved("mnist").precision == "fp32"
    with pytest.raises(GankitError, match="precision must be one of fp32, bf16; got 'fp16'"):
        Protocol(precision="fp16")


@pytest.mark.parametrize(
    "amx,avx512_bf16,cap,chosen",
    [
        (False, False, "ALL", "fp32"),
        (True, True, "AVX2", "fp32"),
        (False, True, "ALL", "bf16"),
        (True, True, "ALL", "bf16"),
    ],
)
def test_the_default_is_bf16_only_where_the_cpu_has_bf16_units_onednn_may_use(
    monkeypatch, amx, avx512_bf16, cap, chosen
):
    """One check for training's ``auto`` and the evaluation (:func:`gankit.device.native_bf16`). An AVX-512 CPU
    without bf16 units (Skylake, Cascade Lake) emulates bf16, yet oneDNN calls bf16 supported there
    (``torch.ops.mkldnn._is_mkldnn_bf16_supported()`` is True under ``ONEDNN_MAX_CPU_ISA=AVX512_CORE``), which the
    evaluation read before; and an AMX CPU capped at AVX2 emulates it too."""
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert default_precision("mnist") == chosen


@needs_bf16
def test_bf16_features_differ_from_fp32_but_each_vector_by_under_2_percent():
    images = load_data(DataConfig(name="mnist", split="test"), log=lambda _: None).x[:N]
    ex = load_extractor("mnist")
    fp32, bf16 = ex.features(images, "fp32"), ex.features(images, "bf16")
    relative = (bf16 - fp32).norm(dim=1) / fp32.norm(dim=1)
    assert 0 < relative.max() < 0.02  # > 0: autocast really ran in bf16 (observed max ~0.9%)
    assert bf16.dtype == fp32.dtype == ex.features(images).dtype


def _compare(fp32: dict, bf16: dict) -> None:
    assert (fp32["protocol"]["precision"], bf16["protocol"]["precision"]) == ("fp32", "bf16")
    for key in SCORES:
        a, b = fp32["metrics"][key], bf16["metrics"][key]
        assert abs(b - a) <= bf16_tolerance(key, a, N), f"{key}: fp32 {a}, bf16 {b}"
    assert fp32["metrics"]["classes"]["modes_covered"] == bf16["metrics"]["classes"]["modes_covered"]


@needs_bf16
def test_bf16_scores_of_real_blurred_images_are_within_tolerance_of_fp32():
    scores = {
        p: evaluate_real("mnist", Protocol(n_fake=N, kid_subsets=10, precision=p), blur=1.0) for p in ("fp32", "bf16")
    }
    _compare(scores["fp32"], scores["bf16"])


@needs_bf16
def test_bf16_generation_and_scores_of_a_run_are_within_tolerance_of_fp32(tmp_path):
    train(tiny("gan"), tmp_path / "run", echo=False)
    scores = {
        p: evaluate_run(tmp_path / "run", Protocol(n_fake=N, kid_subsets=10, precision=p)) for p in ("fp32", "bf16")
    }
    _compare(scores["fp32"], scores["bf16"])


def test_bf16_tolerance_is_under_the_sampling_noise_of_each_score():
    assert bf16_tolerance("precision", 0.7, 10_000) == pytest.approx(0.0015)
    assert bf16_tolerance("recall", 0.7, 500) == pytest.approx(0.0067, abs=1e-4)
    assert bf16_tolerance("fid", 6.0, 10_000) == pytest.approx(0.011)
    assert bf16_tolerance("kid", -0.002, 500) == pytest.approx(0.00021)
    assert bf16_tolerance("classifier_score", 6.0, 10_000) == pytest.approx(0.012)
