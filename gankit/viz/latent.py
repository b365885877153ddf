"""What a trained generator takes as input, checked inputs, and paths through its latent space.

:func:`latent_layout` is the one place that says what G is fed: z, and, for conditional models, a class
(CGAN) or InfoGAN codes. The report and the explorer read the layout and show class pickers and code
sliders only when it has them; :func:`generator_inputs` is the one place that turns a checked
:class:`LatentInput` into G's arguments (through :meth:`gankit.latent.LatentSpace.compose`).

InfoGAN's continuous codes have the prior U(−1, 1), but their sliders and sweeps span [−2, 2]
(``CODE_SPAN``), as Chen et al. (2016, Figure 2) sweep them to show that a learned factor (rotation,
width) extrapolates beyond the prior. Codes are numbered as in the paper: the categorical code is c1, the
continuous codes follow (c2, c3; c1, c2, … when there is no categorical code).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from gankit.data.datasets import class_names
from gankit.errors import GankitError
from gankit.latent import LatentSpace
from gankit.trained import TrainedGenerator

CODE_PRIOR = (-1.0, 1.0)  # InfoGAN's continuous codes: c ~ U(−1, 1) (Chen et al. 2016, sec. 5)
CODE_SPAN = (-2.0, 2.0)  # what the explorer and the figures let them take (Chen et al. 2016, Figure 2)


class LatentInputError(GankitError, ValueError):
    """A latent vector, class or code that the generator cannot take (wrong size, out of range, …)."""


@dataclass(frozen=True)
class ContinuousCode:
    """One InfoGAN continuous code: drawn from U(``prior``) in training; inputs may take [low, high]."""

    name: str
    low: float = -1.0
    high: float = 1.0
    prior: tuple[float, float] = CODE_PRIOR


@dataclass(frozen=True)
class LatentLayout:
    """The inputs of a trained G: z's size and prior, and (for conditional models) classes and codes."""

    latent_dim: int
    dist: str  # "uniform" or "normal" (see gankit.latent)
    output: str  # "images" or "points" (2-D toy data)
    classes: tuple[str, ...] = ()  # CGAN: names of the classes G is conditioned on
    continuous: tuple[ContinuousCode, ...] = ()  # InfoGAN continuous codes
    categories: int = 0  # InfoGAN categorical code: number of categories (0: none)

    @property
    def max_batch(self) -> int:
        """The most latent vectors one request may ask G for (images are heavier than 2-D points)."""
        return 64 if self.output == "images" else 5000

    @property
    def z_range(self) -> tuple[float, float]:
        """Range of a z coordinate: the support of U(−1, 1), or ±4σ of N(0, 1)."""
        return (-1.0, 1.0) if self.dist == "uniform" else (-4.0, 4.0)

    @property
    def space(self) -> LatentSpace:
        """The latent space this layout describes (z is its noise part)."""
        return LatentSpace(self.latent_dim, self.dist, len(self.classes), self.categories, len(self.continuous))

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"z_range": list(self.z_range), "max_batch": self.max_batch}


def latent_layout(trained: TrainedGenerator) -> LatentLayout:
    """The layout of a trained run's G, read from its latent space: z is the noise; a CGAN adds its classes
    (named as the data set names them, else "0".."K−1"); InfoGAN its categorical and continuous codes."""
    space = trained.space
    output = "images" if len(trained.data_shape) == 3 else "points"
    first = 2 if space.categorical else 1
    codes = tuple(ContinuousCode(f"c{first + i}", *CODE_SPAN) for i in range(space.continuous))
    classes = class_names(trained.config.data.name, space.num_classes) if space.num_classes else ()
    return LatentLayout(space.noise_dim, space.dist, output, classes, codes, space.categorical)


@dataclass
class LatentInput:
    """A checked batch of G inputs: z (N, latent_dim), a class label and code values shared by the batch."""

    z: Tensor
    label: int | None = None
    continuous: tuple[float, ...] = ()
    category: int | None = None


def neutral_input(layout: LatentLayout, z: Tensor, **fields: Any) -> LatentInput:
    """z with the first class, every continuous code at its centre and category 0; ``fields`` replace these."""
    base = LatentInput(
        z,
        label=0 if layout.classes else None,
        continuous=tuple((c.low + c.high) / 2 for c in layout.continuous),
        category=0 if layout.categories else None,
    )
    return dataclasses.replace(base, **fields)


def _number_list(value: Any, what: str) -> list[float]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        raise LatentInputError(f"{what} must be a list of numbers")
    if not all(math.isfinite(v) for v in value):
        raise LatentInputError(f"{what} holds a value that is not finite")
    return [float(v) for v in value]


def check_z(layout: LatentLayout, z: Any, what: str = "z") -> Tensor:
    """A list of latent vectors (or one vector) → a float tensor (N, latent_dim), checked against the layout."""
    if isinstance(z, list) and z and not isinstance(z[0], list):
        z = [z]
    if not isinstance(z, list) or not z:
        raise LatentInputError(f"{what} must be a non-empty list of latent vectors")
    if len(z) > layout.max_batch:
        raise LatentInputError(f"{what} holds {len(z)} vectors; at most {layout.max_batch} per request")
    rows = [_number_list(v, f"{what}[{i}]") for i, v in enumerate(z)]
    for i, row in enumerate(rows):
        if len(row) != layout.latent_dim:
            raise LatentInputError(f"{what}[{i}] has {len(row)} values; this generator takes {layout.latent_dim}")
    lo, hi = layout.z_range
    if any(not lo <= v <= hi for row in rows for v in row):
        raise LatentInputError(f"{what} values must lie in [{lo:g}, {hi:g}] for a {layout.dist} prior")
    return torch.tensor(rows, dtype=torch.float32)


def check_input(
    layout: LatentLayout, z: Any, label: Any = None, continuous: Any = None, category: Any = None
) -> LatentInput:
    """Check a request against the layout; every problem raises :class:`LatentInputError` with a message."""
    zt = check_z(layout, z)
    if layout.classes:
        if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < len(layout.classes):
            raise LatentInputError(f"label must be a class index in 0..{len(layout.classes) - 1}, got {label!r}")
    elif label is not None:
        raise LatentInputError("this generator is not conditioned on a class; leave out label")
    codes: tuple[float, ...] = ()
    if layout.continuous:
        values = _number_list(continuous, "continuous")
        if len(values) != len(layout.continuous):
            raise LatentInputError(f"continuous takes {len(layout.continuous)} values, got {len(values)}")
        for code, v in zip(layout.continuous, values, strict=True):
            if not code.low <= v <= code.high:
                raise LatentInputError(f"code {code.name} must lie in [{code.low:g}, {code.high:g}], got {v:g}")
        codes = tuple(values)
    elif continuous:
        raise LatentInputError("this generator has no continuous codes; leave out continuous")
    if layout.categories:
        if not isinstance(category, int) or isinstance(category, bool) or not 0 <= category < layout.categories:
            raise LatentInputError(f"category must be in 0..{layout.categories - 1}, got {category!r}")
    elif category is not None:
        raise LatentInputError("this generator has no categorical code; leave out category")
    return LatentInput(zt, label, codes, category)


def generator_inputs(layout: LatentLayout, inp: LatentInput) -> tuple[Tensor, ...]:
    """G's positional arguments for a checked input: ``(z,)``, or ``(z, y)`` for a class-conditional G.

    z is [noise, one-hot(category), continuous codes] (``LatentSpace.compose``); the class label, category
    and code values of ``inp`` are shared by every row.
    """
    n, space = len(inp.z), layout.space
    category = torch.full((n,), inp.category, dtype=torch.long) if space.categorical else None
    continuous = torch.tensor([inp.continuous], dtype=inp.z.dtype).expand(n, -1) if space.continuous else None
    y = torch.full((n,), inp.label, dtype=torch.long) if space.num_classes else None
    latent = space.compose(inp.z, category, continuous, y)
    return (latent.z,) if latent.y is None else (latent.z, latent.y)


def sample_z(layout: LatentLayout, n: int, seed: int) -> Tensor:
    """n latent vectors from the run's prior, seeded (a normal prior is truncated to ±4σ, see ``z_range``)."""
    from gankit.latent import sample_latent

    if not 1 <= n <= layout.max_batch:
        raise LatentInputError(f"n must be in 1..{layout.max_batch}, got {n}")
    rng = torch.Generator().manual_seed(seed)
    return sample_latent(n, layout.latent_dim, layout.dist, "cpu", rng).clamp(*layout.z_range)


def interpolate(z_a: Tensor, z_b: Tensor, steps: int, dist: str) -> Tensor:
    """``steps`` points from z_a to z_b: straight for a uniform prior, spherical (slerp) for a normal one.

    Slerp keeps the norm typical of N(0, I) along the path (White 2016, "Sampling generative networks").
    """
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    if dist != "normal":
        return (1 - t) * z_a + t * z_b
    cos = torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1, 1))
    if omega.abs() < 1e-6:
        return (1 - t) * z_a + t * z_b
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def traverse(z: Tensor, dim: int, values: Tensor) -> Tensor:
    """Each row of z with coordinate ``dim`` set to each of ``values``: (N·V, D), one row of V per vector."""
    out = z.repeat_interleave(len(values), dim=0).clone()
    out[:, dim] = values.repeat(len(z))
    return out
