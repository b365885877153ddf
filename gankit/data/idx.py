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
from typing import BinaryIO

import numpy as np
import torch

from gankit.errors import DataError
from gankit.memory import available

UBYTE = 0x08
CHUNK = 1 << 22  # bytes read (and inflated) at a time
TYPE_NAMES = {0x08: "uint8", 0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"}


def _open(path: Path) -> BinaryIO:
    """``path`` as a stream of its IDX bytes: inflated as it is read if it is gzip (by name or magic number)."""
    try:
        raw = path.open("rb")
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    if path.suffix == ".gz" or raw.peek(2)[:2] == b"\x1f\x8b":
        raw.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return raw


def _bad_gzip(path: Path, error: Exception) -> DataError:
    return DataError(
        f"{path} is not a valid gzip file ({error}): the file is corrupt or was cut short. "
        f"Delete it and download it again, or decompress a good copy next to it."
    )


def _read_header(stream: BinaryIO, n: int) -> bytes:
    """The first ``n`` bytes of ``stream`` (fewer only if it ends before)."""
    parts, left = [], n
    while left and (part := stream.read(left)):
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _read_into(stream: BinaryIO, into: memoryview) -> int:
    """Fill ``into`` from ``stream`` a chunk at a time; the bytes read (fewer only at the stream's end)."""
    done = 0
    while done < len(into) and (count := stream.readinto(into[done : done + CHUNK])):
        done += count
    return done


def read_idx(path: str | Path, ndim: int) -> torch.Tensor:
    """Read an unsigned-byte IDX file with ``ndim`` dimensions (3 for images, 1 for labels).

    The file is streamed (a gzip file inflated as it is read) into one array of the size its header gives,
    after checking that this size fits in memory; a file holding more than its header says is refused
    without reading past the header's size (a small gzip file may inflate to gigabytes).
    """
    path = Path(path)
    try:
        with _open(path) as stream:
            return _read_stream(stream, path, ndim)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise _bad_gzip(path, e) from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None


def _read_stream(stream: BinaryIO, path: Path, ndim: int) -> torch.Tensor:
    head = _read_header(stream, 4 + 4 * ndim)
    expected_magic = UBYTE << 8 | ndim
    kind = {3: "an image", 1: "a label"}.get(ndim, f"a {ndim}-D")
    if len(head) < 4:
        raise DataError(f"{path} is too short to be an IDX file ({len(head)} bytes); download it again")
    zeros, type_code, file_ndim = struct.unpack(">HBB", head[:4])
    if zeros != 0 or file_ndim != ndim or type_code not in TYPE_NAMES:
        raise DataError(
            f"{path} has magic number {struct.unpack('>I', head[:4])[0]}, but {kind} IDX file "
            f"starts with {expected_magic}: it is not {kind} file (wrong file, or swapped "
            f"image/label files?)"
        )
    if type_code != UBYTE:
        raise DataError(
            f"{path} holds {TYPE_NAMES[type_code]} values (IDX type code 0x{type_code:02X}); "
            f"gankit reads only unsigned-byte IDX files (type 0x08) as used by MNIST"
        )
    header = 4 + 4 * ndim
    if len(head) < header:
        raise DataError(f"{path} is truncated: its header needs {header} bytes, found {len(head)}; download it again")
    dims = struct.unpack(f">{ndim}I", head[4:header])
    payload, shape = math.prod(dims), "x".join(map(str, dims))
    if not isinstance(stream, gzip.GzipFile) and path.stat().st_size != header + payload:
        raise _wrong_length(path, shape, header + payload, path.stat().st_size)  # told before allocating
    what = f"reading {path} (a {shape} IDX file)"
    available.check_fits(payload, available.host_memory(), what, "use a smaller data file")
    array = np.empty(payload, dtype=np.uint8)
    found = header + _read_into(stream, memoryview(array))
    if found < header + payload:
        raise _wrong_length(path, shape, header + payload, found)
    if stream.read(1):
        raise _wrong_length(path, shape, header + payload, None)
    return torch.from_numpy(array.reshape(dims))


def _wrong_length(path: Path, shape: str, expected: int, found: int | None) -> DataError:
    """The error for a file of ``found`` bytes (None: more than ``expected``) that should have ``expected``."""
    what = "truncated" if found is not None and found < expected else "longer than its header says"
    return DataError(
        f"{path} is {what}: a {shape} IDX file has {expected} bytes, found {found if found is not None else 'more'}; "
        "download it again"
    )


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
