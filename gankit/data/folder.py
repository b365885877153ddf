"""Any folder of images (PNG, JPEG, BMP, WebP), read with Pillow.

Images are found recursively. If they sit in sub-folders, each first-level sub-folder is a class
(labels = index in sorted order, the ImageFolder convention); otherwise there are no labels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gankit.data.tensors import TensorData
from gankit.errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def find_images(root: Path) -> list[Path]:
    """Image files under ``root`` in sorted order, skipping hidden files and folders."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in EXTENSIONS
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _open(path: Path, channels: int | None, size: int | None) -> tuple[np.ndarray, bool]:
    """The image as uint8 (H, W, C) after mode conversion and resizing, and whether it was in colour."""
    try:
        with Image.open(path) as img:
            img.load()
            colour = img.mode not in GREY_MODES
            mode = {1: "L", 3: "RGB"}.get(channels or 0, "RGB" if colour else "L")
            img = img.convert(mode)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"cannot read image {path}: {e}. Remove or replace the file.") from None
    if size is not None:
        scale = size / min(img.size)
        w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
        img = img.resize((w, h), Image.Resampling.BILINEAR)
        left, top = (w - size) // 2, (h - size) // 2
        img = img.crop((left, top, left + size, top + size))
    array = np.asarray(img, dtype=np.uint8)
    return (array[:, :, None] if array.ndim == 2 else array), colour


def load_folder(
    root: str | Path,
    image_size: int | None = None,
    channels: int | None = None,
    limit: int | None = None,
    log: Callable[[str], None] = print,
) -> TensorData:
    """Load every image under ``root`` into one uint8 tensor (N, C, H, W).

    ``image_size``: resize the shorter side to it, then centre crop; None requires all images to share a size.
    ``channels``: 1 (grey) or 3 (RGB); None gives RGB if any image is in colour, else grey.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(
            f"image folder {root} does not exist (or is not a folder); set data.dir / --data-dir to a folder of images"
        )
    paths = find_images(root)
    if not paths:
        raise DataError(f"no images found in {root} (searched recursively for {', '.join(EXTENSIONS)})")
    in_subfolders = [p for p in paths if len(p.relative_to(root).parts) > 1]
    classes: list[str] = []
    if in_subfolders:
        if len(in_subfolders) < len(paths):
            log(
                f"data: ignoring {len(paths) - len(in_subfolders)} image(s) directly in {root}: "
                f"with class sub-folders only their images are used"
            )
        paths = in_subfolders
        classes = sorted({p.relative_to(root).parts[0] for p in paths})
    paths = paths[:limit]

    arrays, colours = [], []
    for p in paths:
        array, colour = _open(p, channels, image_size)
        if arrays and array.shape[:2] != arrays[0].shape[:2]:
            (h0, w0), (h, w) = arrays[0].shape[:2], array.shape[:2]
            raise DataError(
                f"images differ in size: {paths[0]} is {w0}x{h0} but {p} is {w}x{h}; "
                f"set data.image_size to resize them all"
            )
        arrays.append(array)
        colours.append(colour)
    if channels is None and any(colours):
        arrays = [np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a for a in arrays]
    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()

    y = None
    if classes:
        index = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([index[p.relative_to(root).parts[0]] for p in paths], dtype=torch.int64)
        shown = ", ".join(f"{c}={i}" for i, c in enumerate(classes[:10]))
        shown += ", ..." if len(classes) > 10 else ""
        log(f"data: {len(classes)} classes from the sub-folders of {root}: {shown}")
    return TensorData(x, y, "folder", str(root), len(classes) or None)
