"""Score generated (or real) samples with every metric that fits them, and record the protocol.

``evaluate_run(RUN)`` loads a trained run's generator and scores its samples against the reference split
of its data set; ``evaluate_real(...)`` scores a real set (optionally blurred, or of one class) in the
same way, giving the floor of each metric. Both return a JSON-able dict::

    {"gankit_version", "created", "seconds", "subject": {what was scored},
     "protocol": {"extractor": {name, sha256, ...}, "reference": {data, split, source}, "n_real", "n_fake",
                  "seed", "kid": {...}, "prdc_k"},
     "metrics": {"fid", "kid", "kid_std", "precision", "recall", "density", "coverage",
                 "classifier_score", "classes": {mode report},
                 "class_accuracy": {...} (CGAN), "categorical_code_accuracy": {...} (InfoGAN)}}

Image sets get FID, KID and PRDC in the extractor's feature space; grey images with a classifier extractor
also get the classifier score and the class histogram (a class counts as covered when it holds at least
10% of its uniform share of the samples); 3-channel digits (Stacked MNIST) get the 1,000-mode count; 2-D
point sets (ring8, grid25) get the PacGAN mode count instead. A run with classes (CGAN) or a categorical
code (InfoGAN) asks for them in turn (0, 1, …, K−1, 0, …) and also gets, from the same samples and the data
set's classifier, the class accuracy or the categorical-code accuracy (``gankit.metrics.conditional``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import torch

from gankit.config import DataConfig
from gankit.data import TensorData, load_data
from gankit.data.toy import TOY_MODES
from gankit.latent import Latent, LatentSpace
from gankit.metrics.classifier_score import classifier_score
from gankit.metrics.conditional import balanced_latents, class_accuracy_from, hungarian_matching
from gankit.metrics.corruptions import gaussian_blur, only_class
from gankit.metrics.errors import EvaluatorError, MetricInputError
from gankit.metrics.extractors import FeatureExtractor, load_extractor
from gankit.metrics.fid import fid_from_features
from gankit.metrics.kid import kernel_inception_distance
from gankit.metrics.modes import (
    STACKED_MODES,
    STACKED_SAMPLES,
    TOY_SAMPLES,
    count_toy_modes,
    mode_report,
    stacked_mode_labels,
)
from gankit.metrics.prdc import precision_recall_density_coverage
from gankit.version import __version__

DEFAULT_N = 10_000
DEFAULT_EXTRACTOR = {"mnist": "mnist", "fashion-mnist": "fashion-mnist", "stacked-mnist": "mnist"}
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000  # Bińkowski et al. 2018
PRDC_K = 5  # Naeem et al. 2020
COVERED_SHARE = 0.1  # a class is covered when it holds >= 10% of its uniform share of the samples


def default_samples(data_name: str) -> int:
    """The protocol's sample count: 2,500 for 2-D toys, 26,000 for Stacked MNIST, else 10,000."""
    if data_name in TOY_MODES:
        return TOY_SAMPLES
    return STACKED_SAMPLES if data_name == "stacked-mnist" else DEFAULT_N


_REFERENCE_CACHE: dict[tuple[str, str, int], torch.Tensor] = {}


def reference_features(extractor: FeatureExtractor, real: torch.Tensor) -> torch.Tensor:
    """Features of a reference set, kept in memory (keyed by the extractor's hash and the images' hash)."""
    digest = hashlib.sha256(real.contiguous().cpu().numpy().tobytes()).hexdigest()
    key = (extractor.sha256, digest, real.shape[0])
    if key not in _REFERENCE_CACHE:
        _REFERENCE_CACHE.clear()  # one reference at a time: 10k × 384 floats at most
        _REFERENCE_CACHE[key] = extractor.features(real)
    return _REFERENCE_CACHE[key]


def score_images(
    fake: torch.Tensor,
    real: torch.Tensor,
    extractor: FeatureExtractor,
    seed: int = 0,
    kid_subsets: int = KID_SUBSETS,
    kid_subset_size: int = KID_SUBSET_SIZE,
    k: int = PRDC_K,
) -> dict[str, Any]:
    """All image metrics of ``fake`` against ``real`` (uint8 or [−1, 1] floats, (N, C, H, W))."""
    if fake.shape[1:] != real.shape[1:]:
        raise MetricInputError(
            f"generated images {tuple(fake.shape[1:])} and reference images {tuple(real.shape[1:])} differ in shape; "
            "score against data of the run's size and channels"
        )
    f_real, f_fake = reference_features(extractor, real), extractor.features(fake)
    kid, kid_std = kernel_inception_distance(f_real, f_fake, kid_subsets, kid_subset_size, seed)
    metrics: dict[str, Any] = {"fid": fid_from_features(f_real, f_fake), "kid": kid, "kid_std": kid_std}
    metrics |= precision_recall_density_coverage(f_real, f_fake, k).to_dict()
    if extractor.logits_fn is not None and fake.shape[1] == 1:
        logits = extractor.logits(fake)
        metrics["classifier_score"] = classifier_score(logits)[0]
        k_classes = logits.shape[1]
        min_count = max(1, math.ceil(COVERED_SHARE * len(fake) / k_classes))
        metrics["classes"] = mode_report(logits.argmax(1), k_classes, min_count).to_dict() | {"min_count": min_count}
    elif extractor.logits_fn is not None and fake.shape[1] == 3:
        labels = stacked_mode_labels(fake, lambda x: extractor.logits(x).argmax(1))
        metrics["modes"] = mode_report(labels, STACKED_MODES).to_dict()
    return metrics


def conditional_scores(
    space: LatentSpace, latent: Latent, fake: torch.Tensor, extractor: FeatureExtractor, data: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Class accuracy (the classes ``latent.y`` asked of a CGAN) and categorical-code accuracy (the InfoGAN
    category inside ``latent.z``) of the samples ``fake``, judged by the run's data set's classifier.

    Returns (metrics, protocol); both empty for an unconditional run.
    """
    names = ["class_accuracy"] * bool(space.num_classes) + ["categorical_code_accuracy"] * bool(space.categorical)
    if not names:
        return {}, {}
    if extractor.logits_fn is None or fake.shape[1] != 1 or extractor.name != f"{data}-classifier":
        return {}, dict.fromkeys(names, f"not measured: needs the {data} classifier, not {extractor.name}")
    if len(fake) < max(space.num_classes, space.categorical):
        return {}, dict.fromkeys(names, f"not measured: {len(fake)} samples do not cover every class / category")
    logits = extractor.logits(fake)
    predicted, k = logits.argmax(1), logits.shape[1]
    metrics: dict[str, Any] = {}
    protocol: dict[str, Any] = {key: {"n": len(fake), "judge": extractor.name} for key in names}
    if latent.y is not None:
        metrics["class_accuracy"] = class_accuracy_from(latent.y, predicted, space.num_classes).to_dict()
        protocol["class_accuracy"] |= {"classes": f"0..{space.num_classes - 1} in turn"}
    if space.categorical:
        category = space.codes(latent.z).category
        metrics["categorical_code_accuracy"] = hungarian_matching(category, predicted, space.categorical, k).to_dict()
        protocol["categorical_code_accuracy"] |= {
            "categories": f"0..{space.categorical - 1} in turn, the other codes from their priors",
            "matching": "one-to-one, most samples matched (Hungarian: scipy.optimize.linear_sum_assignment)",
        }
    return metrics, protocol


def _protocol(
    extractor: FeatureExtractor | None,
    reference: TensorData | None,
    split: str,
    n_real: int,
    n_fake: int,
    seed: int,
    kid_subsets: int = KID_SUBSETS,
) -> dict[str, Any]:
    protocol: dict[str, Any] = {"n_real": n_real, "n_fake": n_fake, "seed": seed}
    if reference is not None:
        protocol["reference"] = {"data": reference.name, "split": split, "source": reference.source}
    if extractor is not None:
        protocol["extractor"] = extractor.protocol()
        subset_size = min(KID_SUBSET_SIZE, n_real, n_fake)
        protocol["kid"] = {"subsets": kid_subsets, "subset_size": subset_size, "degree": 3}
        protocol["prdc_k"] = PRDC_K
    return protocol


def _result(subject: dict[str, Any], protocol: dict[str, Any], metrics: dict[str, Any], t0: float) -> dict[str, Any]:
    return {
        "gankit_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - t0, 1),
        "subject": subject,
        "protocol": protocol,
        "metrics": metrics,
    }


def extractor_for_data(data_name: str, features: str | None, weights: str | Path | None) -> FeatureExtractor:
    name = features or DEFAULT_EXTRACTOR.get(data_name)
    if name is None:
        raise EvaluatorError(
            f"gankit ships no evaluator for {data_name!r}; pass --features inception --weights FILE "
            "(or --features mnist/fashion-mnist with --weights of your own classifier)"
        )
    return load_extractor(name, weights)


def evaluate_run(
    run_dir: str | Path,
    n: int | None = None,
    reference_split: str = "test",
    data_dir: str | None = None,
    features: str | None = None,
    weights: str | Path | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    use_ema: bool = True,
    extractor: FeatureExtractor | None = None,
    kid_subsets: int = KID_SUBSETS,
) -> dict[str, Any]:
    """Score a trained run (see the module docstring); ``n`` defaults to the protocol's sample count."""
    from gankit.run import load_generator

    t0 = time.perf_counter()
    trained = load_generator(run_dir, checkpoint, use_ema=use_ema)
    cfg = trained.config
    n = n or default_samples(cfg.data.name)
    if n < 2:
        raise MetricInputError(f"-n must be at least 2, got {n}")
    subject = {
        "kind": "run",
        "run": str(run_dir),
        "recipe": cfg.recipe,
        "checkpoint": str(trained.checkpoint),
        "step": trained.step,
        "weights": "ema" if (use_ema and cfg.train.ema is not None) else "raw",
    }
    if cfg.data.name in TOY_MODES:
        report = count_toy_modes(trained.generate(n, seed=seed), TOY_MODES[cfg.data.name]())
        protocol = _protocol(None, None, reference_split, 0, n, seed) | {"data": cfg.data.name, "n_sigma": 3}
        return _result(subject, protocol, {"modes": report.to_dict()}, t0)
    extractor = extractor or extractor_for_data(cfg.data.name, features, weights)
    data_cfg = DataConfig(
        name=cfg.data.name,
        dir=data_dir if data_dir is not None else cfg.data.dir,
        split=reference_split,
        image_size=cfg.data.image_size,
        channels=cfg.data.channels,
    )
    reference = load_data(data_cfg, log=lambda _: None)
    real = reference.x[:DEFAULT_N]
    latent = balanced_latents(trained, n, seed)
    fake = trained.generate_from(latent)
    metrics = score_images(fake, real, extractor, seed, kid_subsets)
    protocol = _protocol(extractor, reference, reference_split, len(real), n, seed, kid_subsets)
    extra_metrics, extra_protocol = conditional_scores(trained.space, latent, fake, extractor, cfg.data.name)
    return _result(subject, protocol | extra_protocol, metrics | extra_metrics, t0)


def evaluate_real(
    data: str = "mnist",
    data_dir: str | None = None,
    split: str = "train",
    reference_split: str = "test",
    n: int = DEFAULT_N,
    blur: float | None = None,
    only: int | None = None,
    features: str | None = None,
    weights: str | Path | None = None,
    seed: int = 0,
    extractor: FeatureExtractor | None = None,
    kid_subsets: int = KID_SUBSETS,
) -> dict[str, Any]:
    """Score ``n`` real images of ``split`` (blurred by ``blur`` σ, or only class ``only``) against the reference."""
    t0 = time.perf_counter()
    extractor = extractor or extractor_for_data(data, features, weights)
    quiet = lambda _: None  # noqa: E731
    scored = load_data(DataConfig(name=data, dir=data_dir, split=split), log=quiet)
    reference = load_data(DataConfig(name=data, dir=data_dir, split=reference_split), log=quiet)
    if not scored.is_image:
        raise MetricInputError(f"{data} holds 2-D points; `gankit eval --real` scores image data sets")
    images = scored.x if only is None else only_class(scored.x, scored.y, only)
    images = images[:n]
    if blur is not None:
        images = gaussian_blur(images, blur)
    real = reference.x[:DEFAULT_N]
    subject = {"kind": "real", "data": data, "split": split, "source": scored.source}
    subject |= {"blur_sigma": blur, "only_class": only}
    metrics = score_images(images, real, extractor, seed, kid_subsets)
    protocol = _protocol(extractor, reference, reference_split, len(real), len(images), seed, kid_subsets)
    return _result(subject, protocol, metrics, t0)


def write_result(result: dict[str, Any], path: str | Path) -> Path:
    """Write a result as indented JSON (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(path)
    return path
