"""The evaluation protocol: one frozen object with every setting that changes a metric's value.

``Protocol`` is what ``evaluate_run`` / ``evaluate_real`` take and what a result records: its fields
appear under their own names in the result's ``"protocol"`` section, so ``Protocol.from_record`` reads a
result's protocol back (and a result can be reproduced from it). ``None`` fields are filled per data set
by ``Protocol.resolved`` from one table, ``DATA_DEFAULTS``: the sample count (2,500 for the 2-D toys,
PacGAN sec. 5.1; 26,000 for Stacked MNIST, VEEGAN sec. 5.2; 10,000 else, Heusel et al. 2017) and the
feature extractor (gankit's classifier for MNIST-like sets; none for the toys or for other image sets);
and the precision of generation and feature extraction (``gankit.metrics.precision``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from gankit.data.toy import TOY_MODES
from gankit.metrics.errors import MetricInputError
from gankit.metrics.modes import STACKED_SAMPLES, TOY_SAMPLES
from gankit.metrics.precision import PRECISIONS, default_precision

DEFAULT_N = 10_000  # samples scored, and the most reference images used (Heusel et al. 2017)
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000  # Bińkowski et al. 2018
PRDC_K = 5  # Naeem et al. 2020


@dataclass(frozen=True)
class DataDefaults:
    """What a data set's protocol uses unless told otherwise."""

    kind: Literal["images", "points"] = "images"
    n_fake: int = DEFAULT_N
    features: str | None = None  # the feature extractor's name; None: gankit ships none for these images


DATA_DEFAULTS: dict[str, DataDefaults] = {
    "mnist": DataDefaults(features="mnist"),
    "fashion-mnist": DataDefaults(features="fashion-mnist"),
    "stacked-mnist": DataDefaults(n_fake=STACKED_SAMPLES, features="mnist"),  # each channel by the MNIST classifier
    "stacked-mnist-128k": DataDefaults(n_fake=STACKED_SAMPLES, features="mnist"),
    **{name: DataDefaults(kind="points", n_fake=TOY_SAMPLES) for name in TOY_MODES},
}


def data_defaults(data: str) -> DataDefaults:
    """The defaults of data set ``data`` (any other image set: 10,000 samples, no extractor)."""
    return DATA_DEFAULTS.get(data, DataDefaults())


@dataclass(frozen=True)
class Protocol:
    """Every setting of an evaluation; ``None`` means the data set's default (see ``resolved``)."""

    n_fake: int | None = None  # samples scored (generated, or the real images of `gankit eval --real`)
    reference_split: str = "test"  # the reference: the first 10,000 images of this split
    data_dir: str | None = None  # where the data files are (None: the run's data.dir, or the default)
    features: str | None = None  # feature extractor: mnist, fashion-mnist, inception
    weights: str | None = None  # its weights file (None: the shipped classifier)
    seed: int = 0  # seed of z and of the KID subsets
    kid_subsets: int = KID_SUBSETS
    kid_subset_size: int = KID_SUBSET_SIZE
    prdc_k: int = PRDC_K
    metrics: tuple[str, ...] | None = None  # the metrics to compute (None: every default metric that applies)
    precision: str | None = None  # fp32 or bf16 for generation and features (None: gankit.metrics.precision's default)

    def __post_init__(self) -> None:
        if self.n_fake is not None and self.n_fake < 2:
            raise MetricInputError(f"-n must be at least 2, got {self.n_fake}")
        if self.kid_subsets < 1 or self.kid_subset_size < 2 or self.prdc_k < 1:
            raise MetricInputError(
                f"need kid_subsets >= 1, kid_subset_size >= 2, prdc_k >= 1; got {self.kid_subsets}, "
                f"{self.kid_subset_size}, {self.prdc_k}"
            )
        if self.precision is not None and self.precision not in PRECISIONS:
            raise MetricInputError(f"precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        if self.metrics is not None:
            object.__setattr__(self, "metrics", tuple(self.metrics))

    def resolved(self, data: str) -> Protocol:
        """This protocol with the sample count, the extractor and the precision for data set ``data`` filled in."""
        defaults = data_defaults(data)
        features = self.features or (defaults.features if defaults.kind == "images" else None)
        precision = self.precision or (default_precision(features) if defaults.kind == "images" else "fp32")
        return dataclasses.replace(self, n_fake=self.n_fake or defaults.n_fake, features=features, precision=precision)

    def replace(self, **changes: Any) -> Protocol:
        return dataclasses.replace(self, **changes)

    def to_record(self) -> dict[str, Any]:
        """The fields as JSON values (the ``"protocol"`` section of a result starts with them)."""
        record = dataclasses.asdict(self)
        record["metrics"] = None if self.metrics is None else list(self.metrics)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Protocol:
        """The protocol of a result's ``"protocol"`` section (other keys there are facts, not settings)."""
        names = {f.name for f in dataclasses.fields(cls)}
        fields = {key: value for key, value in record.items() if key in names}
        if fields.get("metrics") is not None:
            fields["metrics"] = tuple(fields["metrics"])
        return cls(**fields)


def describe_sample_counts() -> str:
    """The default sample counts in words, e.g. "10,000; 2,500 for ring8, grid25" (for help texts)."""
    by_count: dict[int, list[str]] = {}
    for name, defaults in DATA_DEFAULTS.items():
        if defaults.n_fake != DEFAULT_N:
            by_count.setdefault(defaults.n_fake, []).append(name)
    return "; ".join([f"{DEFAULT_N:,}"] + [f"{n:,} for {', '.join(names)}" for n, names in by_count.items()])
