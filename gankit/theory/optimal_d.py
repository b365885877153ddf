"""The optimal discriminator D* = p_r / (p_r + p_g) and max_D V(D, G) = 2·JS(p_r‖p_g) − log 4.

Goodfellow et al. (2014), Prop. 1 and Thm. 1. For fixed 1-D densities p_r and p_g we train a small MLP
discriminator to convergence on the exact value function

    V(D) = ∫ p_r(x) log D(x) + p_g(x) log(1 − D(x)) dx,

evaluated by quadrature on a grid (no sampling noise, so "converged" means what it says), with the
log-probabilities in the same stable softplus form as ``gankit.losses``. Then D is compared with D*,
and V(D) with 2·JS − log 4, JS computed independently by numerical integration (``gankit.divergences.js_densities``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit.divergences import gaussian_pdf, js_densities
from gankit.theory import one_thread


def real_density(x: np.ndarray) -> np.ndarray:
    """p_r: the mixture ½N(−2, 0.5²) + ½N(1.5, 0.7²)."""
    return 0.5 * gaussian_pdf(x, -2.0, 0.5) + 0.5 * gaussian_pdf(x, 1.5, 0.7)


def generated_density(x: np.ndarray) -> np.ndarray:
    """p_g: N(0, 1.5²), a generator that has not yet found the two modes."""
    return gaussian_pdf(x, 0.0, 1.5)


def train_optimal_d(steps: int = 2000, points: int = 1001, seed: int = 0) -> dict:
    """Maximise V(D) over an MLP D on [−7, 7]; return the grid, D, D*, V(D) and 2·JS − log 4."""
    torch.manual_seed(seed)
    x = np.linspace(-7.0, 7.0, points)
    pr, pg = real_density(x), generated_density(x)
    dx = x[1] - x[0]
    xt = torch.tensor(x, dtype=torch.float64).unsqueeze(1)
    wr = torch.tensor(pr * dx, dtype=torch.float64)
    wg = torch.tensor(pg * dx, dtype=torch.float64)
    net = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1)).double()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)

    def value() -> torch.Tensor:  # V(D) = Σ w_r log σ(l) + w_g log(1 − σ(l))
        logits = net(xt).flatten()
        return -(wr * torch.nn.functional.softplus(-logits)).sum() - (wg * torch.nn.functional.softplus(logits)).sum()

    with one_thread():
        for _ in range(steps):
            loss = -value()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    with torch.no_grad():
        d = torch.sigmoid(net(xt).flatten()).numpy()
        v = value().item()
    d_star = pr / (pr + pg)
    js = js_densities(pr, pg, x)
    mass = (pr + pg) / 2 > 1e-3  # where the densities put their mass
    return {
        "x": x,
        "p_r": pr,
        "p_g": pg,
        "d": d,
        "d_star": d_star,
        "value": v,
        "js": js,
        "two_js_minus_log4": 2 * js - math.log(4),
        "max_abs_error": float(np.abs(d - d_star)[mass].max()),
    }


def optimal_d_demo(out: str | Path, steps: int = 2000) -> dict:
    """Figure: the trained D over D* = p_r/(p_r + p_g), and the numbers V(D) vs 2·JS − log 4."""
    from gankit.theory.plotting import figure, save

    r = train_optimal_d(steps)
    fig, (ax,) = figure(size=5.5)
    ax.fill_between(r["x"], r["p_r"], alpha=0.25, label="p_r (data)")
    ax.fill_between(r["x"], r["p_g"], alpha=0.25, label="p_g (generator)")
    ax.plot(r["x"], r["d_star"], "k--", lw=2, label="D* = p_r / (p_r + p_g)")
    ax.plot(r["x"], r["d"], lw=1.2, label="trained D")
    ax.set(xlim=(-5, 5), xlabel="x", title=f"V(D) = {r['value']:.4f},  2·JS − log 4 = {r['two_js_minus_log4']:.4f}")
    ax.legend(fontsize=8)
    figure_path = save(fig, Path(out) / "optimal_d.png")
    return {
        "value_of_trained_d": r["value"],
        "two_js_minus_log4": r["two_js_minus_log4"],
        "js": r["js"],
        "max_abs_error_d_vs_d_star": r["max_abs_error"],
        "figure": str(figure_path),
    }
