"""On-disk cache for pretraining stages, keyed by a hash of the data and the settings.

Entries are written with ``torch.save`` of plain tensors, numbers, strings, lists and
dicts only, and read back with ``torch.load(..., weights_only=True)``: loading a cache
entry never executes code from the file.

The location is, in order: the ``cache_dir`` argument, ``$FAIRCLUST_CACHE``,
``$XDG_CACHE_HOME/fairclust``, ``~/.cache/fairclust``. ``cache_dir=False`` disables it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import FairclustError
from .files import atomic_write_bytes

CACHE_VERSION = 1  # bump to invalidate every entry (the format); each stage also keys on its own code version


def default_cache_dir() -> Path:
    if os.environ.get("FAIRCLUST_CACHE"):
        return Path(os.environ["FAIRCLUST_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fairclust"


def fingerprint(*arrays: Any) -> str:
    """A short hash of arrays' shapes, dtypes and bytes (or of JSON-able values)."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        if isinstance(a, np.ndarray):
            a = np.ascontiguousarray(a)
            h.update(f"{a.shape}{a.dtype.str}".encode())
            h.update(memoryview(a).cast("B"))
        else:
            h.update(json.dumps(a, sort_keys=True, default=str).encode())
    return h.hexdigest()


class StageCache:
    """``get(stage, key)`` / ``put(stage, key, obj)`` for pretraining results."""

    def __init__(self, cache_dir: str | os.PathLike | bool | None = None):
        if cache_dir is False:
            self.root = None
        else:
            self.root = Path(cache_dir) if cache_dir not in (None, True) else default_cache_dir()

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def key(self, stage: str, **parts: Any) -> str:
        return fingerprint({"stage": stage, "version": CACHE_VERSION, **parts})

    def path(self, stage: str, key: str) -> Path:
        assert self.root is not None
        return self.root / stage / f"{key}.pt"

    def get(self, stage: str, key: str) -> dict | None:
        if not self.enabled:
            return None
        p = self.path(stage, key)
        if not p.exists():
            return None
        try:
            return torch.load(p, map_location="cpu", weights_only=True)
        except Exception:  # a corrupt or foreign entry is recomputed, never trusted
            return None

    def put(self, stage: str, key: str, obj: dict) -> None:
        if not self.enabled:
            return
        buf = io.BytesIO()
        torch.save(obj, buf)
        try:
            atomic_write_bytes(self.path(stage, key), buf.getvalue())
        except OSError as exc:
            raise FairclustError(f"cannot write the pretraining cache under {self.root} ({exc.strerror or exc}); "
                                 "pass --cache-dir DIR (cache_dir=...) with a writable DIR, or --no-cache") from exc
