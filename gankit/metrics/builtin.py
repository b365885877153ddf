"""gankit's standard metrics, declared into the registry (the math lives in the modules they call).

=========================  ===================================================  ===============================
name                       result keys ("metrics")                              applies to
=========================  ===================================================  ===============================
fid                        fid (Heusel et al. 2017)                             images, with a feature extractor
kid                        kid, kid_std (Bińkowski et al. 2018)                 images, with a feature extractor
prdc                       precision, recall, density, coverage                 images, with a feature extractor
classifier_score           classifier_score (Inception-Score analogue)          grey images, with a classifier
classes                    classes: the class histogram (mode report)           grey images, with a classifier
stacked_modes              modes: the 1,000 Stacked-MNIST modes                 3-channel digits, with a classifier
toy_modes                  modes: the PacGAN 2-D protocol                       2-D points of ring8 / grid25
class_accuracy             class_accuracy (asked class vs classified)           class-conditional runs (CGAN)
categorical_code_accuracy  categorical_code_accuracy (Hungarian matching)       runs with a categorical code
=========================  ===================================================  ===============================

A class counts as covered when it holds at least 10% of its uniform share of the samples. The conditional
metrics are judged by the data set's own classifier; with another extractor they record "not measured".
"""

from __future__ import annotations

import math
from typing import Any

import torch

from gankit.data.toy import TOY_MODES
from gankit.metrics.classifier_score import classifier_score
from gankit.metrics.conditional import class_accuracy_from, hungarian_matching
from gankit.metrics.fid import fid_from_features
from gankit.metrics.kid import kernel_inception_distance
from gankit.metrics.modes import STACKED_MODES, count_toy_modes, mode_report, stacked_mode_labels
from gankit.metrics.prdc import precision_recall_density_coverage
from gankit.metrics.registry import (
    CATEGORICAL,
    CLASSES,
    CLASSIFIER,
    FEATURES,
    GREY,
    IMAGES,
    STACKED,
    Context,
    Metric,
    Need,
    NotMeasured,
    register,
)

COVERED_SHARE = 0.1  # a class is covered when it holds >= 10% of its uniform share of the samples
KID_DEGREE = 3  # the cubic polynomial kernel of Bińkowski et al.
TOY_SIGMAS = 3  # PacGAN: a sample is of high quality within 3σ of its mode

TOY_POINTS = Need("2-D points of a toy mixture (ring8, grid25)", lambda c: not c.is_image and c.data in TOY_MODES)


def _kid_record(c: Context) -> dict[str, Any]:
    size = min(c.protocol.kid_subset_size, len(c.real_features), len(c.fake))
    return {"kid": {"subsets": c.protocol.kid_subsets, "subset_size": size, "degree": KID_DEGREE}}


def _kid(c: Context) -> dict[str, Any]:
    p = c.protocol
    kid, kid_std = kernel_inception_distance(c.real_features, c.fake_features, p.kid_subsets, p.kid_subset_size, p.seed)
    return {"kid": kid, "kid_std": kid_std}


def _classes(c: Context) -> dict[str, Any]:
    k = c.fake_logits.shape[1]
    min_count = max(1, math.ceil(COVERED_SHARE * len(c.fake) / k))
    return {"classes": mode_report(c.fake_logits.argmax(1), k, min_count).to_dict() | {"min_count": min_count}}


def _stacked_modes(c: Context) -> dict[str, Any]:
    extractor = c.extractor
    assert extractor is not None  # CLASSIFIER
    labels = stacked_mode_labels(c.fake, lambda x: extractor.logits(x).argmax(1))
    return {"modes": mode_report(labels, STACKED_MODES).to_dict()}


def judged_predictions(c: Context, groups: int) -> torch.Tensor:
    """The classes the data set's classifier sees in the samples (conditional metrics), or NotMeasured."""
    judge = c.extractor.name if c.extractor is not None else "no extractor"
    if c.extractor is None or c.extractor.logits_fn is None or c.channels != 1 or judge != f"{c.data}-classifier":
        raise NotMeasured(f"needs the {c.data} classifier, not {judge}")
    if len(c.fake) < groups:
        raise NotMeasured(f"{len(c.fake)} samples do not cover every class / category")
    return c.fake_logits.argmax(1)


def _class_accuracy(c: Context) -> dict[str, Any]:
    assert c.space is not None and c.latent is not None and c.latent.y is not None  # CLASSES
    predicted = judged_predictions(c, c.space.num_classes)
    return {"class_accuracy": class_accuracy_from(c.latent.y, predicted, c.space.num_classes).to_dict()}


def _code_accuracy(c: Context) -> dict[str, Any]:
    assert c.space is not None and c.latent is not None  # CATEGORICAL
    predicted = judged_predictions(c, c.space.categorical)
    category = c.space.codes(c.latent.z).category
    matching = hungarian_matching(category, predicted, c.space.categorical, c.fake_logits.shape[1])
    return {"categorical_code_accuracy": matching.to_dict()}


def _judged(c: Context) -> dict[str, Any]:
    return {"n": len(c.fake), "judge": c.extractor.name if c.extractor is not None else None}


register(
    Metric(
        "fid",
        "Fréchet distance of Gaussians fitted to the features",
        (IMAGES, FEATURES),
        lambda c: {"fid": fid_from_features(c.real_features, c.fake_features)},
    )
)
register(
    Metric(
        "kid",
        "kernel (cubic polynomial) MMD² of the features",
        (IMAGES, FEATURES),
        _kid,
        _kid_record,
    )
)
register(
    Metric(
        "prdc",
        "precision, recall, density, coverage by k-NN balls of the features",
        (IMAGES, FEATURES),
        lambda c: precision_recall_density_coverage(c.real_features, c.fake_features, c.protocol.prdc_k).to_dict(),
        lambda c: {"prdc_k": c.protocol.prdc_k},
    )
)
register(
    Metric(
        "classifier_score",
        "Inception Score with the data set's classifier",
        (GREY, CLASSIFIER),
        lambda c: {"classifier_score": classifier_score(c.fake_logits)[0]},
    )
)
register(Metric("classes", "class histogram, classes covered, KL to uniform", (GREY, CLASSIFIER), _classes))
register(Metric("stacked_modes", "the 1,000 Stacked-MNIST modes covered", (STACKED, CLASSIFIER), _stacked_modes))
register(
    Metric(
        "toy_modes",
        "PacGAN 2-D protocol: modes covered, high-quality share",
        (TOY_POINTS,),
        lambda c: {"modes": count_toy_modes(c.fake, TOY_MODES[c.data](), TOY_SIGMAS).to_dict()},
        lambda c: {"data": c.data, "n_sigma": TOY_SIGMAS},
    )
)
register(
    Metric(
        "class_accuracy",
        "share of samples classified as the class asked for",
        (CLASSES,),
        _class_accuracy,
        lambda c: {"class_accuracy": _judged(c) | {"classes": f"0..{c.space.num_classes - 1} in turn"}},
    )
)
register(
    Metric(
        "categorical_code_accuracy",
        "InfoGAN category vs class after Hungarian matching",
        (CATEGORICAL,),
        _code_accuracy,
        lambda c: {
            "categorical_code_accuracy": _judged(c)
            | {
                "categories": f"0..{c.space.categorical - 1} in turn, the other codes from their priors",
                "matching": "one-to-one, most samples matched (Hungarian: scipy.optimize.linear_sum_assignment)",
            }
        },
    )
)
