import gzip
import struct

import numpy as np
import pytest

from gankit.data.idx import read_idx, read_idx_pair, write_idx
from gankit.errors import DataError, GankitError

from .helpers import tiny_images


@pytest.mark.parametrize("name", ["images-idx3-ubyte.gz", "images-idx3-ubyte"])
def test_round_trip(tmp_path, name):
    x = tiny_images(7, 4, 6)
    path = tmp_path / name
    write_idx(path, x)
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    assert struct.unpack(">IIII", raw[:16]) == (2051, 7, 4, 6)
    assert len(raw) == 16 + 7 * 4 * 6
    out = read_idx(path, 3)
    assert out.shape == (7, 4, 6) and np.array_equal(out.numpy(), x)


def test_gzip_output_is_reproducible(tmp_path):
    x = tiny_images()
    write_idx(tmp_path / "a.gz", x)
    write_idx(tmp_path / "b.gz", x)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_pair_gives_nchw_uint8_and_int64_labels(tmp_path):
    x = tiny_images(5)
    write_idx(tmp_path / "i.gz", x)
    write_idx(tmp_path / "l.gz", np.array([3, 1, 4, 1, 5], dtype=np.uint8))
    images, labels = read_idx_pair(tmp_path / "i.gz", tmp_path / "l.gz")
    assert images.shape == (5, 1, 5, 5) and str(images.dtype) == "torch.uint8"
    assert labels.tolist() == [3, 1, 4, 1, 5] and str(labels.dtype) == "torch.int64"


def test_transpose_for_emnist(tmp_path):
    x = tiny_images(3, 4, 6)
    write_idx(tmp_path / "i", x)
    write_idx(tmp_path / "l", np.zeros(3, dtype=np.uint8))
    images, _ = read_idx_pair(tmp_path / "i", tmp_path / "l", transpose=True)
    assert images.shape == (3, 1, 6, 4)
    assert np.array_equal(images[2, 0].numpy(), x[2].T)


def test_not_gzip(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"this is not gzip data at all")
    with pytest.raises(DataError, match="not a valid gzip file") as e:
        read_idx(path, 3)
    assert str(path) in str(e.value)


def test_gzip_cut_short(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(path, tiny_images(50))
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataError, match="gzip") as e:
        read_idx(path, 3)
    assert str(path) in str(e.value)


def test_truncated_payload(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, tiny_images(4, 5, 5))  # 16 + 100 bytes
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="truncated") as e:
        read_idx(path, 3)
    assert str(path) in str(e.value) and "116 bytes, found 106" in str(e.value)


def test_extra_bytes_are_reported(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(4, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"xx")
    with pytest.raises(DataError, match="longer than its header says"):
        read_idx(path, 1)


def test_wrong_magic_says_what_was_expected(tmp_path):
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    write_idx(labels, np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataError) as e:
        read_idx(labels, 3)  # a label file where images are expected
    message = str(e.value)
    assert str(labels) in message and "2049" in message and "2051" in message
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x12\x34\x56\x78" + bytes(20))
    with pytest.raises(DataError, match="2049") as e:
        read_idx(garbage, 1)
    assert str(garbage) in str(e.value)


def test_wrong_type_code(tmp_path):
    path = tmp_path / "floats-idx3"
    path.write_bytes(struct.pack(">HBB3I", 0, 0x0D, 3, 1, 2, 2) + bytes(16))
    with pytest.raises(DataError, match="float32") as e:
        read_idx(path, 3)
    assert str(path) in str(e.value) and "0x0D" in str(e.value) and "0x08" in str(e.value)


def test_count_mismatch_names_both_files(tmp_path):
    images, labels = tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz"
    write_idx(images, tiny_images(5))
    write_idx(labels, np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataError, match="5 images") as e:
        read_idx_pair(images, labels)
    assert str(images) in str(e.value) and str(labels) in str(e.value) and "4 labels" in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError) as e:
        read_idx(tmp_path / "nope.gz", 3)
    assert "nope.gz" in str(e.value)


def test_write_rejects_non_uint8(tmp_path):
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int32))


def _gzip_stream(path, header: bytes, zeros: int) -> None:
    """A gzip file of ``header`` and then ``zeros`` zero bytes, written without holding them in memory."""
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header)
        block = bytes(1 << 20)
        for start in range(0, zeros, len(block)):
            f.write(block[: min(len(block), zeros - start)])


def test_a_gzip_that_inflates_past_its_header_is_refused_without_inflating_it(tmp_path):
    """Issue 26: a small gzip inflating to 1.5 GB ran out of memory; now reading stops at the header's size."""
    import tracemalloc

    path = tmp_path / "train-images-idx3-ubyte.gz"
    _gzip_stream(path, struct.pack(">HBB3I", 0, 0x08, 3, 2, 28, 28), 64 << 20)  # says 1,568 bytes, holds 64 MiB
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="longer than its header says: a 2x28x28 IDX file has 1584 bytes"):
            read_idx(path, 3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # a few chunks, not the 64 MiB


def test_a_file_whose_header_needs_more_memory_than_there_is_is_refused_with_the_size(tmp_path, monkeypatch):
    from gankit.memory import available

    monkeypatch.setattr(available, "host_memory", lambda: 1 << 20)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    _gzip_stream(path, struct.pack(">HBB3I", 0, 0x08, 3, 4000, 28, 28), 4000 * 28 * 28)  # 3.0 MiB of pixels
    with pytest.raises(GankitError, match=r"4000x28x28 IDX file\) would need about 3.0 MiB, but only 1.0 MiB"):
        read_idx(path, 3)
    monkeypatch.setattr(available, "host_memory", lambda: 1 << 30)
    assert read_idx(path, 3).shape == (4000, 28, 28)
