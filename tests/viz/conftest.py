"""Tiny trained runs shared by the visualisation tests (trained once per session)."""

from __future__ import annotations

import pytest

from tests.helpers import train_once


@pytest.fixture(scope="session")
def image_run(tmp_path_factory):
    """An MLP GAN on the MNIST sample: 6 steps, logs every 2, grids at 0, 2 and 6, a final checkpoint."""
    return train_once(tmp_path_factory, "image", **{"train.steps": 6, "train.sample_at": (0, 2)})


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory):
    """An MLP GAN on the ring of 8 Gaussians, z ∈ R²."""
    return train_once(
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
