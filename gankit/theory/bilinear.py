"""The bilinear game min_x max_y x·y, played by gankit's own update schemes.

The unique equilibrium is (0, 0). G's "parameter" is x, D's is y; with SGD of step η each scheme is a
linear map of the state, whose eigenvalues decide everything:

* simultaneous: (x, y) ← (x − ηy, y + ηx), eigenvalues 1 ± iη, so ‖·‖² grows by 1 + η² per step: it
  spirals out;
* alternating (D first): y ← y + ηx, then x ← x − ηy; the map has determinant 1 and its eigenvalues lie on
  the unit circle for η < 2: it circles for ever;
* extragradient: (x, y) ← ((1 − η²)x − ηy, ηx + (1 − η²)y), |λ|² = 1 − η² + η⁴ < 1: it converges;
* optimistic (alternating, Δ ← 2Δ_t − Δ_{t−1}): a 4-dimensional map (the previous steps are state) whose
  spectral radius is below 1 for small η: it converges.

``run_bilinear`` plays the game with the very classes used for real training (``gankit.training.schemes``),
and ``update_matrix`` gives the closed-form maps the tests compare them with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from gankit.config import TrainConfig
from gankit.losses import Objective
from gankit.training.schemes import SCHEMES
from gankit.training.step import GAN, GameLosses

SCHEME_NAMES = ("simultaneous", "alternating", "extragradient", "optimistic")

# D maximises x·y (minimises −x·y), G minimises x·y. D's "logit" on G's output is y·x.
BILINEAR = Objective(
    "bilinear",
    d_loss=lambda real, fake: -fake.mean(),
    g_loss=lambda real, fake: fake.mean(),
    reference="min_x max_y x·y",
)


class _Scalar(nn.Module):
    def __init__(self, value: float):
        super().__init__()
        self.value = nn.Parameter(torch.tensor([value], dtype=torch.float64))


class _PlayerX(_Scalar):
    def forward(self, z: Tensor) -> Tensor:  # G(z) = x, whatever z is
        return self.value.expand(z.shape[0], 1)


class _PlayerY(_Scalar):
    def forward(self, v: Tensor) -> Tensor:  # D(v) = y·v
        return (self.value * v).flatten()


def run_bilinear(
    scheme: str, eta: float = 0.1, steps: int = 100, start: tuple[float, float] = (1.0, 0.0)
) -> np.ndarray:
    """The trajectory (steps + 1, 2) of (x, y) under ``scheme`` with SGD of learning rate ``eta``."""
    x, y = _PlayerX(start[0]), _PlayerY(start[1])
    gan = GAN(x, y, torch.optim.SGD(x.parameters(), lr=eta), torch.optim.SGD(y.parameters(), lr=eta))
    player = SCHEMES[scheme](gan, TrainConfig(scheme=scheme))
    zeros = torch.zeros(1, 1, dtype=torch.float64)
    path = [start]
    for _ in range(steps):
        player.step(gan, GameLosses(BILINEAR), 1, lambda: zeros, lambda: zeros)
        path.append((x.value.item(), y.value.item()))
    return np.array(path)


def update_matrix(scheme: str, eta: float) -> np.ndarray:
    """The linear map of one step of ``scheme`` on (x, y), or on (x, y, Δx_prev, Δy_prev) for optimistic."""
    e = eta
    if scheme == "simultaneous":
        return np.array([[1, -e], [e, 1]])
    if scheme == "alternating":
        return np.array([[1 - e**2, -e], [e, 1]])
    if scheme == "extragradient":
        return np.array([[1 - e**2, -e], [e, 1 - e**2]])
    if scheme == "optimistic":
        # y' = y + 2ηx − Δy_prev (Δy = ηx), then x' = x + 2Δx − Δx_prev with Δx = −ηy'
        return np.array([[1 - 4 * e**2, -2 * e, -1, 2 * e], [2 * e, 1, 0, -1], [-2 * e**2, -e, 0, e], [e, 0, 0, 0]])
    raise ValueError(f"no closed form for scheme {scheme!r}")


def spectral_radius(scheme: str, eta: float) -> float:
    return float(np.abs(np.linalg.eigvals(update_matrix(scheme, eta))).max())


def bilinear_demo(out: str | Path, eta: float = 0.1, steps: int = 200) -> dict:
    """Phase-plane plot of the four schemes from (1, 0), and the numbers behind it."""
    from gankit.theory.plotting import figure, save

    results = {}
    fig, (ax,) = figure(size=5.5)
    for name in SCHEME_NAMES:
        path = run_bilinear(name, eta, steps)
        eig = np.linalg.eigvals(update_matrix(name, eta))
        radius = np.linalg.norm(path, axis=1)
        results[name] = {
            "final_norm": float(radius[-1]),
            "norm_ratio_per_step": float((radius[-1] / radius[0]) ** (1 / steps)),
            "eigenvalues": [f"{v.real:.4f}{v.imag:+.4f}i" for v in eig],
            "spectral_radius": float(np.abs(eig).max()),
        }
        ax.plot(path[:, 0], path[:, 1], lw=1.2, label=f"{name} (‖·‖ → {radius[-1]:.2f})")
    ax.plot([1], [0], "ko", ms=4)
    ax.plot([0], [0], "k*", ms=9, label="equilibrium")
    ax.set(xlabel="x (generator)", ylabel="y (discriminator)", title=f"min_x max_y xy, η = {eta}, {steps} steps")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="lower left")
    results["figure"] = str(save(fig, Path(out) / "bilinear.png"))
    return results
