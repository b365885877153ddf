"""Score generated (or real) samples with the registered metrics, and record the protocol.

``evaluate_run(RUN, protocol)`` loads a trained run's generator and scores its samples against the
reference split of its data set; ``evaluate_real(DATA, protocol)`` scores a real set (optionally blurred,
or of one class) in the same way, giving the floor of each metric. The metrics are those of
``protocol.metrics`` (each must apply, or the evaluation stops with an error saying what it needs) or, by
default, every registered default metric that applies (``gankit.metrics.registry``; the standard ones are listed
in ``gankit.metrics.builtin``). Both return a JSON-able dict::

    {"gankit_version", "created", "seconds", "subject": {what was scored},
     "protocol": {the Protocol's fields (n_fake, seed, …, "metrics": the names computed),
                  "n_real", "reference": {data, split, source}, "extractor": {name, sha256, ...},
                  and each metric's own fields, e.g. "kid": {subsets, subset_size, degree}, "prdc_k"},
     "metrics": {each metric's values, e.g. "fid", "kid", "kid_std", "precision", …, "classes": {…}}}

A run with classes (CGAN) or a categorical code (InfoGAN) asks for them in turn (0, 1, …, K−1, 0, …)
(``gankit.metrics.conditional.balanced_latents``), so the same samples serve every metric. Samples are
generated and their features extracted in ``protocol.precision`` (``gankit.metrics.precision``); the
reference features come from the on-disk cache when ``cache`` is on (``gankit.metrics.feature_cache``), and
``"reference": {"features": "computed" | "disk" | "memory"}`` says where they came from.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from gankit.config import DataConfig
from gankit.data import TensorData, load_data
from gankit.memory import available
from gankit.metrics.catalog import choose, measure, selected
from gankit.metrics.conditional import balanced_latents
from gankit.metrics.corruptions import gaussian_blur, only_class
from gankit.metrics.errors import EvaluatorError, MetricInputError
from gankit.metrics.extractors import FeatureExtractor, load_extractor
from gankit.metrics.feature_cache import FeatureCache, default_cache_dir
from gankit.metrics.prdc import CHUNK_BYTES
from gankit.metrics.precision import autocast
from gankit.metrics.protocol import DEFAULT_N, Protocol, data_defaults
from gankit.metrics.registry import Context
from gankit.store.outputs import check_output_file, write_atomic
from gankit.version import __version__


def extractor_for(protocol: Protocol, data: str) -> FeatureExtractor | None:
    """The resolved protocol's feature extractor; None for 2-D points or when no selected metric needs one."""
    if protocol.features is not None:
        return load_extractor(protocol.features, protocol.weights)
    if data_defaults(data).kind == "points" or not any(m.needs_extractor for m in selected(protocol.metrics)):
        return None
    raise EvaluatorError(
        f"gankit ships no evaluator for {data!r}; pass --features inception --weights FILE "
        "(or --features mnist/fashion-mnist with --weights of your own classifier), "
        "or choose --metrics that need no feature extractor"
    )


def score(subject: dict[str, Any], context: Context, reference: TensorData | None, t0: float) -> dict[str, Any]:
    """Compute the chosen metrics of ``context`` and assemble the result."""
    chosen = choose(context)
    values, records = measure(context, chosen)
    protocol = context.protocol.replace(metrics=tuple(metric.name for metric in chosen))
    facts: dict[str, Any] = {"n_real": len(context.real) if context.real is not None else 0}
    if reference is not None:
        facts["reference"] = {"data": reference.name, "split": protocol.reference_split, "source": reference.source}
        facts["reference"]["features"] = context.reference_source
    if context.extractor is not None:
        facts["extractor"] = context.extractor.protocol()
    return {
        "gankit_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - t0, 1),
        "subject": subject,
        "protocol": protocol.to_record() | facts | records,
        "metrics": values,
    }


def score_images(
    fake: torch.Tensor, real: torch.Tensor, extractor: FeatureExtractor, protocol: Protocol | None = None
) -> dict[str, Any]:
    """The image metrics that apply to ``fake`` against ``real`` (uint8 or [−1, 1] floats, (N, C, H, W))."""
    context = Context(protocol or Protocol(), "", fake, real, extractor)
    return measure(context, choose(context))[0]


def feature_cache(cache: bool, log: Callable[[str], None]) -> FeatureCache:
    """The reference features' cache: on disk in ``default_cache_dir()`` if ``cache``, else in memory only."""
    return FeatureCache(default_cache_dir() if cache else None, log)


def evaluate_run(
    run_dir: str | Path,
    protocol: Protocol | None = None,
    checkpoint: str | Path | None = None,
    use_ema: bool = True,
    extractor: FeatureExtractor | None = None,
    cache: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Score a trained run's G (the latest or a given checkpoint, its EMA weights if kept) under ``protocol``;
    ``cache``: read and write the reference features on disk."""
    from gankit.trained import load_generator

    t0 = time.perf_counter()
    trained = load_generator(run_dir, checkpoint, use_ema=use_ema)
    cfg = trained.config
    protocol = (protocol or Protocol()).resolved(cfg.data.name)
    extractor = extractor or extractor_for(protocol, cfg.data.name)
    subject = {
        "kind": "run",
        "run": str(run_dir),
        "recipe": cfg.recipe,
        "checkpoint": str(trained.checkpoint),
        "step": trained.step,
        "weights": "ema" if (use_ema and cfg.train.ema is not None) else "raw",
    }
    reference = None
    if data_defaults(cfg.data.name).kind == "images":
        data_dir = protocol.data_dir if protocol.data_dir is not None else cfg.data.dir
        reference_cfg = DataConfig(
            name=cfg.data.name,
            dir=data_dir,
            split=protocol.reference_split,
            image_size=cfg.data.image_size,
            channels=cfg.data.channels,
        )
        reference = load_data(reference_cfg, log=lambda _: None)
    assert protocol.n_fake is not None  # resolved
    check_scoring_memory(protocol.n_fake, trained.data_shape, extractor)
    latent = balanced_latents(trained, protocol.n_fake, protocol.seed)
    assert protocol.precision is not None  # resolved
    with torch.inference_mode(), autocast(protocol.precision):
        fake = trained.generate_from(latent)
    real = reference.x[:DEFAULT_N] if reference is not None else None
    context = Context(protocol, cfg.data.name, fake, real, extractor, trained.space, latent, feature_cache(cache, log))
    return score(subject, context, reference, t0)


def evaluate_real(
    data: str = "mnist",
    protocol: Protocol | None = None,
    split: str = "train",
    blur: float | None = None,
    only: int | None = None,
    extractor: FeatureExtractor | None = None,
    cache: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Score the first ``protocol.n_fake`` real images of ``split`` (blurred by ``blur`` σ, or only class
    ``only``) against the reference split."""
    t0 = time.perf_counter()
    protocol = (protocol or Protocol()).resolved(data)
    if data_defaults(data).kind == "points":
        raise MetricInputError(f"{data} holds 2-D points; `gankit eval --real` scores image data sets")
    extractor = extractor or extractor_for(protocol, data)
    quiet = lambda _: None  # noqa: E731
    scored = load_data(DataConfig(name=data, dir=protocol.data_dir, split=split), log=quiet)
    reference = load_data(DataConfig(name=data, dir=protocol.data_dir, split=protocol.reference_split), log=quiet)
    images = scored.x if only is None else only_class(scored.x, scored.y, only)
    images = images[: protocol.n_fake]
    check_scoring_memory(len(images), tuple(images.shape[1:]), extractor)
    if blur is not None:
        images = gaussian_blur(images, blur)
    subject = {"kind": "real", "data": data, "split": split, "source": scored.source}
    subject |= {"blur_sigma": blur, "only_class": only}
    protocol = protocol.replace(n_fake=len(images))
    context = Context(protocol, data, images, reference.x[:DEFAULT_N], extractor, cache=feature_cache(cache, log))
    return score(subject, context, reference, t0)


INCEPTION_DIM = 2048  # features per sample assumed for an extractor that does not say (Inception's pool3)


def check_scoring_memory(n: int, shape: tuple[int, ...], extractor: FeatureExtractor | None) -> None:
    """ConfigError unless scoring ``n`` samples of ``shape`` fits in memory, naming the largest n that does.

    Per sample: its float32 copy twice (generated in batches, then joined) and its float32 features twice (the
    same); the k-NN metrics' distances take at most ``CHUNK_BYTES`` at a time (``gankit.metrics.prdc``)."""
    features = extractor.info.get("feature_dim", INCEPTION_DIM) if extractor is not None else 0
    per_sample = 2 * 4 * (math.prod(shape) + features)
    free = available.host_memory()
    largest = max(0, ((free or 0) - CHUNK_BYTES) // per_sample)
    fix = f"lower -n to at most {largest:,}"
    available.check_fits(n * per_sample + CHUNK_BYTES, free, f"scoring {n:,} samples", fix)


def write_result(result: dict[str, Any], path: str | Path) -> Path:
    """Write a result as indented JSON (atomically)."""
    return write_atomic(check_output_file(path), json.dumps(result, indent=2) + "\n", fsync=True)
