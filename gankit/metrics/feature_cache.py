"""Features of the reference images, kept in memory and cached on disk, so a repeated ``gankit eval`` skips them.

An entry is keyed by everything its features depend on: the extractor (name and SHA-256 of its weights),
the precision they were computed in, and the images themselves (SHA-256 of the uint8 tensor as loaded,
after any resizing, with its shape and dtype), so changed data files, another split or ``n_real``, other
weights or another precision give another entry. The images' hash is taken instead of the files' because it
covers every data source (IDX files, image folders, Stacked MNIST built from MNIST) and costs ~20 ms for
10,000 MNIST images.

On disk (``$GANKIT_CACHE_DIR``, default ``$XDG_CACHE_HOME/gankit/features`` or ``~/.cache/gankit/features``):
one safetensors file per entry, named by the key's hash, holding the float32 features and, as JSON in its
metadata, the key and the features' SHA-256. It is written to a temporary file and renamed, so a reader never
sees half a file. On reading, a file that cannot be parsed, was made for another key (stale), has the wrong
shape or dtype, or whose bytes do not match their checksum (corrupt) is reported in one log line and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from gankit.metrics.extractors import FeatureExtractor

FORMAT = 1  # bump when the layout of an entry changes: old files then read as stale
ENV_DIR = "GANKIT_CACHE_DIR"

_MEMORY: dict[str, torch.Tensor] = {}  # one entry, the last reference used in this process


def default_cache_dir() -> Path:
    """``$GANKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/gankit/features`` (``~/.cache/gankit/features``)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "gankit" / "features"


def tensor_sha256(x: torch.Tensor) -> str:
    return hashlib.sha256(x.detach().contiguous().cpu().numpy().tobytes()).hexdigest()


def cache_key(extractor: FeatureExtractor, images: torch.Tensor, precision: str) -> dict[str, Any]:
    """What the features of ``images`` depend on (see the module docstring)."""
    return {
        "format": FORMAT,
        "extractor": extractor.name,
        "extractor_sha256": extractor.sha256,
        "precision": precision,
        "images_sha256": tensor_sha256(images),
        "images_shape": list(images.shape),
        "images_dtype": str(images.dtype),
    }


def _key_text(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


@dataclass(frozen=True)
class FeatureCache:
    """Reference features from memory, from ``root`` (None: memory only), or computed and then stored."""

    root: Path | None
    log: Callable[[str], None] = lambda _: None

    def path(self, key: dict[str, Any]) -> Path:
        assert self.root is not None
        digest = hashlib.sha256(_key_text(key).encode()).hexdigest()[:24]
        return self.root / f"{key['extractor']}-{digest}.safetensors"

    def features(self, extractor: FeatureExtractor, images: torch.Tensor, precision: str) -> tuple[torch.Tensor, str]:
        """(features of ``images``, where they came from: "memory", "disk", or "computed")."""
        key = cache_key(extractor, images, precision)
        text = _key_text(key)
        path = self.path(key) if self.root is not None else None
        if text in _MEMORY:
            if path is not None and not path.is_file():  # computed earlier in this process without the disk
                self._write(path, text, _MEMORY[text])
            return _MEMORY[text], "memory"
        features = self._read(path, text, len(images)) if path is not None else None
        source = "disk" if features is not None else "computed"
        if features is None:
            features = extractor.features(images, precision)
            if path is not None:
                self._write(path, text, features)
        _MEMORY.clear()  # one reference at a time: 10k × 384 floats at most
        _MEMORY[text] = features
        return features, source

    def _read(self, path: Path, key: str, n: int) -> torch.Tensor | None:
        """The features stored at ``path`` for ``key``; None (and a log line if the file is bad) otherwise."""
        if not path.is_file():
            return None
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                features = f.get_tensor("features")
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:  # a damaged file
            return self._bad(path, f"cannot be read ({type(e).__name__}: {e})")
        if meta.get("key") != key:
            return self._bad(path, "was made for other inputs (stale)")
        if features.dtype != torch.float32 or features.dim() != 2 or len(features) != n:
            return self._bad(path, f"holds {features.dtype} features of shape {tuple(features.shape)}, not ({n}, D)")
        if tensor_sha256(features) != meta.get("features_sha256"):
            return self._bad(path, "does not match its checksum (corrupt)")
        return features

    def _bad(self, path: Path, why: str) -> None:
        self.log(f"feature cache: {path} {why}; recomputing the reference features")
        return None

    def _write(self, path: Path, key: str, features: torch.Tensor) -> None:
        """Store atomically (temporary file, then rename); a cache that cannot be written is only logged."""
        meta = {"key": key, "features_sha256": tensor_sha256(features)}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            try:
                save_file({"features": features.contiguous()}, tmp, metadata=meta)
                os.replace(tmp, path)
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError as e:
            self.log(f"feature cache: cannot write {path} ({e}); continuing without it")
