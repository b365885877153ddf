"""Which digits does a trained MNIST run generate? A rough check by nearest neighbours in pixel space.

Each generated image gets the label of its nearest MNIST test image (Euclidean distance on pixels); the
script prints the class histogram and, as a calibration, the same 1-NN rule's accuracy on held-out real
images. This is a quick sanity check, not a quality metric: pixel 1-NN is a weak classifier.

    python benchmarks/knn_class_coverage.py RUN --data-dir ../shared/data/mnist [-n 2000]
"""

from __future__ import annotations

import argparse

import torch

from gankit.config import DataConfig
from gankit.data import load_data, to_model_input
from gankit.run import load_generator


def nearest_labels(queries: torch.Tensor, reference: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    ref = reference.flatten(1)
    out = []
    for chunk in queries.flatten(1).split(500):
        out.append(labels[torch.cdist(chunk, ref).argmin(dim=1)])
    return torch.cat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    test = load_data(DataConfig(name="mnist", dir=args.data_dir, split="test"), log=print)
    x, y = to_model_input(test.x), test.y
    ref, ref_y, held, held_y = x[1000:], y[1000:], x[:1000], y[:1000]
    calib = (nearest_labels(held, ref, ref_y) == held_y).float().mean().item()

    trained = load_generator(args.run)
    labels = nearest_labels(trained.generate(args.n, seed=args.seed), ref, ref_y)
    counts = torch.bincount(labels, minlength=10)
    print(f"run {args.run}, checkpoint {trained.checkpoint.name}, {args.n} samples")
    print(f"1-NN accuracy on 1,000 held-out real test images: {calib:.1%}")
    print("| digit | " + " | ".join(str(d) for d in range(10)) + " |")
    print("|---" * 11 + "|")
    print("| share of samples | " + " | ".join(f"{c / args.n:.1%}" for c in counts.tolist()) + " |")
    print(f"classes with at least 1% of samples: {(counts >= 0.01 * args.n).sum().item()}/10")


if __name__ == "__main__":
    main()
