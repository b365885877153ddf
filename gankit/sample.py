"""Write samples of a trained generator to an output named by what it is.

``FILE.npz``: the arrays (uint8 images or float32 2-D points, and the classes of a conditional run);
``FILE.png``: one picture of all the samples (a grid of images, or a scatter of points); ``DIR/`` (a name
ending in ``/``, an existing folder, or a name without a suffix): one PNG file per image, in a new or empty
folder. Any other name is refused. Everything is checked before the first sample is made, and the output is
written under a temporary name (``gankit.store.tempfiles``) renamed into place at the end, so a failing or
killed command leaves no part of an output, and two commands writing the same output leave one of the two.

Samples are generated and written in batches, so any number of them takes bounded memory: the .npz is
written as a stream (each array a ZIP64 member holding an .npy header and then the batches' bytes, which
``numpy.load`` reads as usual), and a folder receives one PNG per batch element as it is made. Before
writing, the free space of the target's file system is checked against the uncompressed size.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from gankit.data import to_uint8_images
from gankit.errors import ConfigError, GankitError
from gankit.images import make_grid, png_bytes, scatter_image
from gankit.memory.available import format_bytes
from gankit.store.outputs import OutputError, check_output_file, check_output_folder, replace, write_atomic
from gankit.store.tempfiles import staged
from gankit.trained import TrainedGenerator, class_cycle

OUTPUTS = "FILE.npz (the arrays), FILE.png (one picture of them all) or DIR/ (one PNG file per image)"
MAX_GRID_IMAGES = 10_000  # images in one FILE.png
MAX_SCATTER_POINTS = 100_000  # 2-D points in one FILE.png


def output_kind(out: str | Path) -> str:
    """What ``out`` names: ``"npz"``, ``"png"`` or ``"folder"`` (see the module's docstring); else an error."""
    text = str(out)
    if text.endswith(("/", os.sep)):
        return "folder"
    suffix = Path(text).suffix.lower()
    if suffix in (".npz", ".png"):
        return suffix[1:]
    if not suffix or os.path.isdir(text):
        return "folder"
    raise ConfigError(f"--out {text}: gankit sample writes {OUTPUTS}; not a {suffix} file")


def check_output(out: str | Path) -> tuple[str, Path]:
    """(kind, path) of a sample output that may be written: a file that is no run's, or a new or empty folder
    outside the runs (a link to a folder: the folder it names)."""
    kind = output_kind(out)
    if kind != "folder":
        return kind, check_output_file(out)
    folder = check_output_folder(out)
    folder = Path(os.path.realpath(folder)) if folder.is_symlink() else folder
    if folder.is_dir() and any(folder.iterdir()):
        raise OutputError(f"--out {out} is a folder that already holds files; give a new or empty folder")
    return kind, folder


def write_samples(
    trained: TrainedGenerator,
    n: int,
    out: str | Path,
    seed: int = 0,
    batch_size: int = 500,
    labels: Sequence[int] | None = None,
) -> list[Path]:
    """Generate ``n`` samples and write them to ``out`` (checked first: :func:`check_output`); return the files
    written (of a folder: the first and the last).

    ``FILE.npz``: one array ``images`` (uint8, N×H×W×C) or ``points`` (float32, N×D); a class-conditional
    run adds ``labels`` (int64, N), the class of each sample. ``FILE.png``: a grid of the images (at most
    10,000) or a scatter of the points. A folder: one PNG per image (000000.png, …). ``labels``: the classes
    asked of a conditional G, in turn (default: all classes in turn). The samples are those of
    ``trained.generate(n, seed, labels=labels)``.
    """
    if n < 1:
        raise ConfigError(f"the number of samples must be positive, got {n}")
    kind, out = check_output(out)
    is_image = len(trained.data_shape) == 3
    if kind == "folder" and not is_image:
        raise ConfigError("2-D point samples are written to FILE.npz or FILE.png; pass --out FILE.npz")
    most = MAX_GRID_IMAGES if is_image else MAX_SCATTER_POINTS
    if kind == "png" and n > most:
        raise ConfigError(
            f"FILE.png shows at most {most:,} samples in one picture, not {n:,}: lower -n or write FILE.npz or DIR/"
        )
    wanted = trained.wanted_labels(labels)
    if kind != "png":
        check_free_space(out, n * sample_bytes(trained.data_shape, wanted is not None))
    batches = _batches(trained, n, seed, labels, batch_size)
    if kind == "npz":
        return [_write_npz(out, n, trained.data_shape, batches, wanted)]
    if kind == "png":
        shown = torch.cat(list(batches))
        picture = make_grid(to_uint8_images(shown)) if is_image else scatter_image(shown)
        return [write_atomic(out, png_bytes(picture), fsync=True)]
    return _write_pngs(out, n, batches)


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
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with staged(out) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                _write_member(archive, "images" if is_image else "points", shape, dtype, map(_as_array, batches))
                if wanted is not None:
                    classes = (class_cycle(wanted, i, min(500_000, n - i)).numpy() for i in range(0, n, 500_000))
                    _write_member(archive, "labels", (n,), np.dtype(np.int64), classes)
            replace(tmp, out)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}; nothing was written") from None
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
    """One PNG per image, numbered from 000000, in a temporary folder renamed to ``out`` (new or empty) at the
    end; returns the first and the last file written."""
    width = max(6, len(str(n - 1)))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with staged(out, folder=True) as tmp:
            i = 0
            for batch in batches:
                for img in _as_array(batch):
                    (tmp / f"{i:0{width}d}.png").write_bytes(png_bytes(img))
                    i += 1
            try:
                os.rename(tmp, out)
            except OSError as e:
                if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                    raise
                raise OutputError(
                    f"--out {out} was filled by another process meanwhile; nothing was written: give a new folder"
                ) from None
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}; nothing was written") from None
    return sorted({out / f"{0:0{width}d}.png", out / f"{n - 1:0{width}d}.png"})
