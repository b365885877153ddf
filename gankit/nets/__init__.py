"""Generators and discriminators. ``build_networks`` turns a ``ModelConfig`` into (G, D).

Each architecture in ``ARCHITECTURES`` builds two *bodies*: G's (z → sample) and D's (a ``trunk`` to
features and a ``head`` to one logit). Every recipe then trains the same two wrappers around them:
:class:`~gankit.nets.generator.Generator` (class embedding for a conditional G) and
:class:`~gankit.nets.discriminator.Discriminator` (packing, conditioning, minibatch features, InfoGAN's
Q head). ``build_encoder`` adds the encoder of the mode-regularised GAN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gankit.config import ModelConfig
from gankit.errors import ConfigError
from gankit.latent import LatentSpace, latent_space
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.nets.dcgan_tf import DCGANTFDiscriminator, DCGANTFGenerator
from gankit.nets.discriminator import Discriminator, DiscriminatorOutput, QOutput, body_input_shape
from gankit.nets.encoder import Encoder
from gankit.nets.generator import Generator
from gankit.nets.infogan import InfoGANDiscriminator
from gankit.nets.init import INITS
from gankit.nets.maxout import Maxout, MaxoutDiscriminator
from gankit.nets.minibatch import MinibatchDiscrimination, MinibatchStdDev
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator
from gankit.nets.mnist_conv import MnistConvDiscriminator, MnistConvGenerator
from gankit.nets.small_dcgan import IMAGE_SIZE, SmallDCGANDiscriminator, SmallDCGANGenerator
from gankit.registry import Registry

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Architecture:
    """Body builders: ``generator(cfg, input_dim, data_shape)`` and ``discriminator(cfg, input_shape)``.

    ``input_shape`` is what D's body reads: the data shape with extra channels for packing and concatenated
    labels (for 2-D points: extra features).
    """

    generator: Callable[[ModelConfig, int, Shape], nn.Module]
    discriminator: Callable[[ModelConfig, Shape], nn.Module]
    check: Callable[[Shape], None] = lambda shape: None


def _square_images(shape: Shape) -> None:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(f"model.arch=dcgan needs square images, got data of shape {shape}")


def _mnist_shape(shape: Shape) -> None:
    if tuple(shape) != (1, 28, 28):
        raise ConfigError(
            f"model.arch=mnist-conv, infogan and infogan-authors-g are built for 1×28×28 images, got data of shape "
            f"{shape}; use model.arch=dcgan for other sizes"
        )


def _dcgan_tf_shape(shape: Shape) -> None:
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] < 16:
        raise ConfigError(
            f"model.arch=dcgan-tf needs square images of at least 16×16 pixels, got data of shape {shape}"
        )


def _small_dcgan_shape(shape: Shape) -> None:
    if len(shape) != 3 or tuple(shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
        raise ConfigError(
            f"model.arch=small-dcgan is built for 28×28 images (Stacked MNIST), got data of shape {shape}; "
            "use model.arch=dcgan for other sizes"
        )


ARCHITECTURES: Registry[Architecture] = Registry(
    "architecture",
    {
        "mlp": Architecture(
            generator=lambda cfg, n, shape: MLPGenerator(
                n, shape, cfg.g_width, cfg.mlp_layers, tanh=len(shape) == 3, batch_norm=cfg.g_norm == "batch"
            ),
            discriminator=lambda cfg, shape: MLPDiscriminator(shape, cfg.d_width, cfg.discriminator_layers),
        ),
        # PacGAN's 2-D nets (Lin et al. 2018, sec. 5.1, from ALI's): G of constant width with batch norm, maxout D
        "maxout": Architecture(
            generator=lambda cfg, n, shape: MLPGenerator(
                n, shape, cfg.g_width, cfg.mlp_layers, tanh=len(shape) == 3, growth=1, batch_norm=True, bias=False
            ),
            discriminator=lambda cfg, shape: MaxoutDiscriminator(
                shape, cfg.d_width, cfg.discriminator_layers, cfg.maxout_pieces
            ),
        ),
        "dcgan": Architecture(
            generator=lambda cfg, n, shape: DCGANGenerator(n, shape[0], shape[1], cfg.g_width),
            discriminator=lambda cfg, shape: DCGANDiscriminator(shape[0], shape[1], cfg.d_width, cfg.d_norm),
            check=_square_images,
        ),
        # Kim's DCGAN-tensorflow (5×5 kernels, 4 stages), as VEEGAN's and PacGAN's Stacked-MNIST code (Table 2)
        "dcgan-tf": Architecture(
            generator=lambda cfg, n, shape: DCGANTFGenerator(n, shape[0], shape[1], cfg.g_width),
            discriminator=lambda cfg, shape: DCGANTFDiscriminator(shape[0], shape[1], cfg.d_width),
            check=_dcgan_tf_shape,
        ),
        "mnist-conv": Architecture(
            generator=lambda cfg, n, shape: MnistConvGenerator(n, width=cfg.g_width),
            discriminator=lambda cfg, shape: MnistConvDiscriminator(shape[0], cfg.d_width),
            check=_mnist_shape,
        ),
        "infogan": Architecture(
            generator=lambda cfg, n, shape: MnistConvGenerator(n, width=cfg.g_width),
            discriminator=lambda cfg, shape: InfoGANDiscriminator(shape[0], cfg.d_width),
            check=_mnist_shape,
        ),
        # the same D with the authors' G (openai/InfoGAN: batch norm before each ReLU); see gankit.nets.infogan
        "infogan-authors-g": Architecture(
            generator=lambda cfg, n, shape: MnistConvGenerator(n, norm_first=True, width=cfg.g_width),
            discriminator=lambda cfg, shape: InfoGANDiscriminator(shape[0], cfg.d_width),
            check=_mnist_shape,
        ),
        # the unrolled-GAN Stacked-MNIST nets with a small D (Metz et al. 2017; PacGAN Table 3)
        "small-dcgan": Architecture(
            generator=lambda cfg, n, shape: SmallDCGANGenerator(n, shape[0], cfg.g_width),
            discriminator=lambda cfg, shape: SmallDCGANDiscriminator(shape[0], cfg.d_width),
            check=_small_dcgan_shape,
        ),
    },
)


def _architecture(cfg: ModelConfig, data_shape: Shape) -> Architecture:
    arch = ARCHITECTURES.lookup(cfg.arch, "model.arch")
    arch.check(tuple(data_shape))
    return arch


def build_networks(
    cfg: ModelConfig, data_shape: Shape, space: LatentSpace | None = None
) -> tuple[Generator, Discriminator]:
    """G and D for samples of ``data_shape`` ((C, H, W) images or (D,) points).

    ``space`` is what G reads (``gankit.latent.latent_space(cfg, num_classes)``, built once by the caller);
    by default the unconditional space of ``cfg``.
    """
    data_shape = tuple(data_shape)
    arch = _architecture(cfg, data_shape)
    space = space if space is not None else latent_space(cfg)
    embed_dim = cfg.label_embed_dim if space.num_classes else 0
    g = Generator(arch.generator(cfg, space.input_dim + embed_dim, data_shape), space.num_classes, embed_dim)
    d_input = body_input_shape(data_shape, cfg.pack, space.num_classes if cfg.conditioning == "concat" else 0)
    d = Discriminator(
        arch.discriminator(cfg, d_input),
        data_shape,
        pack=cfg.pack,
        num_classes=space.num_classes,
        conditioning=cfg.conditioning,
        minibatch=cfg.minibatch,
        mbd_kernels=cfg.mbd_kernels,
        mbd_kernel_dim=cfg.mbd_kernel_dim,
        categorical=space.categorical,
        continuous=space.continuous,
        continuous_std=cfg.info_continuous_std,
    )
    init = INITS.lookup(cfg.init, "model.init")
    init(g)
    init(d)
    if cfg.spectral_norm:
        add_spectral_norm(d)
    return g, d


def build_encoder(cfg: ModelConfig, data_shape: Shape) -> Encoder:
    """E: x → G's noise input, on the trunk of a fresh D body of the same architecture (Che et al. 2017)."""
    data_shape = tuple(data_shape)
    arch = _architecture(cfg, data_shape)
    body = arch.discriminator(cfg, data_shape)
    encoder = Encoder(body.trunk, data_shape, cfg.latent_dim, tanh=cfg.latent_dist == "uniform")
    INITS.lookup(cfg.init, "model.init")(encoder)
    return encoder


def add_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalise every conv and linear layer of ``module`` in place (Miyato et al. 2018)."""
    for name, child in module.named_children():
        if isinstance(child, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            setattr(module, name, spectral_norm(child))
        else:
            add_spectral_norm(child)
    return module


__all__ = [
    "ARCHITECTURES",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DCGANTFDiscriminator",
    "DCGANTFGenerator",
    "Discriminator",
    "DiscriminatorOutput",
    "Encoder",
    "Generator",
    "InfoGANDiscriminator",
    "MLPDiscriminator",
    "MLPGenerator",
    "Maxout",
    "MaxoutDiscriminator",
    "MinibatchDiscrimination",
    "MinibatchStdDev",
    "MnistConvDiscriminator",
    "MnistConvGenerator",
    "QOutput",
    "SmallDCGANDiscriminator",
    "SmallDCGANGenerator",
    "add_spectral_norm",
    "build_encoder",
    "build_networks",
]
