"""One registry of datasets.

``load_dataset(name_or_path)`` returns a :class:`Dataset`. Names come from
:func:`available_datasets`; a path to an ``.npz`` file (``X``, ``sensitive``, optional
``y``) loads custom data. Nothing is downloaded unless ``download=True``.

Images are float32 in [0, 1], shape ``N x C x H x W``; features are ``N x D``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import DataFileError, FairclustError

__all__ = ["Dataset", "register", "load_dataset", "available_datasets", "DATASETS"]


@dataclass
class Dataset:
    """A data set: samples, sensitive groups, optional classes and what they mean."""

    name: str
    X: np.ndarray
    sensitive: np.ndarray
    y: np.ndarray | None = None
    group_names: list[str] = field(default_factory=list)
    sensitive_attribute: str = "group"
    kind: str = "image"
    description: str = ""

    def __post_init__(self) -> None:
        n = self.X.shape[0]
        if self.sensitive.shape[0] != n or (self.y is not None and self.y.shape[0] != n):
            raise FairclustError(f"dataset {self.name!r}: X, sensitive and y must have the same length")

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_classes(self) -> int | None:
        return None if self.y is None else int(len(np.unique(self.y)))

    def subset(self, idx: np.ndarray) -> "Dataset":
        return Dataset(self.name, self.X[idx], self.sensitive[idx], None if self.y is None else self.y[idx],
                       self.group_names, self.sensitive_attribute, self.kind, self.description)


@dataclass
class _Entry:
    builder: Callable[..., Dataset]
    description: str
    embedded: bool


DATASETS: dict[str, _Entry] = {}


def register(name: str, description: str, *, embedded: bool = False):
    """Decorator: add a builder ``f(data_dir=None, download=False, seed=0) -> Dataset``."""

    def deco(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
        DATASETS[name] = _Entry(fn, description, embedded)
        return fn

    return deco


def available_datasets(embedded_only: bool = False) -> list[str]:
    return sorted(n for n, e in DATASETS.items() if e.embedded or not embedded_only)


def limit_indices(sensitive: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``limit`` samples per group, drawn with ``seed``."""
    if int(limit) <= 0:
        raise FairclustError(f"--limit must be positive, got {limit}")
    rng = np.random.default_rng(seed)
    keep = []
    for g in np.unique(sensitive):
        members = np.flatnonzero(sensitive == g)
        keep.append(members if len(members) <= limit else rng.choice(members, int(limit), replace=False))
    return np.sort(np.concatenate(keep))


def limit_per_group(ds: Dataset, limit: int | None, seed: int) -> Dataset:
    """At most ``limit`` samples per group, drawn with ``seed`` (original order kept)."""
    if limit is None:
        return ds
    return ds.subset(limit_indices(ds.sensitive, limit, seed))


def load_dataset(name: str | Path, *, data_dir: str | Path | None = None, download: bool = False,
                 limit: int | None = None, seed: int = 0, **kwargs: Any) -> Dataset:
    """Build a registered data set by name, or load a custom ``.npz`` / image-folder ``.csv`` file by path.

    Builders receive ``limit`` too, so those that extract features can skip samples that
    ``limit_per_group`` would drop anyway (same seed, same draw).
    """

    key = str(name)
    if key in DATASETS:
        entry = DATASETS[key]
        ds = entry.builder(data_dir=data_dir, download=download, seed=seed, limit=limit, **kwargs)
    elif key.endswith(".npz") or Path(key).suffix in (".npz", ".csv"):
        ds = custom.load_path(Path(key), download=download, limit=limit, seed=seed, **kwargs)
    else:
        raise FairclustError(
            f"unknown dataset {key!r}; choose one of {', '.join(available_datasets())} "
            "or pass a .npz or .csv file path"
        )
    return limit_per_group(ds, limit, seed)


# the builders register themselves on import (after the registry above exists)
from . import custom, embedded, paper  # noqa: E402,F401
