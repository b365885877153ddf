"""The arithmetic of an evaluation: float32, or bfloat16 autocast where it was checked not to move the scores.

Generating the samples and extracting their features are most of the cost of ``gankit eval``; on CPUs with
native bfloat16 (AMX / AVX-512 BF16, ``torch.ops.mkldnn._is_mkldnn_bf16_supported()``) autocast runs both
about twice as fast. The metrics themselves are always computed in float32 / float64 from float32 features.
``bf16`` is the default only for the extractors in ``BF16_CHECKED``, whose scores were compared with float32
(``tests/metrics/test_precision.py``, ``benchmarks/eval_speed.py``), and only on such CPUs; everything else
(other extractors, the 2-D toy sets, CPUs without bfloat16) defaults to ``fp32``. A result records which.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import torch

PRECISIONS = ("fp32", "bf16")
BF16_CHECKED = ("mnist",)  # extractors whose bf16 scores were checked against fp32 (see the module docstring)


def bf16_supported() -> bool:
    """Whether this CPU does bfloat16 natively (elsewhere autocast emulates it, slower than float32)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def default_precision(features: str | None) -> str:
    """``bf16`` for a checked extractor on a CPU with bfloat16; ``fp32`` otherwise."""
    return "bf16" if features in BF16_CHECKED and bf16_supported() else "fp32"


def autocast(precision: str) -> AbstractContextManager:
    """A CPU autocast context: bfloat16 for ``bf16``, a no-op for ``fp32``."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


PRDC_KEYS = ("precision", "recall", "density", "coverage")


def bf16_tolerance(metric: str, fp32_value: float, n: int) -> float:
    """How far a bf16 score may lie from its fp32 value (two-sided) for ``n`` samples.

    FID, KID, classifier score: 0.5% of the value (plus 0.01 / 0.001 for values near 0); measured shifts
    are 0.01–0.3%. Precision, recall, density, coverage: 0.25/√n, half the largest binomial standard error of
    a share of n samples (0.0025 at 10,000), so the shift is well inside the scores' own sampling noise.
    """
    if metric in PRDC_KEYS:
        return 0.25 / n**0.5
    floor = {"fid": 0.01, "kid": 0.001, "classifier_score": 0.0}[metric]
    return 0.005 * abs(fp32_value) + floor
