"""Metrics of what a GAN learned, offline, each result carrying its protocol.

- FID (``fid``), KID (``kid``), precision/recall/density/coverage (``prdc``) in a feature space;
- the classifier score (``classifier_score``), an Inception-Score analogue;
- conditional generators (``conditional``): a CGAN's per-class accuracy, InfoGAN's categorical-code
  accuracy after the best one-to-one (Hungarian) matching of categories to classes;
- mode-collapse diagnostics (``modes``): class histograms, modes covered, KL to uniform, the PacGAN 2-D
  protocol and the Stacked-MNIST 1,000-mode count;
- the sliced Wasserstein distance of image patches (``swd``; Karras et al. 2018, app. D);
- feature extractors (``extractors``): gankit's shipped MNIST / Fashion-MNIST classifiers
  (``classifier_net``, trained by ``python -m gankit.metrics.train_evaluator``) or a local Inception-v3;
- the registry (``registry``): each metric declares when it applies, how it is computed and what it records;
  the standard ones are declared in ``builtin``, and ``catalog`` imports every metric module;
- ``Protocol`` (``protocol``): every setting of an evaluation, with the per-data-set defaults;
- ``evaluate_run`` / ``evaluate_real`` (``evaluate``): the metrics that apply (or those selected), as JSON
  with their protocol (``gankit eval``).
"""

from gankit.metrics.catalog import is_valid_metric, metrics
from gankit.metrics.classifier_score import classifier_score
from gankit.metrics.conditional import (
    ClassAccuracy,
    CodeMatching,
    categorical_code_accuracy,
    class_accuracy,
    hungarian_matching,
)
from gankit.metrics.errors import EvaluatorError, MetricInputError
from gankit.metrics.evaluate import evaluate_real, evaluate_run, score_images, write_result
from gankit.metrics.extractors import FeatureExtractor, load_extractor
from gankit.metrics.fid import fid_from_features, frechet_distance
from gankit.metrics.kid import kernel_inception_distance
from gankit.metrics.modes import (
    ModeReport,
    ToyModeReport,
    class_histogram,
    count_toy_modes,
    mode_report,
    reverse_kl_to_uniform,
    stacked_mode_labels,
)
from gankit.metrics.prdc import PRDC, precision_recall_density_coverage
from gankit.metrics.protocol import Protocol
from gankit.metrics.registry import Context, Metric, NotMeasured, register

__all__ = [
    "PRDC",
    "ClassAccuracy",
    "CodeMatching",
    "Context",
    "EvaluatorError",
    "FeatureExtractor",
    "Metric",
    "MetricInputError",
    "ModeReport",
    "NotMeasured",
    "Protocol",
    "ToyModeReport",
    "categorical_code_accuracy",
    "class_accuracy",
    "class_histogram",
    "classifier_score",
    "count_toy_modes",
    "evaluate_real",
    "evaluate_run",
    "fid_from_features",
    "frechet_distance",
    "hungarian_matching",
    "is_valid_metric",
    "kernel_inception_distance",
    "load_extractor",
    "metrics",
    "mode_report",
    "precision_recall_density_coverage",
    "register",
    "reverse_kl_to_uniform",
    "score_images",
    "stacked_mode_labels",
    "write_result",
]
