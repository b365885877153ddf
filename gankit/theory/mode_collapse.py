"""Mode collapse on the ring of 8 Gaussians: where G's samples are, step after step.

A plain GAN (the ``nsgan`` recipe with small MLPs) trained on ``ring8`` tends to cover one or a few modes
at a time and to hop between them (Metz et al. 2017, Fig. 1). The demo trains with the normal training
engine and any update scheme (``--scheme``), so remedies can be compared side by side. A mode counts as
*covered* when at least one of 2,500 samples lies within 3σ of it (the PacGAN protocol, Lin et al. 2018).

Every snapshot scores G on the same 2,500 inputs, drawn once from a ``torch.Generator`` seeded with the demo's
seed (as ``gankit eval`` draws from ``Protocol.seed``): not from the global RNG that training draws its noise
from, so a snapshot neither depends on what ran before it nor changes the training that follows it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.data.toy import ring8_modes
from gankit.latent import Latent, generate
from gankit.metrics.modes import TOY_SAMPLES, count_toy_modes
from gankit.recipes import get_recipe
from gankit.theory import one_thread
from gankit.training.state import Training, build_training


def modes_covered(points: torch.Tensor) -> int:
    """Modes of the ring with at least one sample within 3σ (``gankit.metrics.modes.count_toy_modes``)."""
    return count_toy_modes(points, ring8_modes()).modes_covered


def snapshot_inputs(training: Training, seed: int, n: int = TOY_SAMPLES) -> Latent:
    """``n`` G inputs from the run's prior, drawn from a generator seeded with ``seed``; the global RNG is not
    touched."""
    return training.space.sample(n, "cpu", torch.Generator(device="cpu").manual_seed(seed)).to(training.device)


@torch.no_grad()
def snapshot(training: Training, inputs: Latent) -> torch.Tensor:
    """G's samples (on the CPU) of ``inputs``, G in eval mode for the draw and back in its mode after."""
    g = training.gan.generator
    was_training = g.training
    g.eval()
    try:
        return generate(g, inputs).float().cpu()
    finally:
        g.train(was_training)


def mode_collapse_demo(
    out: str | Path,
    scheme: str = "alternating",
    steps: int = 3000,
    snapshots: int = 6,
    seed: int = 0,
    overrides: dict | None = None,
) -> dict:
    """Train on ring8 and plot G's samples of the same 2,500 seeded inputs at evenly spaced steps; report the
    modes covered at each."""
    from gankit.theory.plotting import figure, save

    cfg = get_recipe("nsgan").override(
        {  # the unrolled-GAN paper's setting: Adam 1e-4, z in R^256, batch 512
            "data.name": "ring8",
            "model.latent_dim": 256,
            "model.g_width": 128,
            "model.d_width": 128,
            "model.mlp_layers": 2,
            "model.g_norm": "none",  # not the nsgan recipe's batch norm in G: with it G smears over the ring
            "g_optim.lr": 1e-4,
            "d_optim.lr": 1e-4,
            "train.batch_size": 512,
            "train.steps": steps,
            "train.scheme": scheme,
            "train.seed": seed,
            "train.device": "cpu",
        }
        | (overrides or {})
    )
    at = [round(i * steps / (snapshots - 1)) for i in range(snapshots)]
    fig, axes = figure(cols=snapshots, size=2.6)
    covered = {}
    with one_thread():
        training = build_training(cfg, log=lambda _: None)
        real = training.data.x[:TOY_SAMPLES]
        inputs = snapshot_inputs(training, seed)
        for ax, target in zip(axes, at, strict=True):
            while training.step < target:
                training.train_step()
            fake = snapshot(training, inputs)
            covered[target] = modes_covered(fake)
            ax.scatter(real[:, 0], real[:, 1], s=2, c="#bbbbbb")
            ax.scatter(fake[:, 0], fake[:, 1], s=2, c="#1f77b4")
            ax.set(
                xlim=(-1.6, 1.6),
                ylim=(-1.6, 1.6),
                xticks=[],
                yticks=[],
                title=f"step {target}: {covered[target]}/8 modes",
            )
            ax.set_aspect("equal")
    fig.suptitle(f"{scheme} updates, nsgan on ring8 (seed {seed})", fontsize=10)
    path = save(fig, Path(out) / f"mode_collapse_{scheme}.png")
    return {"scheme": scheme, "modes_covered_by_step": covered, "figure": str(path)}
