"""Write samples of a trained generator: an .npz of uint8 images (or 2-D points), PNG files, a grid.

Samples are generated and written in batches, so any number of them takes bounded memory: the .npz is
written as a stream (each array a ZIP64 member holding an .npy header and then the batches' bytes, which
``numpy.load`` reads as usual), and a folder receives one PNG per batch element as it is made. Before
writing, the free space of the target's file system is checked against the uncompressed size.
"""

from __future__ import annotations

import math
import shutil
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from gankit.data import to_uint8_images
from gankit.errors import ConfigError, GankitError
from gankit.images import save_grid, save_png, scatter_png
from gankit.memory.available import format_bytes
from gankit.trained import TrainedGenerator, class_cycle

SCATTER_POINTS = 10_000  # points drawn in the preview scatter of 2-D samples


def write_samples(
    trained: TrainedGenerator,
    n: int,
    out: str | Path,
    seed: int = 0,
    grid_size: int = 64,
    batch_size: int = 500,
    labels: Sequence[int] | None = None,
) -> list[Path]:
    """Generate ``n`` samples and write them to ``out``; return the files written.

    ``out`` ending in ``.npz``: one array ``images`` (uint8, N×H×W×C) or ``points`` (float32, N×D), plus
    a grid ``<out stem>-grid.png`` beside it (of the first ``grid_size`` images, or a scatter of the first
    10,000 points); a class-conditional run adds ``labels`` (int64, N), the class of each sample. Otherwise
    ``out`` is a folder that receives one PNG per image (000000.png, …) and ``grid.png``. ``labels``: the
    classes asked of a conditional G, in turn (default: all classes in turn). The samples are those of
    ``trained.generate(n, seed, labels=labels)``.
    """
    if n < 1:
        raise ConfigError(f"the number of samples must be positive, got {n}")
    out = Path(out)
    is_image = len(trained.data_shape) == 3
    if out.suffix != ".npz" and not is_image:
        raise ConfigError("2-D point samples are written to an .npz file; pass --out FILE.npz")
    wanted = trained.wanted_labels(labels)
    check_free_space(out, n * sample_bytes(trained.data_shape, wanted is not None))
    batches = _batches(trained, n, seed, labels, batch_size)
    preview: list[torch.Tensor] = []
    keep = grid_size if is_image else SCATTER_POINTS

    def kept(batch: torch.Tensor) -> torch.Tensor:
        if sum(len(p) for p in preview) < keep:
            preview.append(batch[: keep - sum(len(p) for p in preview)])
        return batch

    batches = (kept(b) for b in batches)
    if out.suffix == ".npz":
        written = [_write_npz(out, n, trained.data_shape, batches, wanted)]
        grid_path = out.with_name(out.stem + "-grid.png")
    else:
        written = _write_pngs(out, n, batches)
        grid_path = out / "grid.png"
    shown = torch.cat(preview)
    written.append(save_grid(to_uint8_images(shown), grid_path) if is_image else scatter_png(shown, grid_path))
    return written


def sample_bytes(data_shape: tuple[int, ...], labelled: bool) -> int:
    """Uncompressed bytes of one written sample: uint8 pixels, or float32 coordinates; plus an int64 label."""
    per = math.prod(data_shape) * (1 if len(data_shape) == 3 else 4)
    return per + (8 if labelled else 0)


def check_free_space(out: Path, needed: int) -> None:
    """Refuse to start writing ``needed`` bytes where the file system has less free space."""
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(existing).free
    if needed > free:
        raise GankitError(
            f"the samples need up to {format_bytes(needed)} (uncompressed) but {existing} has "
            f"{format_bytes(free)} free; ask for fewer samples (-n) or write elsewhere (--out)"
        )


def _batches(
    trained: TrainedGenerator, n: int, seed: int, labels: Sequence[int] | None, batch_size: int
) -> Iterator[torch.Tensor]:
    """G's samples (on the CPU) in batches of at most ``batch_size``, in order."""
    for latent in trained.latent_chunks(n, seed, labels):
        for i in range(0, len(latent), batch_size):
            yield trained.generate_from(latent[i : i + batch_size], batch_size)


def _as_array(batch: torch.Tensor) -> np.ndarray:
    """A batch as written: images as uint8 (N, H, W, C), points as float32 (N, D)."""
    if batch.dim() == 4:
        return to_uint8_images(batch).permute(0, 2, 3, 1).numpy()
    return batch.numpy().astype(np.float32)


def _write_npz(
    out: Path, n: int, data_shape: tuple[int, ...], batches: Iterable[torch.Tensor], wanted: torch.Tensor | None
) -> Path:
    """Stream the samples (and their classes) into ``out`` through a temporary file renamed at the end."""
    is_image = len(data_shape) == 3
    shape = (n, *data_shape[1:], data_shape[0]) if is_image else (n, *data_shape)
    dtype = np.dtype(np.uint8 if is_image else np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.npz")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            _write_member(archive, "images" if is_image else "points", shape, dtype, map(_as_array, batches))
            if wanted is not None:
                classes = (class_cycle(wanted, i, min(500_000, n - i)).numpy() for i in range(0, n, 500_000))
                _write_member(archive, "labels", (n,), np.dtype(np.int64), classes)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _write_member(
    archive: zipfile.ZipFile, name: str, shape: tuple[int, ...], dtype: np.dtype, chunks: Iterable[np.ndarray]
) -> None:
    """One ``NAME.npy`` member of an .npz: the .npy header for ``shape`` and ``dtype``, then the chunks' bytes."""
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    with archive.open(f"{name}.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, header)
        for chunk in chunks:
            f.write(np.ascontiguousarray(chunk, dtype=dtype).tobytes())


def _write_pngs(out: Path, n: int, batches: Iterable[torch.Tensor]) -> list[Path]:
    """One PNG per image, numbered from 000000; returns the first and the last file written."""
    out.mkdir(parents=True, exist_ok=True)
    width = max(6, len(str(n - 1)))
    i = 0
    for batch in batches:
        for img in _as_array(batch):
            save_png(img, out / f"{i:0{width}d}.png")
            i += 1
    return sorted({out / f"{0:0{width}d}.png", out / f"{n - 1:0{width}d}.png"})
