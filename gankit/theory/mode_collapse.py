"""Mode collapse on the ring of 8 Gaussians: where G's samples are, step after step.

A plain GAN (the ``nsgan`` recipe with small MLPs) trained on ``ring8`` tends to cover one or a few modes
at a time and to hop between them (Metz et al. 2017, Fig. 1). The demo trains with the normal training
engine and any update scheme (``--scheme``), so remedies can be compared side by side. A mode counts as
*covered* when at least one of 2,500 samples lies within 3σ of it (the PacGAN protocol, Lin et al. 2018).
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.data.toy import ring8_modes
from gankit.latent import generate
from gankit.metrics.modes import count_toy_modes
from gankit.recipes import get_recipe
from gankit.theory import one_thread
from gankit.training.state import build_training


def modes_covered(points: torch.Tensor) -> int:
    """Modes of the ring with at least one sample within 3σ (``gankit.metrics.modes.count_toy_modes``)."""
    return count_toy_modes(points, ring8_modes()).modes_covered


def mode_collapse_demo(
    out: str | Path,
    scheme: str = "alternating",
    steps: int = 3000,
    snapshots: int = 6,
    seed: int = 0,
    overrides: dict | None = None,
) -> dict:
    """Train on ring8 and plot 2,500 samples at evenly spaced steps; report the modes covered at each."""
    from gankit.theory.plotting import figure, save

    cfg = get_recipe("nsgan").override(
        {  # the unrolled-GAN paper's setting: Adam 1e-4, z in R^256, batch 512
            "data.name": "ring8",
            "model.latent_dim": 256,
            "model.g_width": 128,
            "model.d_width": 128,
            "model.mlp_layers": 2,
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
        real = training.data.x[:2500]
        for ax, target in zip(axes, at, strict=True):
            while training.step < target:
                training.train_step()
            with torch.no_grad():
                g = training.gan.generator.eval()
                fake = generate(g, training.sample_z(2500))
                g.train()
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
