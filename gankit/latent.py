"""The generator's input: the prior p(z), and the class labels (CGAN) and codes (InfoGAN) that join it.

:class:`LatentSpace` says what G is fed and draws it; a draw is a :class:`Latent`: ``z`` is the vector
G's first layer reads (noise, then InfoGAN's one-hot categorical code, then its continuous codes) and
``y`` is the class of a conditional G (Mirza & Osindero 2014), ``None`` for unconditional models.
:func:`generate` feeds a draw to G.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.config import ModelConfig
from gankit.errors import ConfigError


def sample_latent(
    n: int, dim: int, dist: str, device: torch.device | str = "cpu", generator: torch.Generator | None = None
) -> Tensor:
    """n draws of z: "uniform" is U(−1, 1)^dim (Radford et al. 2015; cs231n), "normal" is N(0, I)."""
    if dist == "uniform":
        return torch.rand(n, dim, device=device, generator=generator) * 2 - 1
    if dist == "normal":
        return torch.randn(n, dim, device=device, generator=generator)
    raise ValueError(f"unknown latent distribution {dist!r}; choose 'uniform' or 'normal'")


@dataclass
class Latent:
    """One batch of G inputs: ``z`` (N, input_dim) and, for a conditional G, class labels ``y`` (N,)."""

    z: Tensor
    y: Tensor | None = None

    def __len__(self) -> int:
        return self.z.shape[0]

    def to(self, device: torch.device | str) -> Latent:
        return Latent(self.z.to(device), None if self.y is None else self.y.to(device))

    def __getitem__(self, index: slice) -> Latent:
        return Latent(self.z[index], None if self.y is None else self.y[index])

    @staticmethod
    def cat(parts: list[Latent]) -> Latent:
        """The batches ``parts`` (at least one) joined into one."""
        y = None if parts[0].y is None else torch.cat([p.y for p in parts])
        return Latent(torch.cat([p.z for p in parts]), y)


@dataclass(frozen=True)
class InfoCodes:
    """The codes of an InfoGAN input: category indices (N,) or None, continuous values (N, L) (maybe L = 0)."""

    category: Tensor | None
    continuous: Tensor


@dataclass(frozen=True)
class LatentSpace:
    """What G reads: ``noise_dim`` noise coordinates from ``dist``, then (InfoGAN, Chen et al. 2016, sec. 5)
    a one-hot categorical code c₁ ~ Cat(K = ``categorical``) and ``continuous`` codes c_i ~ U(−1, 1);
    a conditional G (``num_classes`` > 0) also takes a class y, drawn uniformly when sampling."""

    noise_dim: int
    dist: str = "uniform"
    num_classes: int = 0
    categorical: int = 0
    continuous: int = 0

    @property
    def input_dim(self) -> int:
        """Width of ``Latent.z``: noise, one-hot category and continuous codes together."""
        return self.noise_dim + self.categorical + self.continuous

    @property
    def has_codes(self) -> bool:
        return self.categorical > 0 or self.continuous > 0

    def compose(
        self, noise: Tensor, category: Tensor | None = None, continuous: Tensor | None = None, y: Tensor | None = None
    ) -> Latent:
        """Assemble a Latent from its parts (category as indices (N,), continuous as values (N, L))."""
        parts = [noise]
        if self.categorical:
            if category is None:
                raise ValueError(f"this latent space has a categorical code with {self.categorical} values")
            parts.append(F.one_hot(category.long(), self.categorical).to(noise.dtype))
        if self.continuous:
            if continuous is None or continuous.shape[-1] != self.continuous:
                raise ValueError(f"this latent space has {self.continuous} continuous codes")
            parts.append(continuous.to(noise.dtype))
        if (y is None) != (self.num_classes == 0):
            raise ValueError("a conditional G needs class labels y; an unconditional one takes none")
        return Latent(torch.cat(parts, dim=1), y)

    def sample(self, n: int, device: torch.device | str = "cpu", generator: torch.Generator | None = None) -> Latent:
        """n draws: noise from the prior, codes from their priors, classes uniform over ``num_classes``."""
        noise = sample_latent(n, self.noise_dim, self.dist, device, generator)
        category = continuous = y = None
        if self.categorical:
            category = torch.randint(self.categorical, (n,), device=device, generator=generator)
        if self.continuous:
            continuous = torch.rand(n, self.continuous, device=device, generator=generator) * 2 - 1
        if self.num_classes:
            y = torch.randint(self.num_classes, (n,), device=device, generator=generator)
        return self.compose(noise, category, continuous, y)

    def codes(self, z: Tensor) -> InfoCodes:
        """The InfoGAN codes inside ``Latent.z`` (the inverse of :meth:`compose` for the codes)."""
        start = self.noise_dim
        category = None
        if self.categorical:
            category = z[:, start : start + self.categorical].argmax(dim=1)
            start += self.categorical
        return InfoCodes(category, z[:, start : start + self.continuous])


def generate(generator: nn.Module, latent: Latent) -> Tensor:
    """G(z), or G(z, y) for a conditional G."""
    return generator(latent.z) if latent.y is None else generator(latent.z, latent.y)


def latent_space(model_cfg: ModelConfig, num_classes: int | None = None) -> LatentSpace:
    """The latent space a ``ModelConfig`` describes; ``num_classes`` comes from the data for a conditional G."""
    conditional = model_cfg.conditioning != "none"
    if conditional and not num_classes:
        raise ConfigError(
            f"model.conditioning={model_cfg.conditioning} needs class labels, but the data set has none: "
            "use a labelled data set (mnist, fashion-mnist, …) or model.conditioning=none"
        )
    return LatentSpace(
        noise_dim=model_cfg.latent_dim,
        dist=model_cfg.latent_dist,
        num_classes=num_classes if conditional else 0,
        categorical=model_cfg.info_categorical,
        continuous=model_cfg.info_continuous,
    )
