"""One registry of datasets.

``load_dataset(name_or_path)`` returns a :class:`Dataset`. Names come from
:func:`available_datasets`; a path to an ``.npz`` file (``X``, ``sensitive``, optional
``y``) loads custom data, a ``.csv`` / ``.tsv`` / ``.parquet`` table with
``sensitive="COLUMN"`` a feature table (:mod:`.tabular`). Nothing is downloaded unless
``download=True``.

Images are float32 in [0, 1], shape ``N x C x H x W``; features are ``N x D``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import FairclustError
from . import custom, embedded, fashion, paper  # noqa: F401  (the builders register themselves on import)
from .registry import (
    DATASETS,
    Dataset,
    available_datasets,
    limit_indices,
    limit_per_group,
    register,
)
from .tabular import table_options_given

__all__ = ["Dataset", "register", "load_dataset", "available_datasets", "DATASETS", "limit_indices", "limit_per_group"]


def load_dataset(name: str | Path, *, data_dir: str | Path | None = None, download: bool = False,
                 limit: int | None = None, seed: int = 0, **kwargs: Any) -> Dataset:
    """Build a registered data set by name, or load a custom ``.npz`` / image-folder ``.csv`` file by path,
    or a feature table (``.csv`` / ``.tsv`` / ``.parquet``) with ``sensitive="COLUMN"`` and optionally
    ``label="COLUMN"``, ``one_hot=True``, ``features=[...]`` (:mod:`fairclust.data.tabular`).

    Builders receive ``limit`` too, so those that extract features can skip samples that
    ``limit_per_group`` would drop anyway (same seed, same draw).
    """

    key = str(name)
    if key in DATASETS:
        if table_options_given(kwargs):
            raise FairclustError(f"--sensitive, --label, --one-hot and --features apply to table files (.csv, .tsv, "
                                 f".parquet), not to the registered data set {key!r}; leave them out")
        entry = DATASETS[key]
        ds = entry.builder(data_dir=data_dir, download=download, seed=seed, limit=limit, **kwargs)
    elif Path(key).suffix.lower() in (".npz", ".csv", ".tsv", ".parquet", ".pq"):
        ds = custom.load_path(Path(key), download=download, limit=limit, seed=seed, **kwargs)
    else:
        raise FairclustError(
            f"unknown dataset {key!r}; choose one of {', '.join(available_datasets())} "
            "or pass a .npz, .csv, .tsv or .parquet file path"
        )
    return limit_per_group(ds, limit, seed)
