"""The discriminator every recipe trains: an architecture's body plus the shared options around it.

An architecture (``gankit.nets.mlp``, ``dcgan``, ``mnist_conv``) gives a *body* with a ``trunk`` (input →
features) and a ``head`` (features → one logit). :class:`Discriminator` wraps it with:

* packing (PacGAN, Lin et al. 2018): m samples are concatenated along channels (points: along features)
  and judged together, one logit per pack;
* class conditioning: ``concat`` appends the one-hot class to the input as constant channels (Mirza &
  Osindero 2014), ``projection`` adds ⟨embed(y), φ(x)⟩ to the logit (Miyato & Koyama 2018, eq. 3);
* a minibatch layer between trunk and head (``gankit.nets.minibatch``);
* InfoGAN's Q head on the trunk's features (Chen et al. 2016, sec. 5): categorical logits, and a mean and
  log-variance per continuous code (the log-variance learned, or fixed by ``model.info_continuous_std``).

``D(x, y)`` returns logits (N / pack,); ``D.run(x, y)`` also returns the features (for feature matching)
and Q's output.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

from gankit.nets.minibatch import MINIBATCH_LAYERS


class QOutput(NamedTuple):
    """Q(c | x): categorical logits (N, K) or None, Gaussian mean and log-variance (N, L) (L may be 0)."""

    logits: Tensor | None
    mean: Tensor
    log_var: Tensor


class DiscriminatorOutput(NamedTuple):
    logits: Tensor  # (N,) one per sample (per pack when packing)
    hidden: Tensor | None  # (N, …) the trunk's output, as the trunk made it
    q: QOutput | None  # InfoGAN's Q head, if the model has codes

    @property
    def features(self) -> Tensor | None:
        """The trunk's output flattened to (N, F), in at least fp32 (feature matching's input). Made only when
        asked: flattening a channels_last map is a copy, and most losses never read it."""
        if self.hidden is None:
            return None
        f = self.hidden.flatten(1)
        return f.to(torch.promote_types(f.dtype, torch.float32))


class QHead(nn.Module):
    """Q's own layers on D's features: FC 128, BN, LeakyReLU(0.1), FC (Chen et al. 2016, app. C.1).

    Each continuous code gets a Gaussian Q(c_i | x) = N(μ_i, σ_i²): σ_i is an output (its log σ_i²) when
    ``continuous_std`` is None, else the constant ``continuous_std`` (the authors' code, openai/InfoGAN,
    fixes σ = 1, so that the bound is −(c − μ)²/2 + const).
    """

    def __init__(
        self, in_features: int, categorical: int, continuous: int, width: int = 128, continuous_std: float | None = None
    ):
        super().__init__()
        self.categorical, self.continuous = categorical, continuous
        self.fixed_log_var = None if continuous_std is None else 2 * math.log(continuous_std)
        outputs = categorical + continuous * (1 if continuous_std is not None else 2)
        self.net = nn.Sequential(
            nn.Linear(in_features, width),
            nn.BatchNorm1d(width),
            nn.LeakyReLU(0.1),
            nn.Linear(width, outputs),
        )

    def forward(self, features: Tensor) -> QOutput:
        out = self.net(features)
        k, n = self.categorical, self.continuous
        logits = out[:, :k] if k else None
        mean = out[:, k : k + n]
        if self.fixed_log_var is not None:
            return QOutput(logits, mean, torch.full_like(mean, self.fixed_log_var))
        return QOutput(logits, mean, out[:, k + n : k + 2 * n].clamp(-8, 8))


def body_input_shape(data_shape: tuple[int, ...], pack: int = 1, label_channels: int = 0) -> tuple[int, ...]:
    """What D's body reads: ``pack`` samples stacked along the channels, then one-hot label channels."""
    return (data_shape[0] * pack + label_channels, *data_shape[1:])


class Discriminator(nn.Module):
    """D(x, y) → logits: a body (trunk + head) with packing, conditioning, minibatch features and a Q head."""

    def __init__(
        self,
        body: nn.Module,
        input_shape: tuple[int, ...],
        pack: int = 1,
        num_classes: int = 0,
        conditioning: str = "none",
        minibatch: str = "none",
        mbd_kernels: int = 100,
        mbd_kernel_dim: int = 5,
        categorical: int = 0,
        continuous: int = 0,
        continuous_std: float | None = None,
    ):
        super().__init__()
        self.body, self.pack = body, pack
        self.num_classes, self.conditioning = num_classes, conditioning
        # The body was built for the packed (and label-extended) input; find its feature width.
        with torch.no_grad():
            was_training = body.training
            body.eval()
            label_channels = num_classes if conditioning == "concat" else 0
            probe = torch.zeros(1, *body_input_shape(input_shape, pack, label_channels))
            self.feature_dim = body.trunk(probe).flatten(1).shape[1]
            body.train(was_training)
        self.minibatch: nn.Module | None = None
        self.head: nn.Module | None = None
        if minibatch != "none":
            self.minibatch = MINIBATCH_LAYERS.lookup(minibatch)(self.feature_dim, mbd_kernels, mbd_kernel_dim)
        if self.minibatch is not None:  # the body's head cannot read the wider features: a new linear head
            self.head = nn.Linear(self.minibatch.out_features, 1)
        self.embed = None
        if conditioning == "projection":
            self.embed = nn.Embedding(num_classes, self.feature_dim)
            nn.init.xavier_uniform_(self.embed.weight)  # as the projection D's code; N(0, 1) swamps the logit
        self.q = None
        if categorical or continuous:
            self.q = QHead(self.feature_dim, categorical, continuous, continuous_std=continuous_std)

    @property
    def per_sample(self) -> bool:
        """Whether one forward pass of real ‖ fake gives exactly D(real) ‖ D(fake): no batch-norm statistics,
        minibatch layer or packing couple the samples of a pass, and no spectral norm, whose power
        iteration advances once per pass."""
        coupled = any(
            (isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training) or parametrize.is_parametrized(m)
            for m in self.modules()
        )
        return not coupled and self.minibatch is None and self.pack == 1

    def _prepare(self, x: Tensor, y: Tensor | None) -> Tensor:
        if self.pack > 1:
            # for direct use of D: a run's batches are whole packs already (Config.validate, World.check_batch)
            if x.shape[0] % self.pack:
                raise ValueError(f"a packed D (pack={self.pack}) needs a batch size divisible by {self.pack}")
            x = x.reshape(x.shape[0] // self.pack, x.shape[1] * self.pack, *x.shape[2:])
        if (y is None) != (self.num_classes == 0):
            raise ValueError("a conditional D needs class labels y; an unconditional one takes none")
        if self.conditioning == "concat":
            onehot = F.one_hot(y, self.num_classes).to(x.dtype)
            onehot = onehot.view(*onehot.shape, *(1,) * (x.dim() - 2)).expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, onehot], dim=1)
        return x

    def run(self, x: Tensor, y: Tensor | None = None, q: bool = True) -> DiscriminatorOutput:
        """Logits, features and (with ``q``, if D has the head) Q's output; Q is only asked about G's samples."""
        hidden = self.body.trunk(self._prepare(x, y))
        wants_q = q and self.q is not None
        features = hidden.flatten(1) if self.minibatch is not None or self.embed is not None or wants_q else None
        if self.minibatch is not None:
            logits = self.head(self.minibatch(features)).flatten()
        else:
            logits = self.body.head(hidden).flatten()
        if self.embed is not None:
            logits = logits + (self.embed(y) * features).sum(dim=1)
        return DiscriminatorOutput(logits, hidden, self.q(features) if wants_q else None)

    def forward(
        self, x: Tensor, y: Tensor | None = None, q: bool = False, full: bool = False
    ) -> Tensor | DiscriminatorOutput:
        """The logits; with ``full``, all of :meth:`run`'s output (so that it passes through wrappers)."""
        out = self.run(x, y, q)
        return out if full else out.logits
