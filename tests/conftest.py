"""Shared fixtures: isolate every test from data on this machine."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dirs(tmp_path_factory, monkeypatch):
    """No test may find MNIST files on the machine: the embedded sample or files the test makes are used."""
    monkeypatch.delenv("GANKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
