"""Pictures of a generator's output as arrays and PNG bytes: sample grids, traversals, 2-D scatters."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from gankit.data import to_uint8_images
from gankit.images import make_grid, scatter_image
from gankit.run import TrainedGenerator
from gankit.viz.latent import LatentInput, LatentLayout, generator_inputs, neutral_input, traverse


def image_grid(images: torch.Tensor, nrow: int | None = None, scale: int = 1) -> np.ndarray:
    """Float images in [−1, 1] (or uint8), shape (N, C, H, W) → one (H', W', C) uint8 grid."""
    pixels = images if images.dtype == torch.uint8 else to_uint8_images(images)
    grid = make_grid(pixels, nrow)
    return grid.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else grid


def png_bytes(array: np.ndarray) -> bytes:
    """An (H, W, C) or (H, W) uint8 array encoded as PNG."""
    img = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[2] == 1 else array)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


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


def class_grid(trained: TrainedGenerator, layout: LatentLayout, z: torch.Tensor) -> np.ndarray:
    """CGAN: one row per class, the same latent vectors ``z`` (N, D) in every row."""
    rows = [generate(trained, layout, neutral_input(layout, z, label=c)) for c in range(len(layout.classes))]
    return image_grid(torch.cat(rows), nrow=len(z))


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
