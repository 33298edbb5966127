"""The registry of data sets: :class:`Dataset`, :func:`register` and per-group limits.

Builders (:mod:`.embedded`, :mod:`.paper`) register themselves here on import;
:func:`fairclust.data.load_dataset` looks names up in :data:`DATASETS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..attributes import SEPARATOR, cell_labels
from ..errors import FairclustError
from ..sampling import sample_per_group


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
    attributes: dict[str, np.ndarray] | None = None  # several sensitive attributes: name -> one value per sample

    # With ``attributes`` (two or more), ``sensitive`` is their intersection (the values joined by "/",
    # :func:`fairclust.attributes.cell_labels`), ``group_names`` its cells: everything that reads one
    # group per sample (limits, figures, Balance of the cells) reads the cells; the methods get
    # :attr:`fit_sensitive` and the metrics report each attribute too.

    def __post_init__(self) -> None:
        n = self.X.shape[0]
        if self.sensitive.shape[0] != n or (self.y is not None and self.y.shape[0] != n):
            raise FairclustError(f"dataset {self.name!r}: X, sensitive and y must have the same length")
        if self.attributes is not None and any(np.asarray(v).shape[0] != n for v in self.attributes.values()):
            raise FairclustError(f"dataset {self.name!r}: every sensitive attribute needs one value per sample")

    @property
    def fit_sensitive(self):
        """What a method's ``fit`` takes as ``sensitive_features``: the attributes (a dict of named
        columns) where there are several, else the one group per sample."""
        return self.sensitive if self.attributes is None else dict(self.attributes)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_classes(self) -> int | None:
        return None if self.y is None else int(len(np.unique(self.y)))

    def subset(self, idx: np.ndarray) -> "Dataset":
        return Dataset(self.name, self.X[idx], self.sensitive[idx], None if self.y is None else self.y[idx],
                       self.group_names, self.sensitive_attribute, self.kind, self.description,
                       None if self.attributes is None else {k: np.asarray(v)[idx] for k, v in self.attributes.items()})


def with_attributes(name: str, X: np.ndarray, attributes: dict[str, np.ndarray], y: np.ndarray | None = None, *,
                    kind: str = "image", description: str = "") -> Dataset:
    """A :class:`Dataset` of several sensitive attributes (one: the plain one-attribute data set):
    ``sensitive`` is their intersection, named by the values joined with ``/``."""
    cols = [np.asarray(v).reshape(-1) for v in attributes.values()]
    if len(cols) == 1:
        (attr, col), = attributes.items()
        return Dataset(name, X, cols[0], y, [str(g) for g in np.unique(cols[0])], attr, kind, description)
    cells = cell_labels(cols)
    return Dataset(name, X, cells, y, [str(g) for g in np.unique(cells)], SEPARATOR.join(attributes), kind,
                   description, {k: c for k, c in zip(attributes, cols)})


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
    return sample_per_group(np.asarray(sensitive), int(limit), np.random.default_rng(seed), draw_small=False)


def limit_per_group(ds: Dataset, limit: int | None, seed: int) -> Dataset:
    """At most ``limit`` samples per group, drawn with ``seed`` (original order kept)."""
    if limit is None:
        return ds
    return ds.subset(limit_indices(ds.sensitive, limit, seed))


def data_root(data_dir: str | os.PathLike | None) -> Path:
    """``data_dir``, else ``$FAIRCLUST_DATA``, else ``./data``."""
    return Path(data_dir if data_dir is not None else os.environ.get("FAIRCLUST_DATA", "data"))


def first_existing(candidates: list[Path]) -> Path | None:
    return next((p for p in candidates if p.is_file()), None)
