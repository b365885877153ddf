"""Training speed of every recipe: gankit's step against a plain hand-written PyTorch loop, same run.

For each recipe both loops train the *same* networks (same config, same initial weights) with the same
optimisers, batch size, n_critic, loss and regulariser on the same data held on the device. The plain
loop is written the way the PyTorch examples write it: index a batch, ``G(z).detach()``, BCE/MSE/... on
the logits, ``zero_grad``/``backward``/``step``, clamp for WGAN. The two are timed alternately
(gankit, plain, gankit, plain, …) and the median of the repeats is reported, so both see the same
machine state. Speed is real images consumed by D per second (n_critic × batch per generator step).

    python benchmarks/train_step_speed.py                      # embedded MNIST sample, CPU
    python benchmarks/train_step_speed.py --data-dir ../shared/data/mnist --device cuda
"""

from __future__ import annotations

import argparse
import copy
import math
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from gankit import get_recipe
from gankit.recipes import RECIPES
from gankit.training.state import Training, build_training

# The losses as a user would write them inline (not gankit.losses): (d_loss(real, fake), g_loss(fake)). The plain
# loop's G step sees no real batch, so recipes whose G loss reads real logits (the relativistic ones) are not timed.
PLAIN_LOSSES = {
    "minimax": (
        lambda r, f: (
            F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        ),
        lambda f: -F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)),
    ),
    "nonsaturating": (
        lambda r, f: (
            F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        ),
        lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f)),
    ),
    "least-squares": (
        lambda r, f: 0.5 * F.mse_loss(r, torch.ones_like(r)) + 0.5 * F.mse_loss(f, torch.zeros_like(f)),
        lambda f: 0.5 * F.mse_loss(f, torch.ones_like(f)),
    ),
    "hinge": (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean()),
    "wasserstein": (lambda r, f: f.mean() - r.mean(), lambda f: -f.mean()),
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_gankit(training: Training, steps: int) -> float:
    sync(training.device)
    start = time.perf_counter()
    for _ in range(steps):
        training.train_step()
    sync(training.device)
    return time.perf_counter() - start


def make_plain_loop(training: Training):
    """A plain PyTorch loop over deep copies of the same networks and optimisers."""
    cfg = training.cfg
    G, D = copy.deepcopy(training.gan.generator), copy.deepcopy(training.gan.discriminator)
    opt_g = type(training.gan.g_optimizer)(G.parameters(), **training.gan.g_optimizer.defaults)
    opt_d = type(training.gan.d_optimizer)(D.parameters(), **training.gan.d_optimizer.defaults)
    data, device = training.data.x, training.device
    d_loss_fn, g_loss_fn = PLAIN_LOSSES[cfg.loss.objective]
    B, nz = cfg.train.batch_size, cfg.model.latent_dim

    def noise() -> torch.Tensor:
        if cfg.model.latent_dist == "uniform":
            return torch.rand(B, nz, device=device) * 2 - 1
        return torch.randn(B, nz, device=device)

    def run(steps: int) -> float:
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            for _ in range(cfg.train.n_critic):
                idx = torch.randint(0, len(data), (B,), device=device)
                real = data[idx].float() / 127.5 - 1 if data.dtype == torch.uint8 else data[idx]
                fake = G(noise()).detach()
                d_loss = d_loss_fn(D(real), D(fake))
                if cfg.loss.gp_weight > 0:
                    eps = torch.rand(B, *([1] * (real.dim() - 1)), device=device)
                    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
                    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
                    d_loss = d_loss + cfg.loss.gp_weight * ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
                if cfg.loss.clip_value is not None:
                    for p in D.parameters():
                        p.data.clamp_(-cfg.loss.clip_value, cfg.loss.clip_value)
            g_loss = g_loss_fn(D(G(noise())))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
        sync(device)
        return time.perf_counter() - start

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    plain = [name for name in RECIPES if get_recipe(name).loss.objective in PLAIN_LOSSES]
    parser.add_argument("--recipes", nargs="*", default=plain, choices=plain, help="recipes with a plain loop")
    parser.add_argument("--data-dir", default=None, help="MNIST IDX folder (default: the embedded sample)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=5, help="fewest generator steps per timing")
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds each timing lasts at least")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(
        f"# gankit training speed: torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, device {args.device}"
    )
    print(
        f"# each timing >= {args.min_time} s and >= {args.steps} generator steps, after {args.warmup} warm-up steps; "
        f"median of {args.repeats} alternating repeats; images/s = real images seen by D per second\n"
    )
    print("| recipe | nets | batch | n_critic | gankit img/s | plain PyTorch img/s | gankit / plain |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in args.recipes:
        cfg = get_recipe(name).override(
            {"data.dir": args.data_dir, "train.device": args.device, "train.progress": False}
        )
        training = build_training(cfg, log=lambda _: None)
        plain = make_plain_loop(training)
        per_step = time_gankit(training, args.warmup) / args.warmup
        plain(args.warmup)
        steps = max(args.steps, math.ceil(args.min_time / per_step))  # each timing lasts >= min_time
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(time_gankit(training, steps))
            theirs.append(plain(steps))
        images = steps * cfg.train.n_critic * cfg.train.batch_size
        a, b = images / statistics.median(ours), images / statistics.median(theirs)
        print(
            f"| {name} | {cfg.model.arch} | {cfg.train.batch_size} | {cfg.train.n_critic} | {a:,.0f} | {b:,.0f} "
            f"| {a / b:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
