"""Custom data: an ``.npz`` file with ``X`` (N x C x H x W images or N x D features),
``sensitive`` (N group ids or names) and optionally ``y`` (N classes)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataFileError
from .registry import Dataset


def _npz_problem(path: Path, exc: Exception) -> str:
    if not zipfile.is_zipfile(path):
        return "not a zip archive: truncated, or not written by numpy.savez"
    if isinstance(exc, ValueError) and "pickle" in str(exc):
        return "it holds object arrays, which fairclust never unpickles"
    return f"corrupt data: {(str(exc).splitlines() or [type(exc).__name__])[0][:120]}"


def load_npz(path: Path) -> Dataset:
    if not path.is_file():
        raise DataFileError(f"data file {str(path)!r} does not exist; pass an existing .npz with arrays X and sensitive")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
        raise DataFileError(
            f"{str(path)!r} is not a readable .npz file ({_npz_problem(path, exc)}); write it with "
            "numpy.savez(path, X=..., sensitive=..., y=...)"
        ) from None
    missing = [k for k in ("X", "sensitive") if k not in arrays]
    if missing:
        raise DataFileError(
            f"{str(path)!r} lacks array(s) {', '.join(missing)}; it holds {sorted(arrays)}, expected X, sensitive"
            " and optionally y"
        )
    X = arrays["X"]
    if X.dtype.kind not in "biuf":
        raise DataFileError(f"{str(path)!r}: X has non-numeric dtype {X.dtype}; store numbers")
    X = X.astype(np.float32)
    if X.ndim == 3:
        X = X[:, None]
    kind = "image" if X.ndim == 4 else "features"
    if kind == "image" and X.size and X.max() > 1.0 and X.min() >= 0.0 and X.max() <= 255.0:
        X = X / 255.0  # 8-bit images
    sens = arrays["sensitive"].reshape(-1)
    y = arrays.get("y")
    if y is not None:
        y = y.reshape(-1)
    n = X.shape[0]
    for key, arr in (("sensitive", sens), ("y", y)):
        if arr is not None and arr.shape[0] != n:
            raise DataFileError(f"{str(path)!r}: X has {n} samples but {key} has {arr.shape[0]}; store one per sample")
    groups = [str(g) for g in np.unique(sens)]
    return Dataset(name=path.stem, X=X, sensitive=sens, y=y, group_names=groups, kind=kind,
                   description=f"custom data from {path}")


def load_path(path: Path, **kwargs) -> Dataset:
    """A data file by its suffix: ``.npz`` arrays, a ``.csv`` image-folder index, or a feature
    table (``.csv`` / ``.tsv`` / ``.parquet``; which ``.csv`` is which: :mod:`.table`)."""
    from . import table

    suffix = path.suffix.lower()
    if table.table_options_given(kwargs) and suffix not in table.TABLE_SUFFIXES:
        raise DataFileError(f"--sensitive, --label, --one-hot and --features apply to tables (.csv, .tsv, .parquet), "
                            f"not to {str(path)!r}; leave them out")
    if suffix == ".npz":
        return load_npz(path)
    if suffix == ".csv" and not table.table_options_given(kwargs) and (
            not path.is_file() or table.looks_like_image_index(path)):
        from .folder import load_csv

        return load_csv(path, **kwargs)
    if suffix in table.TABLE_SUFFIXES:
        return table.load_table(path, **kwargs)
    raise DataFileError(f"unsupported data file {str(path)!r}; pass a .npz file with X, sensitive and optional y, "
                        "a .csv of image paths 'path,group[,label]', or a .csv/.tsv/.parquet table with --sensitive")
