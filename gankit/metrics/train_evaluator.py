"""Train the evaluation classifier (``gankit.metrics.classifier_net``) on MNIST or Fashion-MNIST.

    python -m gankit.metrics.train_evaluator --data mnist --data-dir ../shared/data/mnist
    python -m gankit.metrics.train_evaluator --data fashion-mnist --data-dir ../shared/data/fashion-mnist

Adam (lr 2e-3, cosine decay to 0), batch 128, no augmentation, seeded; the 60k training images are used,
the 10k test images only to report the accuracy. Writes ``<out>/<data>-classifier.safetensors`` (float16
weights) and ``<out>/<data>-classifier.json`` (accuracy, SHA-256 of the weights, the command). Copy the
printed SHA-256 into ``gankit.metrics.extractors.SHIPPED_SHA256`` when shipping new weights.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from gankit.config import DataConfig
from gankit.data import load_data, to_model_input
from gankit.metrics.classifier_net import DigitClassifier
from gankit.store.checkpoint import _sha256
from gankit.version import __version__

WEIGHTS_DIR = Path(__file__).parent / "weights"


@torch.inference_mode()
def accuracy(model: DigitClassifier, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    model.eval()
    correct = sum(
        (model(to_model_input(xb)).argmax(1) == yb).sum().item()
        for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True)
    )
    return correct / len(y)


def train_classifier(
    x: torch.Tensor, y: torch.Tensor, num_classes: int, epochs: int, seed: int, lr: float = 2e-3, batch_size: int = 128
) -> DigitClassifier:
    """Train from uint8 images (N, 1, 28, 28) and labels; prints the loss per epoch."""
    torch.manual_seed(seed)
    model = DigitClassifier(num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * (len(y) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    g = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=g)
        total, t0 = 0.0, time.perf_counter()
        for i in range(len(y) // batch_size):
            idx = order[i * batch_size : (i + 1) * batch_size]
            loss = F.cross_entropy(model(to_model_input(x[idx])), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f"epoch {epoch + 1}/{epochs}: loss {total / (i + 1):.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="mnist", choices=["mnist", "fashion-mnist"])
    p.add_argument("--data-dir", help="folder with the IDX files (default: gankit's search; MNIST: the sample)")
    p.add_argument("--limit", type=int, help="train on the first LIMIT images only (for quick checks)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(WEIGHTS_DIR), help="output folder (default: the package's weights/)")
    args = p.parse_args(argv)

    train = load_data(DataConfig(name=args.data, dir=args.data_dir, split="train", limit=args.limit))
    test = load_data(DataConfig(name=args.data, dir=args.data_dir, split="test"))
    t0 = time.perf_counter()
    model = train_classifier(train.x, train.y, train.num_classes or 10, args.epochs, args.seed)
    seconds = time.perf_counter() - t0
    model = model.half().float()  # the accuracy reported is that of the float16 weights shipped
    acc = accuracy(model, test.x, test.y)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{args.data}-classifier.safetensors"
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(weights))
    card = {
        "data": args.data,
        "test_accuracy": round(acc, 5),
        "n_train": len(train),
        "n_test": len(test),
        "epochs": args.epochs,
        "seed": args.seed,
        "train_seconds": round(seconds, 1),
        "sha256": _sha256(weights),
        "gankit_version": __version__,
        "torch_version": torch.__version__,
        "command": "python -m gankit.metrics.train_evaluator " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    weights.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"test accuracy {acc:.2%} on {len(test):,} images; wrote {weights} (SHA-256 {card['sha256']})")


if __name__ == "__main__":
    main()
