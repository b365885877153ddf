"""Tiny trained runs shared by the visualisation tests (trained once per session)."""

from __future__ import annotations

import pytest

from gankit import train
from tests.helpers import tiny


def _train_once(tmp_path_factory, name: str, recipe: str = "nsgan", **overrides):
    with pytest.MonkeyPatch.context() as mp:  # no data from this machine, as in tests/conftest.py
        mp.delenv("GANKIT_DATA_DIR", raising=False)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        run = tmp_path_factory.mktemp(name) / "run"
        train(tiny(recipe, **overrides), run, echo=False)
    return run


@pytest.fixture(scope="session")
def image_run(tmp_path_factory):
    """An MLP GAN on the MNIST sample: 6 steps, logs every 2, grids at 0, 2 and 6, a final checkpoint."""
    return _train_once(tmp_path_factory, "image", **{"train.steps": 6, "train.sample_at": (0, 2)})


@pytest.fixture(scope="session")
def cgan_run(tmp_path_factory):
    """A class-conditional DCGAN (concatenated label embedding) on the MNIST sample, 2 steps."""
    return _train_once(tmp_path_factory, "cgan", "cgan", **{"train.steps": 2})


@pytest.fixture(scope="session")
def infogan_run(tmp_path_factory):
    """An InfoGAN (62 noise dims, a 10-way categorical code c1, continuous codes c2, c3) on the MNIST sample."""
    return _train_once(tmp_path_factory, "infogan", "infogan", **{"train.steps": 2})


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory):
    """An MLP GAN on the ring of 8 Gaussians, z ∈ R²."""
    return _train_once(
        tmp_path_factory,
        "toy",
        **{"data.name": "ring8", "data.toy_points": 2000, "model.latent_dim": 2, "train.grid_size": 256},
    )


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium, installed with apt-get (Debian's package) if missing."""
    from tests.viz.browser import install_chromium

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed: pip install -r requirements-dev.txt")
    path, why = install_chromium()
    if path is None:
        pytest.skip(f"no browser for the end-to-end test: {why}")
    return path
