"""Pictures of a generator's output as arrays and PNG bytes: sample grids, traversals, 2-D scatters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from gankit.data import to_uint8_images
from gankit.images import make_grid, scatter_image
from gankit.trained import TrainedGenerator
from gankit.viz.latent import (
    LatentInput,
    LatentInputError,
    LatentLayout,
    generator_inputs,
    neutral_input,
    sample_z,
    traverse,
)


def image_grid(images: torch.Tensor, nrow: int | None = None, scale: int = 1) -> np.ndarray:
    """Float images in [−1, 1] (or uint8), shape (N, C, H, W) → one (H', W', C) uint8 grid ((H', W') for C = 1)."""
    pixels = images if images.dtype == torch.uint8 else to_uint8_images(images)
    grid = make_grid(pixels, nrow)
    return grid.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else grid


def scatter_array(points: torch.Tensor, reference: torch.Tensor | None = None, size: int = 512) -> np.ndarray:
    """2-D points (blue) over reference points (grey) as an RGB array (the sample scatter of toy data)."""
    return scatter_image(points, reference, size)


@torch.no_grad()
def generate(trained: TrainedGenerator, layout: LatentLayout, inp: LatentInput) -> torch.Tensor:
    """G's output (on the CPU) for a checked input."""
    args = tuple(a.to(trained.device) for a in generator_inputs(layout, inp))
    return trained.generator(*args).float().cpu()


def output_picture(
    out: torch.Tensor, nrow: int | None = None, reference: torch.Tensor | None = None, scale: int = 1
) -> np.ndarray:
    """Images as a grid, or 2-D points as a scatter over the reference data."""
    return image_grid(out, nrow, scale) if out.dim() == 4 else scatter_array(out, reference)


def traversal_grid(
    trained: TrainedGenerator, layout: LatentLayout, z: torch.Tensor, dims: list[int], steps: int = 8
) -> np.ndarray:
    """One row per latent coordinate in ``dims``: that coordinate swept across its range, the rest of z fixed.

    ``z`` is one latent vector (D,) shared by all rows. Image generators only.
    """
    lo, hi = layout.z_range
    values = torch.linspace(lo, hi, steps)
    rows = [traverse(z.unsqueeze(0), d, values) for d in dims]
    out = generate(trained, layout, neutral_input(layout, torch.cat(rows)))
    return image_grid(out, nrow=steps)


def _chosen(values: Sequence[int] | None, count: int, what: str) -> list[int]:
    """``values`` (default 0..count−1), each checked to lie in 0..count−1."""
    if count == 0:
        raise LatentInputError(f"this generator has no {what}")
    chosen = list(range(count)) if values is None else list(values)
    if not chosen or any(not 0 <= v < count for v in chosen):
        raise LatentInputError(f"{what} rows must lie in 0..{count - 1}, got {chosen}")
    return chosen


def class_grid(
    trained: TrainedGenerator, layout: LatentLayout, z: torch.Tensor, classes: Sequence[int] | None = None
) -> np.ndarray:
    """CGAN (Mirza & Osindero 2014): row i is G(z_j, y = classes[i]) for the latent vectors z_j of ``z`` (N, D)
    in the columns; the same z in every row, so a column shows one "style" across classes (default: all)."""
    rows = [
        generate(trained, layout, neutral_input(layout, z, label=c))
        for c in _chosen(classes, len(layout.classes), "classes")
    ]
    return image_grid(torch.cat(rows), nrow=len(z))


def category_grid(
    trained: TrainedGenerator,
    layout: LatentLayout,
    z: torch.Tensor,
    categories: Sequence[int] | None = None,
    continuous: tuple[float, ...] | None = None,
) -> np.ndarray:
    """InfoGAN: row i is the categorical code c1 = categories[i] (default: all), columns the vectors of ``z``
    (N, D), continuous codes at ``continuous`` (default 0) — Chen et al. (2016), Figure 2(a), with rows and
    columns swapped."""
    values = _chosen(categories, layout.categories, "categorical code")
    codes = {} if continuous is None else {"continuous": continuous}
    rows = [generate(trained, layout, neutral_input(layout, z, category=k, **codes)) for k in values]
    return image_grid(torch.cat(rows), nrow=len(z))


def latent_grid(
    trained: TrainedGenerator, layout: LatentLayout, z: torch.Tensor, continuous: tuple[float, ...] | None = None
) -> np.ndarray:
    """G(z) for the latent vectors ``z`` (N, D) as one picture: a row per class (:func:`class_grid`) or InfoGAN
    category (:func:`category_grid`) with the z's in the columns, else a square grid; ``continuous``: InfoGAN's
    continuous codes, the same in every image (default: their centre). Image generators only."""
    if layout.output != "images":
        raise LatentInputError("latent pictures are drawn for image generators; this one makes 2-D points")
    if layout.classes:
        return class_grid(trained, layout, z)
    if layout.categories:
        return category_grid(trained, layout, z, continuous=continuous)
    codes = {} if continuous is None else {"continuous": continuous}
    return image_grid(generate(trained, layout, neutral_input(layout, z, **codes)))


def code_traversal_grid(
    trained: TrainedGenerator,
    layout: LatentLayout,
    z: torch.Tensor,
    code: str,
    steps: int = 10,
    categories: Sequence[int] | None = None,
) -> np.ndarray:
    """InfoGAN latent traversal (Chen et al. 2016, Figure 2(c, d)): row i is the categorical code
    c1 = categories[i] (default: all), column j sets the continuous code ``code`` to low + j·(high − low)/(steps − 1)
    over its span [−2, 2] (the prior is U(−1, 1): the outer columns extrapolate); z (one vector (D,)) and the
    other continuous codes (at 0) are the same in every image."""
    names = [c.name for c in layout.continuous]
    if code not in names:
        raise LatentInputError(f"no continuous code {code!r}; this generator has {', '.join(names) or 'none'}")
    if steps < 2:
        raise LatentInputError(f"a traversal needs at least 2 steps, got {steps}")
    rows = _chosen(categories, layout.categories, "categorical code")
    spec = layout.continuous[names.index(code)]
    category = torch.tensor(rows).repeat_interleave(steps)
    continuous = torch.zeros(len(category), len(names))  # the other codes at 0, the centre of their prior
    continuous[:, names.index(code)] = torch.linspace(spec.low, spec.high, steps).repeat(len(rows))
    latent = layout.space.compose(z.expand(len(category), -1), category, continuous)
    images = trained.generate_from(latent)
    return image_grid(images, nrow=steps)


def figure_grid(
    trained: TrainedGenerator,
    layout: LatentLayout,
    by: str,
    columns: int = 10,
    seed: int = 0,
    rows: Sequence[int] | None = None,
) -> np.ndarray:
    """The figure ``gankit grid`` draws: ``by`` is "class" (:func:`class_grid`), "category"
    (:func:`category_grid`) — ``columns`` seeded z's — or a continuous code's name (:func:`code_traversal_grid`,
    ``columns`` steps, one seeded z). ``rows`` picks and orders the classes / categories."""
    if layout.output != "images":
        raise LatentInputError("grids are drawn for image generators; this one makes 2-D points")
    if not 1 <= columns <= layout.max_batch:
        raise LatentInputError(f"columns must be in 1..{layout.max_batch}, got {columns}")
    if not grid_kinds(layout):
        raise LatentInputError(
            f"this run ({trained.config.recipe}) has no classes or codes to draw rows of: --by class is for "
            "class-conditional runs (recipe cgan), --by category, c2, c3, … for InfoGAN runs (recipe infogan)"
        )
    if by not in grid_kinds(layout):
        raise LatentInputError(f"by must be one of {', '.join(grid_kinds(layout))}; got {by!r}")
    if by == "class":
        return class_grid(trained, layout, sample_z(layout, columns, seed), rows)
    if by == "category":
        return category_grid(trained, layout, sample_z(layout, columns, seed), rows)
    return code_traversal_grid(trained, layout, sample_z(layout, 1, seed)[0], by, columns, rows)


def grid_kinds(layout: LatentLayout) -> list[str]:
    """The ``by`` values that fit a layout: "class" for a CGAN, "category" and the code names for InfoGAN."""
    kinds = ["class"] if layout.classes else []
    kinds += ["category"] if layout.categories else []
    return kinds + ([c.name for c in layout.continuous] if layout.categories else [])


def code_grid(trained: TrainedGenerator, layout: LatentLayout, z: torch.Tensor) -> np.ndarray:
    """InfoGAN: one row per continuous code swept across its range (z[0] fixed), then one row per category
    (columns: the latent vectors ``z`` (N, D)); the other codes stay at their centre."""
    steps, rows = len(z), []
    centre = neutral_input(layout, z[:1]).continuous
    for i, code in enumerate(layout.continuous):
        for v in torch.linspace(code.low, code.high, steps).tolist():
            codes = (*centre[:i], v, *centre[i + 1 :])
            rows.append(generate(trained, layout, neutral_input(layout, z[:1], continuous=codes)))
    for k in range(layout.categories):
        rows.append(generate(trained, layout, neutral_input(layout, z, category=k)))
    return image_grid(torch.cat(rows), nrow=steps)
