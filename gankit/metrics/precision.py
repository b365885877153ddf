"""The arithmetic of an evaluation: float32, or bfloat16 autocast where it was checked not to move the scores.

Generating the samples and extracting their features are most of the cost of ``gankit eval``; on CPUs with
native bfloat16 (AMX / AVX-512 BF16 that oneDNN may use, :func:`gankit.device.native_bf16`) autocast runs both
about twice as fast. The metrics themselves are always computed in float32 / float64 from float32 features.
``bf16`` is the default only for the extractors in ``BF16_CHECKED``, whose scores were compared with float32
(``tests/metrics/test_precision.py``, ``benchmarks/eval_speed.py``), and only on such CPUs; everything else
(other extractors, the 2-D toy sets, CPUs without bfloat16) defaults to ``fp32``. A result records which.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import torch

from gankit.device import native_bf16

PRECISIONS = ("fp32", "bf16")
BF16_CHECKED = ("mnist",)  # extractors whose bf16 scores were checked against fp32 (see the module docstring)


def default_precision(features: str | None) -> str:
    """``bf16`` for a checked extractor on a CPU with bfloat16; ``fp32`` otherwise."""
    return "bf16" if features in BF16_CHECKED and native_bf16(torch.device("cpu"))[0] else "fp32"


def autocast(precision: str) -> AbstractContextManager:
    """A CPU autocast context: bfloat16 for ``bf16``, a no-op for ``fp32``."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


PRDC_KEYS = ("precision", "recall", "density", "coverage")


def bf16_tolerance(metric: str, fp32_value: float, n: int) -> float:
    """How far a bf16 score may lie from its fp32 value (two-sided) for ``n`` samples.

    Set below the scores' own sampling noise and above the shifts measured (``benchmarks/eval_speed.py``,
    ``tests/metrics/test_precision.py``): precision, recall, density, coverage: 0.15/√n, half the binomial
    standard error of any share between 0.1 and 0.9 (0.0015 at 10,000); FID 0.1% + 0.005, KID 0.5% + 0.0002,
    classifier score 0.2% of the value (10,000 samples of an LSGAN: bf16 moved FID 6.338 by 0.003, seed 1
    instead of 0 moved it by 0.012).
    """
    if metric in PRDC_KEYS:
        return 0.15 / n**0.5
    relative, floor = {"fid": (0.001, 0.005), "kid": (0.005, 0.0002), "classifier_score": (0.002, 0.0)}[metric]
    return relative * abs(fp32_value) + floor
