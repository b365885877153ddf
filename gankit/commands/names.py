"""What the parsers show of the parts that need torch: registry names, the metrics' descriptions, eval's defaults.

Building the parser (``gankit --help``, every ``gankit CMD --help``) must not import torch, which takes seconds;
the modules that hold these facts do. So the facts are read from those modules once (:func:`current`) and kept
in ``names.json`` beside this module; ``tests/commands/test_names.py`` fails while the file differs from
them. After adding a data set, an objective, a metric, … regenerate it with ``python -m gankit.commands.names``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("names.json")
REGENERATE = "python -m gankit.commands.names"


def current() -> dict[str, Any]:
    """The facts, read from the modules that hold them (this imports torch: for regenerating and the test)."""
    from gankit.metrics.catalog import describe, metrics
    from gankit.metrics.extractors import EXTRACTORS
    from gankit.metrics.feature_cache import ENV_DIR
    from gankit.metrics.precision import PRECISIONS
    from gankit.metrics.protocol import KID_SUBSET_SIZE, KID_SUBSETS, describe_sample_counts
    from gankit.theory.demos import DEMOS
    from gankit.training.choices import REGISTRIES

    return {
        "registries": {key: registry.choices for key, registry in REGISTRIES.items()},
        "demos": DEMOS.choices,
        "extractors": EXTRACTORS.choices,
        "metrics": list(metrics()),
        "metrics_help": describe().splitlines(),
        "eval_precisions": list(PRECISIONS),
        "feature_cache_env": ENV_DIR,
        "kid_subsets": KID_SUBSETS,
        "kid_subset_size": KID_SUBSET_SIZE,
        "sample_counts": describe_sample_counts(),
    }


def render(facts: dict[str, Any]) -> str:
    """The text of ``names.json`` for ``facts``."""
    return json.dumps(facts, indent=1, ensure_ascii=False) + "\n"


_FACTS = json.loads(SNAPSHOT.read_text("utf-8"))

REGISTRIES: dict[str, tuple[str, ...]] = {key: tuple(names) for key, names in _FACTS["registries"].items()}
"""The names each registry accepts, by the key a config field declares (``option(registry=…)``)."""
DATASETS = REGISTRIES["datasets"]
SCHEMES = REGISTRIES["schemes"]
DEMOS: tuple[str, ...] = tuple(_FACTS["demos"])
EXTRACTORS: tuple[str, ...] = tuple(_FACTS["extractors"])
METRICS: tuple[str, ...] = tuple(_FACTS["metrics"])
METRICS_HELP: str = "\n".join(_FACTS["metrics_help"])  # gankit.metrics.catalog.describe()
EVAL_PRECISIONS: tuple[str, ...] = tuple(_FACTS["eval_precisions"])
FEATURE_CACHE_ENV: str = _FACTS["feature_cache_env"]
KID_SUBSETS: int = _FACTS["kid_subsets"]
KID_SUBSET_SIZE: int = _FACTS["kid_subset_size"]
SAMPLE_COUNTS: str = _FACTS["sample_counts"]  # gankit.metrics.protocol.describe_sample_counts()


if __name__ == "__main__":
    SNAPSHOT.write_text(render(current()), "utf-8")
    print(f"wrote {SNAPSHOT}")
