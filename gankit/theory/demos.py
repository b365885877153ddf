"""The registry behind ``gankit demo NAME``: each demo writes a figure into a folder and returns its numbers."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit.errors import ConfigError
from gankit.registry import Registry
from gankit.store.outputs import check_output_folder, write_atomic
from gankit.theory.bilinear import bilinear_demo
from gankit.theory.mode_collapse import mode_collapse_demo
from gankit.theory.optimal_d import optimal_d_demo
from gankit.theory.parallel_lines import divergences_demo


@dataclass(frozen=True)
class Demo:
    """A demo: ``function(out, **options)`` draws into the folder ``out``; ``options`` are the keywords it takes."""

    function: Callable[..., dict]
    summary: str
    options: frozenset[str] = frozenset()


DEMOS: Registry[Demo] = Registry(
    "demo",
    {
        "bilinear": Demo(
            bilinear_demo,
            "min_x max_y xy: simultaneous spirals out, alternating circles, extragradient and optimistic converge",
            frozenset({"eta", "steps"}),
        ),
        "optimal-d": Demo(
            optimal_d_demo, "a trained D matches p_r/(p_r+p_g) and max_D V = 2·JS − log 4", frozenset({"steps"})
        ),
        "divergences": Demo(divergences_demo, "KL, JS and W₁ on the parallel lines; the saturating minimax G loss"),
        "mode-collapse": Demo(
            mode_collapse_demo,
            "a GAN on the 8-Gaussian ring hops between modes (try --scheme)",
            frozenset({"steps", "scheme"}),
        ),
    },
)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# The values a numeric option may take: (low, high, what it is); low is excluded for η, included for steps
OPTION_RANGES: dict[str, tuple[float, float, str]] = {
    "eta": (0.0, 2.0, "the step size η, in (0, 2]"),
    "steps": (1, 100_000, "the number of steps, in 1..100000"),
}


def check_option(name: str, value: Any) -> None:
    """Raise ConfigError for a numeric option outside its range (see ``OPTION_RANGES``)."""
    if name not in OPTION_RANGES:
        return
    low, high, what = OPTION_RANGES[name]
    above_low = value > low if isinstance(low, float) else value >= low
    if not (isinstance(value, (int, float)) and math.isfinite(value) and above_low and value <= high):
        raise ConfigError(f"--{name} is {what}; got {value}")


def run_demo(name: str, out: str | Path, **options: Any) -> dict:
    """Run the demo ``name`` into the folder ``out``; its numbers also go to a JSON file beside the figure."""
    demo = DEMOS.lookup(name)
    refused = set(options) - demo.options
    if refused:
        accepted = ", ".join("--" + o for o in sorted(demo.options)) or "no options"
        raise ConfigError(f"demo {name} takes {accepted}; not {', '.join('--' + o for o in sorted(refused))}")
    for option, value in options.items():
        check_option(option, value)
    check_output_folder(out)
    results = _plain(demo.function(out, **options))
    write_atomic(Path(results["figure"]).with_suffix(".json"), json.dumps(results, indent=2), fsync=True)
    return results
