"""Feature extractors for the metrics: gankit's shipped classifiers, or a local Inception-v3 file.

``load_extractor("mnist")`` / ``load_extractor("fashion-mnist")``: the small CNN of
``gankit.metrics.classifier_net``, trained by ``python -m gankit.metrics.train_evaluator`` and shipped
in ``gankit/metrics/weights/`` as float16 safetensors; the file's SHA-256 is recorded here and checked
on every load. Features: its 128-d penultimate layer; logits: its 10 classes. Images with 3 channels
(Stacked MNIST) are described by the features of each channel, concatenated (3 × 128).

``load_extractor("inception", weights=FILE)``: the standard FID network as the TorchScript file
``inception-2015-12-05.pt`` of NVIDIA's StyleGAN2-ADA / StyleGAN3 metrics (a port of the TensorFlow FID
graph). It is called as ``net(x, return_features=True)`` on uint8 RGB images (N, 3, H, W) of any size
(it resizes to 299×299 itself), as those metrics call it, and returns 2048 pool features. gankit cannot
download it; pass a local copy. Its SHA-256 is recorded in every result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from gankit.data import to_model_input, to_uint8_images
from gankit.metrics.classifier_net import FEATURE_DIM, IMAGE_SHAPE, DigitClassifier
from gankit.metrics.errors import EvaluatorError
from gankit.metrics.precision import autocast
from gankit.registry import Registry
from gankit.store.checkpoint import _sha256

WEIGHTS_DIR = Path(__file__).parent / "weights"

# SHA-256 of the shipped classifier weights (written by gankit.metrics.train_evaluator; see its .json card).
SHIPPED_SHA256: dict[str, str] = {
    "mnist": "b85400a36a039db996cc6786415b6aebc8a9b56ed6db951ea8aad43d5f51567c",
    "fashion-mnist": "3eaa1a08ba704a569bff9a232cb3ad1fd61ab46edf0bf648df9075a00f5ff4af",
}


@dataclass
class FeatureExtractor:
    """Maps images (N, C, H, W) — uint8 pixels, or floats in [−1, 1] as G makes them — to features (N, D)."""

    name: str
    sha256: str
    feature_fn: Callable[[torch.Tensor], torch.Tensor]
    logits_fn: Callable[[torch.Tensor], torch.Tensor] | None = None
    info: dict[str, Any] = field(default_factory=dict)  # e.g. the classifier's test accuracy
    batch_size: int = 500
    head_fn: Callable[[torch.Tensor], torch.Tensor] | None = None  # grey images' logits from their features

    @torch.inference_mode()
    def _batched(
        self, fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, precision: str
    ) -> torch.Tensor:
        if images.dim() != 4:
            raise EvaluatorError(f"{self.name} scores images (N, C, H, W), got a tensor of shape {tuple(images.shape)}")
        with autocast(precision):
            return torch.cat([fn(to_model_input(part)).float() for part in images.split(self.batch_size)])

    def features(self, images: torch.Tensor, precision: str = "fp32") -> torch.Tensor:
        """Float32 features (N, D), computed in ``precision`` (``gankit.metrics.precision``)."""
        return self._batched(self.feature_fn, images, precision)

    def logits(self, images: torch.Tensor, precision: str = "fp32") -> torch.Tensor:
        if self.logits_fn is None:
            raise EvaluatorError(f"the {self.name} extractor gives no class logits for these images")
        return self._batched(self.logits_fn, images, precision)

    @torch.inference_mode()
    def logits_from_features(self, features: torch.Tensor) -> torch.Tensor:
        """The class logits of grey images given their float32 ``features`` (N, D), by the head (float32)."""
        if self.head_fn is None:
            raise EvaluatorError(f"the {self.name} extractor has no head that maps features to logits")
        return self.head_fn(features)

    def protocol(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, **self.info}


def classifier_weights(data: str) -> Path:
    return WEIGHTS_DIR / f"{data}-classifier.safetensors"


def load_classifier(data: str = "mnist", weights: str | Path | None = None) -> tuple[DigitClassifier, str, dict]:
    """The shipped classifier for ``data`` (SHA-256 checked) or one from ``weights``: (model, sha256, card)."""
    path = Path(weights) if weights is not None else classifier_weights(data)
    if not path.is_file():
        shipped = ", ".join(SHIPPED_SHA256) or "none"
        raise EvaluatorError(
            f"no classifier weights at {path} (shipped: {shipped}). Train them with "
            f"`python -m gankit.metrics.train_evaluator --data {data} --data-dir DIR`, or pass --weights FILE"
        )
    sha = _sha256(path)
    if weights is None and SHIPPED_SHA256.get(data) != sha:
        raise EvaluatorError(
            f"{path} has SHA-256 {sha}, not the recorded {SHIPPED_SHA256.get(data)}: the shipped weights are "
            "corrupt or were replaced; reinstall gankit (or pass your own file with --weights)"
        )
    with torch.random.fork_rng(devices=[]):  # its initial weights, drawn and then replaced, leave the stream alone
        model = DigitClassifier()
    try:
        model.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    except Exception as e:  # safetensors or shape errors
        raise EvaluatorError(f"{path} does not hold gankit classifier weights ({e})") from None
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    return model.eval(), sha, card


def classifier_extractor(data: str = "mnist", weights: str | Path | None = None) -> FeatureExtractor:
    model, sha, card = load_classifier(data, weights)
    model = model.to(memory_format=torch.channels_last)  # about 1.7× faster on CPUs

    def check(x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != IMAGE_SHAPE[1:]:
            raise EvaluatorError(
                f"the {data} classifier takes 28×28 images, got {x.shape[-2]}×{x.shape[-1]}: score images of "
                "that size (e.g. train with data.image_size=28), or use --features inception --weights FILE"
            )
        return x

    def channels_last(x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last)

    def features(x: torch.Tensor) -> torch.Tensor:  # per channel, concatenated: (N, C·128)
        x = check(x)
        return torch.cat([model.features(channels_last(x[:, c : c + 1])) for c in range(x.shape[1])], dim=1)

    def logits(x: torch.Tensor) -> torch.Tensor:
        x = check(x)
        if x.shape[1] != 1:
            raise EvaluatorError(f"class logits need grey images; got {x.shape[1]} channels (see stacked_mode_labels)")
        return model(channels_last(x))

    shipped = f"gankit/metrics/weights/{classifier_weights(data).name}"
    info = {"feature_dim": FEATURE_DIM, "test_accuracy": card.get("test_accuracy"), "weights": str(weights or shipped)}
    return FeatureExtractor(f"{data}-classifier", sha, features, logits, info, head_fn=model.head)


def inception_extractor(weights: str | Path) -> FeatureExtractor:
    """The FID Inception-v3 from a local TorchScript file (see the module docstring)."""
    path = Path(weights)
    if not path.is_file():
        raise EvaluatorError(
            f"Inception weights {path} not found; pass the TorchScript file inception-2015-12-05.pt "
            "(from NVIDIA's stylegan2-ada-pytorch metrics) with --weights FILE"
        )
    try:
        net = torch.jit.load(str(path), map_location="cpu").eval()
    except Exception as e:  # torch.jit raises several types
        raise EvaluatorError(f"{path} is not a TorchScript Inception file ({e})") from None

    def features(x: torch.Tensor) -> torch.Tensor:
        rgb = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        return net(to_uint8_images(rgb), return_features=True)

    return FeatureExtractor("inception-v3", _sha256(path), features, None, {"weights": str(path)})


def _inception(weights: str | Path | None) -> FeatureExtractor:
    if weights is None:
        raise EvaluatorError("--features inception needs the weights file: add --weights inception-2015-12-05.pt")
    return inception_extractor(weights)


# name → loader(weights): the shipped classifiers (or ``weights`` of the same network), or a local Inception-v3
EXTRACTORS: Registry[Callable[[str | Path | None], FeatureExtractor]] = Registry(
    "feature extractor",
    {
        "mnist": lambda weights: classifier_extractor("mnist", weights),
        "fashion-mnist": lambda weights: classifier_extractor("fashion-mnist", weights),
        "inception": _inception,
    },
    error=EvaluatorError,
)


def load_extractor(name: str = "mnist", weights: str | Path | None = None) -> FeatureExtractor:
    """The extractor ``name`` of ``EXTRACTORS`` (``mnist``, ``fashion-mnist`` or ``inception``)."""
    return EXTRACTORS.lookup(name)(weights)
