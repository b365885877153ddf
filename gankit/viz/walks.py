"""Walks through a generator's latent space as frames, for ``gankit animate``: a loop through fixed z's
(slerp for a normal prior, straight lines for a uniform one: :func:`gankit.viz.latent.interpolate`), and
InfoGAN's continuous codes swept back and forth with z fixed (the sweep of ``gankit grid --by c2``, in time).

Every frame is a :func:`gankit.viz.grids.latent_grid`: a row per class or InfoGAN category, the walked z's
in the columns (a square grid for an unconditional G). Both walks end next to where they start, so the
animation loops without a jump.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.trained import TrainedGenerator
from gankit.viz.grids import latent_grid
from gankit.viz.latent import LatentInputError, LatentLayout, interpolate, neutral_input, sample_z

KEYFRAMES = 4  # fixed z's a latent loop passes through (z_0 → z_1 → z_2 → z_3 → z_0)


def segment_lengths(frames: int, segments: int) -> list[int]:
    """``frames`` split into ``segments`` parts as even as can be (the longer ones last)."""
    return [(i + 1) * frames // segments - i * frames // segments for i in range(segments)]


def loop_path(layout: LatentLayout, n: int, frames: int, seed: int = 0) -> torch.Tensor:
    """``frames`` points (frames, n, D) of n latent walks, each through ``KEYFRAMES`` fixed z's and back to the
    first: key k is ``sample_z(layout, n, seed + k)``, so the first frame shows the z's of ``--seed``."""
    if frames < 2:
        raise LatentInputError(f"a latent loop needs at least 2 frames, got {frames}")
    keys = [sample_z(layout, n, seed + k) for k in range(min(KEYFRAMES, frames))]
    parts = []
    for k, length in enumerate(segment_lengths(frames, len(keys))):
        start, end = keys[k], keys[(k + 1) % len(keys)]
        walks = [interpolate(start[i], end[i], length + 1, layout.dist)[:-1] for i in range(n)]
        parts.append(torch.stack(walks, dim=1))
    return torch.cat(parts)


def sweep_values(low: float, high: float, frames: int) -> list[float]:
    """``frames`` values from ``low`` up to ``high`` and back down, the two ends included once each."""
    if frames < 2:
        raise LatentInputError(f"a code sweep needs at least 2 frames, got {frames}")
    up = frames // 2 + 1  # low … high, then the rest of the frames on the way down
    return torch.cat([torch.linspace(low, high, up), torch.linspace(high, low, frames - up + 2)[1:-1]]).tolist()


def interpolation_frames(
    trained: TrainedGenerator, layout: LatentLayout, n: int, frames: int, seed: int = 0
) -> list[np.ndarray]:
    """The frames of :func:`loop_path`: n z's walked at once, drawn with :func:`latent_grid`."""
    return [latent_grid(trained, layout, z) for z in loop_path(layout, n, frames, seed)]


def code_frames(
    trained: TrainedGenerator, layout: LatentLayout, n: int, frames: int, seed: int = 0
) -> tuple[list[np.ndarray], list[str]]:
    """InfoGAN: each continuous code in turn swept over its span (:func:`sweep_values`, ``frames`` frames) with
    n fixed z's (``sample_z(layout, n, seed)``) and the other codes at their centre; labels "c2 = +1.50"."""
    if not layout.continuous:
        raise LatentInputError("this generator has no continuous InfoGAN codes to sweep")
    z = sample_z(layout, n, seed)
    centre = neutral_input(layout, z).continuous
    pictures, labels = [], []
    for i, code in enumerate(layout.continuous):
        for v in sweep_values(code.low, code.high, frames):
            pictures.append(latent_grid(trained, layout, z, (*centre[:i], v, *centre[i + 1 :])))
            labels.append(f"{code.name} = {v:+.2f}")
    return pictures, labels
