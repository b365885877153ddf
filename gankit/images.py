"""Image grids and 2-D scatter plots written as PNG (Pillow), without torchvision or matplotlib."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from gankit.store.outputs import write_atomic


def make_grid(
    images: torch.Tensor | np.ndarray, nrow: int | None = None, padding: int = 2, pad_value: int = 255
) -> np.ndarray:
    """Tile uint8 images (N, C, H, W) into one (H', W', C) array, ``nrow`` images per row (default √N).

    Grey images (C = 1) give an (H', W') array, the shape PIL takes for a grey picture."""
    x = images.cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4:
        raise ValueError(f"expected uint8 images of shape (N, C, H, W), got {x.dtype} {x.shape}")
    n, c, h, w = x.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    grid = np.full((padding + rows * (h + padding), padding + nrow * (w + padding), c), pad_value, np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top : top + h, left : left + w] = x[i].transpose(1, 2, 0)
    return grid[..., 0] if c == 1 else grid


def pil_image(array: np.ndarray) -> Image.Image:
    """A uint8 array (H, W), (H, W, 1) or (H, W, C) as a PIL image; (H, W, 1) becomes a grey (H, W) one, as
    PIL takes no one-channel colour axis."""
    return Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[2] == 1 else array)


def png_bytes(array: np.ndarray, scale: int = 1) -> bytes:
    """An (H, W, C) or (H, W) uint8 array encoded as PNG, enlarged ``scale`` times."""
    img = pil_image(array)
    if scale != 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(array: np.ndarray, path: str | Path, scale: int = 1) -> Path:
    """Write an (H, W, C) or (H, W) uint8 array as PNG (atomically), enlarged ``scale`` times."""
    return write_atomic(path, png_bytes(array, scale), fsync=True)


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None, scale: int = 1) -> Path:
    """Save uint8 images (N, C, H, W) as one PNG grid."""
    return save_png(make_grid(images, nrow), path, scale)


def scatter_png(
    points: torch.Tensor | np.ndarray,
    path: str | Path,
    reference: torch.Tensor | None = None,
    size: int = 512,
    limit: float | None = None,
) -> Path:
    """Plot 2-D points (blue) over optional reference points (grey) on a white square and save as PNG."""
    return save_png(scatter_image(points, reference, size, limit), path)


def scatter_image(
    points: torch.Tensor | np.ndarray,
    reference: torch.Tensor | None = None,
    size: int = 512,
    limit: float | None = None,
) -> np.ndarray:
    """2-D points (blue) over optional reference points (grey) drawn on a white square: (size, size, 3) uint8."""
    pts = np.asarray(points.cpu() if isinstance(points, torch.Tensor) else points, dtype=np.float64)
    ref = None if reference is None else np.asarray(reference.cpu(), dtype=np.float64)
    both = pts if ref is None else np.concatenate([pts, ref])
    finite = both[np.isfinite(both).all(axis=1)]
    lim = limit or (1.1 * float(np.abs(finite).max()) if len(finite) else 1.0) or 1.0
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)

    def to_px(p: np.ndarray) -> np.ndarray:
        return (p / lim * 0.5 + 0.5) * (size - 1) * np.array([1.0, -1.0]) + np.array([0.0, size - 1.0])

    for data, colour in ((ref, (180, 180, 180)), (pts, (31, 119, 180))):
        if data is None:
            continue
        for x, y in to_px(data[np.isfinite(data).all(axis=1)]):
            draw.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=colour)
    return np.asarray(img)
