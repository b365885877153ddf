"""Why Wasserstein: KL, JS and W₁ on the parallel-lines example (Arjovsky et al. 2017, Example 1).

P is uniform on {0}×[0, 1], Q_θ uniform on {θ}×[0, 1]. For θ ≠ 0 the supports are disjoint, so
KL(P‖Q_θ) = ∞ and JS(P‖Q_θ) = log 2 whatever θ is (no gradient towards θ = 0), while W₁(P, Q_θ) = |θ|.
Here every number is computed from samples with the library's own estimators: the histograms of the two
samples (bins of width 0.01) for KL and JS, exact optimal transport for W₁, and a WGAN-GP critic trained
with ``gankit.losses.wasserstein_d_loss`` + ``gankit.regularizers.gradient_penalty`` for the critic's
estimate E_P[f] − E_Q[f] of W₁.

The same module shows the saturation of the minimax generator loss (Goodfellow et al. 2014, sec. 3):
d/dl log(1 − σ(l)) = −σ(l) vanishes as D rejects fakes (l → −∞), d/dl −log σ(l) = σ(l) − 1 does not.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit.divergences import js_discrete, kl_discrete, wasserstein_samples
from gankit.losses import minimax_g_loss, nonsaturating_g_loss, wasserstein_d_loss
from gankit.regularizers import gradient_penalty
from gankit.theory import one_thread


def line_samples(theta: float, n: int, random: np.random.Generator | None = None) -> np.ndarray:
    """n points of {θ}×[0, 1]: evenly spaced heights, or uniform ones if ``random`` is given."""
    u = random.uniform(0, 1, n) if random is not None else (np.arange(n) + 0.5) / n
    return np.stack([np.full(n, theta), u], axis=1)


def sample_divergences(theta: float, n: int = 400, bin_width: float = 0.01) -> dict[str, float]:
    """KL and JS of the binned samples, and W₁ of the samples by optimal transport."""
    p, q = line_samples(0.0, n), line_samples(theta, n)
    edges_x = np.arange(-1.5, 1.5 + bin_width, bin_width) - bin_width / 2
    edges_y = np.linspace(0, 1, 11)
    hp = np.histogram2d(p[:, 0], p[:, 1], bins=(edges_x, edges_y))[0].ravel()
    hq = np.histogram2d(q[:, 0], q[:, 1], bins=(edges_x, edges_y))[0].ravel()
    return {"kl": kl_discrete(hp, hq), "js": js_discrete(hp, hq), "w1": wasserstein_samples(p, q)}


def critic_estimate(theta: float, steps: int = 300, batch: int = 256, seed: int = 0) -> float:
    """W₁ estimated by a WGAN-GP critic (λ = 10) trained to separate P from Q_θ."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    critic = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))

    def f(v: torch.Tensor) -> torch.Tensor:
        return critic(v).flatten()

    def batch_of(t: float) -> torch.Tensor:
        return torch.tensor(line_samples(t, batch, rng), dtype=torch.float32)

    with one_thread():
        for _ in range(steps):
            real, fake = batch_of(0.0), batch_of(theta)
            loss = wasserstein_d_loss(f(real), f(fake)) + 10 * gradient_penalty(f, real, fake)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        real, fake = (torch.tensor(line_samples(t, 4000), dtype=torch.float32) for t in (0.0, theta))
        return float(-wasserstein_d_loss(f(real), f(fake)))


def saturation_curves(logits: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of the two generator losses with respect to D's logit on a fake sample."""
    out = {}
    for name, loss in (("minimax", minimax_g_loss), ("nonsaturating", nonsaturating_g_loss)):
        grads = []
        for value in logits:
            l_ = torch.tensor([float(value)], requires_grad=True)
            (g,) = torch.autograd.grad(loss(None, l_), l_)  # neither G loss reads D's logits on real data
            grads.append(g.item())
        out[name] = np.array(grads)
    return out


def divergences_demo(out: str | Path, critic_steps: int = 300) -> dict:
    """Figure: KL, JS, W₁ and the critic's estimate against θ; and the two G-loss gradients against l."""
    from gankit.theory.plotting import figure, save

    thetas = np.round(np.linspace(-1, 1, 21), 3)
    rows = [sample_divergences(t) for t in thetas]
    critic_thetas = np.array([-1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0])
    critic = [critic_estimate(t, critic_steps) for t in critic_thetas]
    logits = np.linspace(-8, 8, 161)
    sat = saturation_curves(logits)

    fig, (ax, ax2) = figure(cols=2, size=4.8)
    js = [r["js"] for r in rows]
    ax.plot(thetas, [r["w1"] for r in rows], "o-", ms=3, label="W₁ (optimal transport)")
    ax.plot(thetas, js, "s-", ms=3, label="JS (jumps to log 2)")
    ax.plot(critic_thetas, critic, "k^", ms=6, label="WGAN-GP critic estimate")
    kl_finite = [0.0 if math.isfinite(r["kl"]) else np.nan for r in rows]
    ax.plot(thetas, kl_finite, "rx", ms=7, label="KL (∞ except at θ = 0)")
    ax.axhline(math.log(2), color="gray", lw=0.8, ls=":")
    ax.set(xlabel="θ", ylabel="distance", title="P on {0}×[0,1], Q on {θ}×[0,1]")
    ax.legend(fontsize=8)
    ax2.plot(logits, sat["minimax"], label="∂/∂l log(1 − σ(l))  (minimax)")
    ax2.plot(logits, sat["nonsaturating"], label="∂/∂l −log σ(l)  (non-saturating)")
    ax2.set(xlabel="D's logit l on a fake sample", ylabel="gradient for G", title="Saturation of the minimax G loss")
    ax2.legend(fontsize=8)
    figure_path = save(fig, Path(out) / "divergences.png")
    return {
        "theta": thetas.tolist(),
        "kl": [r["kl"] for r in rows],
        "js": js,
        "w1": [r["w1"] for r in rows],
        "critic_theta": critic_thetas.tolist(),
        "critic_w1_estimate": critic,
        "minimax_grad_at_logit_-8": float(sat["minimax"][0]),
        "nonsaturating_grad_at_logit_-8": float(sat["nonsaturating"][0]),
        "figure": str(figure_path),
    }
