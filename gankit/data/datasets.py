"""The IDX data sets (MNIST, Fashion-MNIST, KMNIST, EMNIST): file names, mirrors, checksums, where to look.

Files are looked for, first match wins, in ``cfg.dir/<name>/`` and ``cfg.dir``; without ``cfg.dir``, in
``$GANKIT_DATA_DIR/<name>/``, ``$GANKIT_DATA_DIR`` and the cache dir ``$XDG_CACHE_HOME/gankit/data/<name>``
(default ``~/.cache/gankit/data/<name>``). Each file may be gzip-compressed (``.gz``) or not, and may use the
``train-images.idx3-ubyte`` spelling. Downloads go to ``cfg.dir/<name>/`` or the cache dir.
"""

from __future__ import annotations

import functools
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gankit.config import DataConfig
from gankit.data.download import download, file_md5
from gankit.data.idx import read_idx_pair
from gankit.data.tensors import TensorData
from gankit.errors import DataError

ENV_DIR = "GANKIT_DATA_DIR"
SAMPLE_DIR = Path(__file__).parent / "mnist_sample"

# Checksums: the published MD5s of the official .gz files (also used by torchvision.datasets).
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
KMNIST_MIRRORS = ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",)
KMNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
    "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
    "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
    "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
}
# EMNIST (Cohen et al. 2017) ships all six splits in one zip, ``gzip/emnist-<split>-<train|test>-...gz``.
EMNIST_MIRRORS = ("https://biometrics.nist.gov/cs_links/EMNIST/", "https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/")
EMNIST_ARCHIVE = "gzip.zip"
EMNIST_MD5 = {EMNIST_ARCHIVE: "58c8d27c78d21e728a6bc7b3cc06412e"}


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "gankit" / "data"


def search_dirs(cfg: DataConfig, name: str) -> list[Path]:
    """The folders looked in, in order: ``cfg.dir`` alone if given, else ``$GANKIT_DATA_DIR``, the cache."""
    if cfg.dir is not None:
        return [Path(cfg.dir).expanduser() / name, Path(cfg.dir).expanduser()]
    env = os.environ.get(ENV_DIR)
    dirs = [Path(env).expanduser() / name, Path(env).expanduser()] if env else []
    return [*dirs, cache_root() / name]


def download_dir(cfg: DataConfig, name: str) -> Path:
    return (Path(cfg.dir).expanduser() if cfg.dir is not None else cache_root()) / name


def _spellings(gz_name: str) -> list[str]:
    """``train-images-idx3-ubyte.gz`` may also sit uncompressed, or as ``train-images.idx3-ubyte``."""
    raw = gz_name.removesuffix(".gz")
    dotted = raw.replace("-idx", ".idx", 1)
    return [gz_name, raw, dotted, dotted + ".gz"]


def find_files(dirs: list[Path], names: list[str]) -> list[Path] | None:
    """The first folder holding all ``names`` (in any accepted spelling): their paths, else None."""
    for folder in dirs:
        found = [next((folder / s for s in _spellings(n) if (folder / s).is_file()), None) for n in names]
        if all(found):
            return found
    return None


@dataclass(frozen=True)
class IdxDataset:
    """IDX files ``<prefix><train|test>-images-idx3-ubyte.gz`` and ``<prefix>...-labels-idx1-ubyte.gz``."""

    name: str
    description: str
    num_classes: int
    mirrors: tuple[str, ...]
    md5: dict[str, str] = field(default_factory=dict)  # file name -> MD5 of the official file
    prefix: str = ""
    test_name: str = "t10k"
    transpose: bool = False  # EMNIST stores images transposed
    label_offset: int = 0  # subtracted from the labels (EMNIST letters: 1..26 -> 0..25)
    archive: str | None = None  # the files come inside this zip (EMNIST), fetched from ``mirrors``
    class_names: tuple[str, ...] = ()  # what label i means; empty: the labels are the digits 0..9

    def files(self, split: str) -> list[str]:
        part = "train" if split == "train" else self.test_name
        return [f"{self.prefix}{part}-images-idx3-ubyte.gz", f"{self.prefix}{part}-labels-idx1-ubyte.gz"]

    def load(self, cfg: DataConfig, log: Callable[[str], None] = print) -> TensorData:
        names = self.files(cfg.split)
        dirs = search_dirs(cfg, self.name)
        paths = find_files(dirs, names)
        if paths is None and cfg.download:
            paths = self.fetch(download_dir(cfg, self.name), cfg.split, log)
        if paths is None:
            if self.name == "mnist" and cfg.dir is None and not os.environ.get(ENV_DIR):
                return load_mnist_sample(cfg.split, log, dirs)
            raise self._missing(dirs, names, download_dir(cfg, self.name))
        self._check_md5(paths, log)
        x, y = read_idx_pair(paths[0], paths[1], transpose=self.transpose)
        y -= self.label_offset
        if len(y) and (y.min() < 0 or y.max() >= self.num_classes):
            low, high = int(y.min()) + self.label_offset, int(y.max()) + self.label_offset
            raise DataError(
                f"{paths[1]} has labels {low}..{high}, which do not fit the {self.num_classes} "
                f"classes of {self.description}: are these the files of another data set?"
            )
        return TensorData(x, y, self.name, str(paths[0]), self.num_classes)

    def fetch(self, dest: Path, split: str, log: Callable[[str], None]) -> list[Path]:
        """Download the split's files (or the archive holding them) into ``dest``; return their paths."""
        if self.archive is None:
            names = self.files(split)
            for n in names:
                download([m + n for m in self.mirrors], dest / n, self.md5.get(n), log)
            return [dest / n for n in names]
        archive = dest.parent / "emnist" / self.archive
        if not (archive.is_file() and file_md5(archive) == self.md5[self.archive]):
            download([m + self.archive for m in self.mirrors], archive, self.md5[self.archive], log)
        extract(archive, self.files("train") + self.files("test"), dest)
        return [dest / n for n in self.files(split)]

    def _check_md5(self, paths: list[Path], log: Callable[[str], None]) -> None:
        for p in paths:
            expected = self.md5.get(p.name)
            if expected and file_md5(p) != expected:
                log(
                    f"data: warning: {p} differs from the official {self.description} file "
                    f"(MD5 {expected}); check that --data-dir points at {self.description}"
                )

    def _missing(self, dirs: list[Path], names: list[str], dest: Path) -> DataError:
        looked = ", ".join(str(d) for d in dirs)
        return DataError(
            f"{self.description} files not found: looked in {looked} for {names[0]} and {names[1]} "
            f"(uncompressed copies without .gz also work) — pass --data-dir DIR with these files "
            f"(in DIR or DIR/{self.name}/), or add --download (gankit train) to fetch them into {dest}"
        )


def extract(archive: Path, names: list[str], dest: Path) -> None:
    """Copy the members called ``names`` (in any folder of the zip) to ``dest``, each via a temporary file."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as z:
            members = {Path(m).name: m for m in z.namelist()}
            for n in names:
                if n not in members:
                    raise DataError(f"{archive} has no member {n}; delete the archive and download it again")
                fd, tmp = tempfile.mkstemp(prefix=f".{n}.", suffix=".part", dir=dest)
                try:
                    with os.fdopen(fd, "wb") as out, z.open(members[n]) as src:
                        while block := src.read(1 << 20):
                            out.write(block)
                    os.replace(tmp, dest / n)
                finally:
                    Path(tmp).unlink(missing_ok=True)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"cannot extract from {archive} ({e}); delete it and download it again") from None


@functools.cache
def _sample_tensors(prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The sample's images and labels, inflated once per process (17 ms each time on a 2-core AVX2 AMD EPYC; a
    process may load it often): callers get copies."""
    return read_idx_pair(SAMPLE_DIR / f"{prefix}-images-idx3-ubyte.gz", SAMPLE_DIR / f"{prefix}-labels-idx1-ubyte.gz")


def load_mnist_sample(split: str, log: Callable[[str], None], searched: list[Path]) -> TensorData:
    """The real-MNIST sample shipped with gankit (5,000 train / 1,000 test images, 10 classes balanced)."""
    x, y = (t.clone() for t in _sample_tensors("train" if split == "train" else "t10k"))
    looked = ", ".join(str(d) for d in searched)
    log(
        f"data: no MNIST files in {looked}; using the embedded MNIST sample ({len(x):,} {split} images). "
        f"For the full set pass --data-dir DIR (IDX files) or --download."
    )
    return TensorData(x, y, "mnist", f"embedded MNIST sample ({len(x):,} images)", 10)


def _emnist(split: str, num_classes: int, label_offset: int = 0, class_names: str = "") -> IdxDataset:
    return IdxDataset(
        f"emnist-{split}",
        f"EMNIST {split}",
        num_classes,
        EMNIST_MIRRORS,
        EMNIST_MD5,
        prefix=f"emnist-{split}-",
        test_name="test",
        transpose=True,
        label_offset=label_offset,
        archive=EMNIST_ARCHIVE,
        class_names=tuple(class_names),
    )


# Class names from each data set's own label map (Fashion-MNIST's README, KMNIST's kmnist_classmap.csv,
# EMNIST's emnist-<split>-mapping.txt; the letters split merges upper and lower case).
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
KMNIST_CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")  # お き す つ な は ま や れ を
_DIGITS, _UPPER, _LOWER = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
_MERGED = _DIGITS + _UPPER + "abdefghnqrt"  # balanced / bymerge: 11 lower-case letters kept apart

IDX_DATASETS = {
    "mnist": IdxDataset("mnist", "MNIST", 10, MNIST_MIRRORS, MNIST_MD5),
    "fashion-mnist": IdxDataset(
        "fashion-mnist", "Fashion-MNIST", 10, FASHION_MIRRORS, FASHION_MD5, class_names=FASHION_CLASSES
    ),
    "kmnist": IdxDataset("kmnist", "Kuzushiji-MNIST", 10, KMNIST_MIRRORS, KMNIST_MD5, class_names=KMNIST_CLASSES),
    "emnist-balanced": _emnist("balanced", 47, class_names=_MERGED),
    "emnist-byclass": _emnist("byclass", 62, class_names=_DIGITS + _UPPER + _LOWER),
    "emnist-bymerge": _emnist("bymerge", 47, class_names=_MERGED),
    "emnist-digits": _emnist("digits", 10),
    "emnist-letters": _emnist("letters", 26, label_offset=1, class_names=_UPPER),
    "emnist-mnist": _emnist("mnist", 10),
}


def class_names(data_name: str, num_classes: int) -> tuple[str, ...]:
    """What each label of ``data_name`` means, e.g. "Trouser" for Fashion-MNIST's 1; "0", "1", … otherwise."""
    dataset = IDX_DATASETS.get(data_name)
    if dataset is not None and len(dataset.class_names) == num_classes:
        return dataset.class_names
    return tuple(str(i) for i in range(num_classes))
