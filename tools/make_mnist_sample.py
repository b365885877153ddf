"""Build the MNIST sample shipped in ``gankit/data/mnist_sample/`` from the full official IDX files.

    python tools/make_mnist_sample.py --source /path/to/mnist

Selection: for each class (0..9 in turn), ``per_class`` indices drawn without replacement by one
``numpy.random.default_rng(seed)``; the chosen indices are then sorted, so the original order is kept.
Output: IDX gzip files with the standard names (gzip mtime 0, so the bytes are reproducible) and a
README.md with the provenance, licence and SHA-256 of every file.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from gankit.data.datasets import SAMPLE_DIR
from gankit.data.idx import read_idx_pair, write_idx

SPLITS = {"train": ("train", 500), "test": ("t10k", 100)}  # split -> (file prefix, images per class)

README = """\
# Embedded MNIST sample

A small subset of the real MNIST data set, shipped so that `gankit` trains on real digits with no
download. For the full data set pass `--data-dir DIR` (the four IDX files) or `--set data.download=true`.

* **Source:** MNIST, by Yann LeCun, Corinna Cortes and Christopher J. C. Burges,
  <http://yann.lecun.com/exdb/mnist/>. Built from the official files: `train-images-idx3-ubyte.gz`
  (MD5 `{md5_train}`) and `t10k-images-idx3-ubyte.gz` (MD5 `{md5_test}`) with their label files.
* **Copyright and licence:** Yann LeCun and Corinna Cortes hold the copyright of MNIST (a derivative work
  of the NIST data sets). As stated on the MNIST page, it is made available under the Creative Commons
  Attribution-Share Alike 3.0 licence (CC BY-SA 3.0); this subset is distributed under the same licence.
* **Contents:** {n_train:,} training images (500 per class) and {n_test:,} test images (100 per class),
  28x28 grey, with labels. Pixels and labels are unchanged.
* **Selection:** for each class 0..9 in turn, `numpy.random.default_rng({seed})` (one generator for all
  classes) draws the images without replacement from that class's indices; the chosen indices are sorted,
  so the images keep their original order. Train images come from the MNIST training set, test images
  from the MNIST test set.
* **Made with:** `python tools/make_mnist_sample.py --source DIR --seed {seed}` (DIR holding the
  official files); the files are IDX, gzip-compressed with mtime 0.

| file | SHA-256 |
| --- | --- |
{hashes}
"""


def select(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` indices of every class, chosen at random, returned in increasing order."""
    chosen = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(chosen))


def make_sample(source: Path, out: Path, seed: int = 0) -> dict[str, str]:
    """Write the sample into ``out``; return the SHA-256 of each file written."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    hashes, sizes = {}, {}
    for prefix, per_class in SPLITS.values():
        images, labels = f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"
        x, y = read_idx_pair(source / images, source / labels)
        keep = select(y.numpy(), per_class, rng)
        write_idx(out / images, x[keep, 0].numpy())
        write_idx(out / labels, y[keep].numpy().astype(np.uint8))
        sizes[prefix] = len(keep)
        for name in (images, labels):
            hashes[name] = hashlib.sha256((out / name).read_bytes()).hexdigest()
    md5 = {
        n: hashlib.md5((source / n).read_bytes()).hexdigest()
        for n in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")
    }
    table = "\n".join(f"| `{n}` | `{h}` |" for n, h in hashes.items())
    (out / "README.md").write_text(
        README.format(
            md5_train=md5["train-images-idx3-ubyte.gz"],
            md5_test=md5["t10k-images-idx3-ubyte.gz"],
            n_train=sizes["train"],
            n_test=sizes["t10k"],
            seed=seed,
            hashes=table,
        )
    )
    return hashes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder with the four official MNIST .gz files")
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help=f"output folder (default {SAMPLE_DIR})")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name, digest in make_sample(args.source, args.out, args.seed).items():
        print(f"{digest}  {args.out / name}")


if __name__ == "__main__":
    main()
