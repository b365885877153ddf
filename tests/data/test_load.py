import dataclasses
import gzip
import hashlib
import re
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data import DATASETS, datasets, load_data
from gankit.data.datasets import IDX_DATASETS, SAMPLE_DIR, class_names
from gankit.data.idx import write_idx
from gankit.errors import DataError

from .helpers import write_idx_set


def load(logs=None, **kw):
    return load_data(DataConfig(**kw), log=logs.append if logs is not None else (lambda _: None))


def test_the_embedded_sample_is_inflated_once_and_each_load_gets_its_own_copy(monkeypatch):
    first = load(split="test")

    def read(*args, **kwargs):
        raise AssertionError("the sample was read again")

    monkeypatch.setattr(datasets, "read_idx_pair", read)
    kept = first.x.clone()
    first.x.zero_(), first.y.zero_()
    again = load(split="test")
    assert torch.equal(again.x, kept) and again.y.unique().numel() == 10


def test_registry_names():
    emnist = {f"emnist-{s}" for s in ("balanced", "byclass", "bymerge", "digits", "letters", "mnist")}
    stacked = {"stacked-mnist", "stacked-mnist-128k"}
    assert set(DATASETS) == {"mnist", "fashion-mnist", "kmnist", *stacked, "ring8", "grid25", *emnist}
    classes = {
        "mnist": 10,
        "kmnist": 10,
        "emnist-balanced": 47,
        "emnist-byclass": 62,
        "emnist-bymerge": 47,
        "emnist-digits": 10,
        "emnist-letters": 26,
        "ring8": 8,
        "grid25": 25,
        "stacked-mnist": 1000,
        "stacked-mnist-128k": 1000,
    }
    assert {n: DATASETS[n].num_classes for n in classes} == classes


def test_class_names_come_from_each_data_sets_label_map():
    assert class_names("fashion-mnist", 10)[1] == "Trouser" and class_names("mnist", 10) == tuple("0123456789")
    assert class_names("emnist-letters", 26)[0] == "A" and class_names("emnist-balanced", 47)[36:39] == ("a", "b", "d")
    assert class_names("folder", 3) == ("0", "1", "2")  # unknown names: the label itself
    assert all(len(d.class_names) in (0, d.num_classes) for d in IDX_DATASETS.values())


def test_unknown_name():
    with pytest.raises(DataError, match="Did you mean 'kmnist'"):
        load(name="kmnsit")


# --- the embedded MNIST sample --------------------------------------------------------------------


def test_sample_fallback_with_log_line(no_data):
    logs = []
    data = load(logs)
    assert data.x.shape == (5000, 1, 28, 28) and data.x.dtype == torch.uint8
    assert data.y.dtype == torch.int64 and torch.bincount(data.y).tolist() == [500] * 10
    assert data.y[:5].tolist() == [9, 5, 9, 4, 7]  # MNIST train indices 4, 11, 19, 26, 29
    assert data.name == "mnist" and data.num_classes == 10
    assert data.source == "embedded MNIST sample (5,000 images)"
    assert len(logs) == 1
    assert logs[0].startswith(
        f"data: no MNIST files in {no_data / 'mnist'}; using the embedded MNIST sample (5,000 train images)."
    )
    assert "--data-dir" in logs[0] and "--download" in logs[0] and "data.download" not in logs[0]


def test_sample_test_split(no_data):
    logs = []
    data = load(logs, split="test", limit=300)
    assert data.x.shape == (300, 1, 28, 28)
    assert "(1,000 test images)" in logs[0] and data.source == "embedded MNIST sample (1,000 images)"
    assert torch.bincount(load(split="test").y).tolist() == [100] * 10


def test_sample_files_match_their_readme():
    readme = (SAMPLE_DIR / "README.md").read_text()
    table = dict(re.findall(r"\| `([\w.-]+)` \| `([0-9a-f]{64})` \|", readme))
    assert sorted(table) == sorted(p.name for p in SAMPLE_DIR.glob("*.gz")) and len(table) == 4
    for name, digest in table.items():
        assert hashlib.sha256((SAMPLE_DIR / name).read_bytes()).hexdigest() == digest
    assert "Attribution-Share Alike 3.0" in readme and "LeCun" in readme


def test_sample_pixels_are_plausible_digits(no_data):
    x = load().x.float()
    assert 30 < x.mean() < 36  # MNIST mean pixel ≈ 33.3
    assert (x[:, :, 0, :] == 0).float().mean() > 0.99  # top rows of MNIST digits are background


# --- finding IDX files ----------------------------------------------------------------------------


def test_explicit_dir_with_missing_files_raises(no_data, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    with pytest.raises(DataError) as e:
        load(dir=str(folder))
    message = str(e.value)
    assert str(folder) in message and str(folder / "mnist") in message
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message
    assert "--data-dir" in message and "--download" in message and "data.download" not in message
    assert str(no_data) not in message  # an explicit dir is the only place looked in


def test_env_dir_without_files_raises_instead_of_falling_back(no_data, tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(DataError) as e:
        load()
    assert str(tmp_path / "env") in str(e.value) and str(no_data / "mnist") in str(e.value)


def test_other_sets_have_no_fallback(no_data):
    with pytest.raises(DataError) as e:
        load(name="fashion-mnist", split="test")
    message = str(e.value)
    assert "Fashion-MNIST files not found" in message and str(no_data / "fashion-mnist") in message
    assert "t10k-images-idx3-ubyte.gz" in message and "--download (gankit train)" in message


@pytest.mark.parametrize("layout", ["flat", "named-subfolder"])
def test_files_in_dir_or_dir_slash_name(no_data, tmp_path, layout):
    folder = tmp_path / "d" / ("kmnist" if layout == "named-subfolder" else "")
    x, y = write_idx_set(folder, n=12)
    logs = []
    data = load(logs, name="kmnist", dir=str(tmp_path / "d"))
    assert torch.equal(data.x[:, 0], torch.from_numpy(x)) and data.y.tolist() == y.tolist()
    assert data.source == str(folder / "train-images-idx3-ubyte.gz") and data.num_classes == 10
    assert any("differs from the official Kuzushiji-MNIST file" in line for line in logs)


def test_named_subfolder_wins_over_dir(no_data, tmp_path):
    write_idx_set(tmp_path, n=4)
    write_idx_set(tmp_path / "fashion-mnist", n=6)
    assert len(load(name="fashion-mnist", dir=str(tmp_path))) == 6
    assert len(load(name="mnist", dir=str(tmp_path))) == 4


@pytest.mark.parametrize(
    "names",
    [("train-images-idx3-ubyte", "train-labels-idx1-ubyte"), ("train-images.idx3-ubyte", "train-labels.idx1-ubyte")],
)
def test_uncompressed_and_dotted_names(no_data, tmp_path, names):
    write_idx(tmp_path / names[0], np.full((3, 4, 4), 7, dtype=np.uint8))
    write_idx(tmp_path / names[1], np.array([1, 2, 3], dtype=np.uint8))
    data = load(dir=str(tmp_path), split="train")
    assert data.x.shape == (3, 1, 4, 4) and data.y.tolist() == [1, 2, 3] and (data.x == 7).all()


def test_env_dir_and_cache_dir(no_data, tmp_path, monkeypatch):
    write_idx_set(no_data / "mnist", prefix="t10k", n=5)
    assert len(load(split="test")) == 5  # found in the cache: no sample fallback
    write_idx_set(tmp_path / "env", prefix="t10k", n=7)
    monkeypatch.setenv("GANKIT_DATA_DIR", str(tmp_path / "env"))
    assert len(load(split="test")) == 7  # $GANKIT_DATA_DIR comes before the cache


def test_split_selects_t10k_files(no_data, tmp_path):
    write_idx_set(tmp_path, prefix="train", n=8)
    write_idx_set(tmp_path, prefix="t10k", n=3)
    assert len(load(dir=str(tmp_path))) == 8 and len(load(dir=str(tmp_path), split="test")) == 3


def test_labels_out_of_range(no_data, tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 4, 4), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([3, 12], dtype=np.uint8))
    with pytest.raises(DataError, match=r"3\.\.12") as e:
        load(dir=str(tmp_path))
    assert "train-labels-idx1-ubyte.gz" in str(e.value)


def test_corrupt_file_found_in_dir_is_named(no_data, tmp_path):
    write_idx_set(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"junk")
    with pytest.raises(DataError, match="gzip") as e:
        load(dir=str(tmp_path))
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in str(e.value)


# --- EMNIST ---------------------------------------------------------------------------------------


def test_emnist_is_transposed_upright(no_data, tmp_path):
    stored = np.zeros((2, 5, 5), dtype=np.uint8)
    stored[:, 0, :] = 255  # a bar along the first stored row is a column once upright
    write_idx(tmp_path / "emnist-digits-test-images-idx3-ubyte.gz", stored)
    write_idx(tmp_path / "emnist-digits-test-labels-idx1-ubyte.gz", np.array([4, 9], dtype=np.uint8))
    data = load(name="emnist-digits", dir=str(tmp_path), split="test")
    assert data.x.shape == (2, 1, 5, 5) and data.y.tolist() == [4, 9]
    assert (data.x[:, 0, :, 0] == 255).all() and (data.x[:, 0, :, 1:] == 0).all()


def test_emnist_letters_labels_start_at_zero(no_data, tmp_path):
    write_idx(tmp_path / "emnist-letters-train-images-idx3-ubyte", np.zeros((3, 4, 4), dtype=np.uint8))
    write_idx(tmp_path / "emnist-letters-train-labels-idx1-ubyte", np.array([1, 2, 26], dtype=np.uint8))
    data = load(name="emnist-letters", dir=str(tmp_path))
    assert data.y.tolist() == [0, 1, 25] and data.num_classes == 26


# --- resizing, channels, limit --------------------------------------------------------------------


def test_resize_channels_and_limit(no_data, tmp_path):
    x, _ = write_idx_set(tmp_path, n=10, h=8, w=8)
    data = load(dir=str(tmp_path), image_size=4, channels=3, limit=6)
    assert data.x.shape == (6, 3, 4, 4) and data.x.dtype == torch.uint8 and len(data.y) == 6
    assert torch.equal(data.x[:, 0], data.x[:, 1]) and torch.equal(data.x[:, 0], data.x[:, 2])
    # torch's antialiased bilinear follows Pillow's: an independent implementation to compare against
    pil = np.stack([np.asarray(Image.fromarray(a).resize((4, 4), Image.Resampling.BILINEAR)) for a in x[:6]])
    assert (data.x[:, 0].int() - torch.from_numpy(pil).int()).abs().max() <= 1
    strided = torch.from_numpy(x[:6, ::2, ::2]).int()
    assert (data.x[:, 0].int() - strided).abs().max() > 10  # not mere subsampling
    up = load(dir=str(tmp_path), image_size=16)
    assert up.x.shape == (10, 1, 16, 16)


def test_sample_resized_to_32(no_data):
    data = load(image_size=32, limit=50)
    assert data.x.shape == (50, 1, 32, 32) and 25 < data.x.float().mean() < 45


# --- downloads (a local server stands in for the mirrors) -----------------------------------------


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_through_load_data(no_data, http_root, monkeypatch):
    served, url = http_root
    write_idx_set(served, prefix="t10k", n=9)
    spec = dataclasses.replace(
        DATASETS["kmnist"],
        mirrors=(url + "missing/", url),
        md5={n: md5(served / n) for n in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")},
    )
    monkeypatch.setitem(DATASETS, "kmnist", spec)
    logs = []
    data = load(logs, name="kmnist", split="test", download=True)
    assert len(data) == 9 and data.source == str(no_data / "kmnist" / "t10k-images-idx3-ubyte.gz")
    assert sorted(p.name for p in (no_data / "kmnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert logs[:2] == [
        f"data: downloading {url}missing/t10k-images-idx3-ubyte.gz",
        f"data: downloading {url}t10k-images-idx3-ubyte.gz",
    ]
    logs.clear()
    assert len(load(logs, name="kmnist", split="test", download=True)) == 9
    assert not any("downloading" in line for line in logs)  # found now: no second download


def test_download_into_explicit_dir_with_bad_checksum(no_data, http_root, monkeypatch, tmp_path):
    served, url = http_root
    write_idx_set(served, n=4)
    checksums = {
        "train-images-idx3-ubyte.gz": "0" * 32,
        "train-labels-idx1-ubyte.gz": md5(served / "train-labels-idx1-ubyte.gz"),
    }
    spec = dataclasses.replace(DATASETS["fashion-mnist"], mirrors=(url,), md5=checksums)
    monkeypatch.setitem(DATASETS, "fashion-mnist", spec)
    with pytest.raises(DataError, match="does not match the expected"):
        load(name="fashion-mnist", dir=str(tmp_path / "mine"), download=True)
    assert list((tmp_path / "mine" / "fashion-mnist").iterdir()) == []


def test_emnist_download_extracts_the_split(no_data, http_root, monkeypatch):
    served, url = http_root
    with zipfile.ZipFile(served / "gzip.zip", "w") as z:
        for part, n in (("train", 6), ("test", 2)):
            for kind, array in (
                ("images-idx3", np.full((n, 4, 4), 9, np.uint8)),
                ("labels-idx1", np.arange(n, dtype=np.uint8)),
            ):
                write_idx(served / "tmp.gz", array)
                z.write(served / "tmp.gz", f"gzip/emnist-mnist-{part}-{kind}-ubyte.gz")
        z.writestr("gzip/emnist-digits-train-images-idx3-ubyte.gz", gzip.compress(b"other split"))
    checksums = {"gzip.zip": md5(served / "gzip.zip")}
    spec = dataclasses.replace(DATASETS["emnist-mnist"], mirrors=(url,), md5=checksums)
    monkeypatch.setitem(DATASETS, "emnist-mnist", spec)
    data = load(name="emnist-mnist", split="test", download=True)
    assert data.x.shape == (2, 1, 4, 4) and data.y.tolist() == [0, 1]
    assert (no_data / "emnist" / "gzip.zip").is_file()
    assert sorted(p.name for p in (no_data / "emnist-mnist").iterdir()) == [
        "emnist-mnist-test-images-idx3-ubyte.gz",
        "emnist-mnist-test-labels-idx1-ubyte.gz",
        "emnist-mnist-train-images-idx3-ubyte.gz",
        "emnist-mnist-train-labels-idx1-ubyte.gz",
    ]
