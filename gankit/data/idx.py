"""Reader and writer for IDX files (the MNIST format), gzip-compressed (``.gz``) or raw.

Layout: magic ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the payload.
Only type ``0x08`` (unsigned bytes) is used by the MNIST family, so only that type is read.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from gankit.errors import DataError

UBYTE = 0x08
TYPE_NAMES = {0x08: "uint8", 0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"}


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e}") from None
    if not (path.suffix == ".gz" or raw[:2] == b"\x1f\x8b"):
        return raw
    try:
        return gzip.decompress(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as e:
        raise DataError(
            f"{path} is not a valid gzip file ({e}): the file is corrupt or was cut short. "
            f"Delete it and download it again, or decompress a good copy next to it."
        ) from None


def read_idx(path: str | Path, ndim: int) -> torch.Tensor:
    """Read an unsigned-byte IDX file with ``ndim`` dimensions (3 for images, 1 for labels)."""
    path = Path(path)
    data = _read_bytes(path)
    expected_magic = UBYTE << 8 | ndim
    kind = {3: "an image", 1: "a label"}.get(ndim, f"a {ndim}-D")
    if len(data) < 4:
        raise DataError(f"{path} is too short to be an IDX file ({len(data)} bytes); download it again")
    zeros, type_code, file_ndim = struct.unpack(">HBB", data[:4])
    if zeros != 0 or file_ndim != ndim or type_code not in TYPE_NAMES:
        raise DataError(
            f"{path} has magic number {struct.unpack('>I', data[:4])[0]}, but {kind} IDX file "
            f"starts with {expected_magic}: it is not {kind} file (wrong file, or swapped "
            f"image/label files?)"
        )
    if type_code != UBYTE:
        raise DataError(
            f"{path} holds {TYPE_NAMES[type_code]} values (IDX type code 0x{type_code:02X}); "
            f"gankit reads only unsigned-byte IDX files (type 0x08) as used by MNIST"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path} is truncated: its header needs {header} bytes, found {len(data)}; download it again")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + math.prod(dims)
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"{path} is {what}: a {'x'.join(map(str, dims))} IDX file has {expected} bytes, "
            f"found {len(data)}; download it again"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)
    return torch.from_numpy(array.copy())


def read_idx_pair(images: str | Path, labels: str | Path, transpose: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, H, W) uint8 and labels (N,) int64. ``transpose`` swaps H and W (EMNIST's layout)."""
    x = read_idx(images, 3)
    y = read_idx(labels, 1).long()
    if x.shape[0] != y.shape[0]:
        raise DataError(
            f"{images} holds {x.shape[0]} images but {labels} holds {y.shape[0]} labels: "
            f"the two files do not belong together (mixed train/test or different data sets?)"
        )
    if transpose:
        x = x.transpose(1, 2).contiguous()
    return x.unsqueeze(1), y


def write_idx(path: str | Path, array: np.ndarray | torch.Tensor) -> None:
    """Write a uint8 array as an IDX file, gzip-compressed (mtime 0: reproducible) if ``path`` ends in .gz."""
    path = Path(path)
    array = np.ascontiguousarray(array.numpy() if isinstance(array, torch.Tensor) else array)
    if array.dtype != np.uint8:
        raise ValueError(f"write_idx writes uint8 arrays, got {array.dtype}")
    data = struct.pack(f">HBB{array.ndim}I", 0, UBYTE, array.ndim, *array.shape) + array.tobytes()
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)
