"""Custom data: an ``.npz`` file with ``X`` (N x C x H x W images or N x D features),
``sensitive`` (N group ids or names) and optionally ``y`` (N classes)."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataFileError
from . import tabular as table
from .folder import load_csv
from .registry import Dataset, with_attributes


def _npz_problem(path: Path, exc: Exception) -> str:
    if not zipfile.is_zipfile(path):
        return "not a zip archive: truncated, or not written by numpy.savez"
    if isinstance(exc, ValueError) and "pickle" in str(exc):
        return "it holds object arrays, which fairclust never unpickles"
    return f"corrupt data: {(str(exc).splitlines() or [type(exc).__name__])[0][:120]}"


def mapped_member(path: Path, name: str) -> np.memmap | None:
    """Array ``name`` of an uncompressed ``.npz`` (``numpy.savez``) mapped from the file, not read.

    Copy-on-write (``mode="c"``): the array is writable but the file never changes, and only the
    pages that are read (or written) take memory; larger-than-memory data then train from the
    page cache. ``None`` when the member is compressed (``savez_compressed``), absent, or not a
    plain numeric array (those are read as usual).
    """

    with zipfile.ZipFile(path) as zf:
        try:
            info = zf.getinfo(f"{name}.npy")
        except KeyError:
            return None
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        with open(path, "rb") as fh:
            fh.seek(info.header_offset)
            local = fh.read(30)  # the local file header: its name and extra field lengths are its own
            if local[:4] != b"PK\x03\x04":
                return None
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            start = info.header_offset + 30 + name_len + extra_len
            fh.seek(start)
            version = np.lib.format.read_magic(fh)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                return None
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
    if fortran or dtype.hasobject or dtype.kind not in "biuf" or not shape or not shape[0]:
        return None
    return np.memmap(path, dtype=dtype, mode="c", offset=offset, shape=shape)


def load_npz(path: Path) -> Dataset:
    """``X``, ``sensitive`` and ``y`` of an ``.npz``; an uncompressed float32 ``X`` is memory-mapped
    (:func:`mapped_member`), anything else read, converted to float32 and scaled once, in place."""
    if not path.is_file():
        raise DataFileError(f"data file {str(path)!r} does not exist; pass an existing .npz with arrays X and sensitive")
    try:
        X_mapped = mapped_member(path, "X")
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files if not (k == "X" and X_mapped is not None and X_mapped.dtype == np.float32)}
        if "X" not in arrays and X_mapped is not None:
            arrays["X"] = X_mapped
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
    X = arrays.pop("X")
    if X.dtype.kind not in "biuf":
        raise DataFileError(f"{str(path)!r}: X has non-numeric dtype {X.dtype}; store numbers")
    X = X.astype(np.float32, copy=False)  # a float32 X (mapped or read) stays the one copy
    if X.ndim == 3:
        X = X[:, None]
    kind = "image" if X.ndim == 4 else "features"
    if kind == "image" and X.size:
        lo, hi = float(X.min()), float(X.max())
        if hi > 1.0 and lo >= 0.0 and hi <= 255.0:  # 8-bit images
            if isinstance(X, np.memmap):
                X = X / np.float32(255.0)  # a scaled copy (in memory)
            else:
                np.divide(X, np.float32(255.0), out=X)
    sens = arrays["sensitive"]
    sens = sens.reshape(-1) if sens.ndim < 2 or sens.shape[1] == 1 else sens
    y = arrays.get("y")
    if y is not None:
        y = y.reshape(-1)
    n = X.shape[0]
    for key, arr in (("sensitive", sens), ("y", y)):
        if arr is not None and arr.shape[0] != n:
            raise DataFileError(f"{str(path)!r}: X has {n} samples but {key} has {arr.shape[0]}; store one per sample")
    if sens.ndim == 2:  # several sensitive attributes, one per column (named by sensitive_names)
        names = arrays.get("sensitive_names")
        names = ([f"attribute_{a}" for a in range(sens.shape[1])] if names is None
                 else [str(v) for v in names.reshape(-1)])
        if len(names) != sens.shape[1] or len(set(names)) != len(names):
            raise DataFileError(f"{str(path)!r}: sensitive_names holds {len(names)} name(s) for {sens.shape[1]} "
                                "sensitive columns; store one distinct name per column")
        return with_attributes(path.stem, X, {n: sens[:, a] for a, n in enumerate(names)}, y, kind=kind,
                               description=f"custom data from {path}")
    if sens.ndim != 1:
        raise DataFileError(f"{str(path)!r}: sensitive has shape {sens.shape}; store one group per sample (N) or "
                            "one column per attribute (N x A)")
    groups = [str(g) for g in np.unique(sens)]
    return Dataset(name=path.stem, X=X, sensitive=sens, y=y, group_names=groups, kind=kind,
                   description=f"custom data from {path}")


def load_path(path: Path, **kwargs) -> Dataset:
    """A data file by its suffix: ``.npz`` arrays, a ``.csv`` image-folder index, or a feature
    table (``.csv`` / ``.tsv`` / ``.parquet``; which ``.csv`` is which: :mod:`.tabular`)."""

    suffix = path.suffix.lower()
    if table.table_options_given(kwargs) and suffix not in table.TABLE_SUFFIXES:
        raise DataFileError(f"--sensitive, --label, --one-hot and --features apply to tables (.csv, .tsv, .parquet), "
                            f"not to {str(path)!r}; leave them out")
    if suffix == ".npz":
        return load_npz(path)
    if suffix == ".csv" and not table.table_options_given(kwargs) and (
            not path.is_file() or table.looks_like_image_index(path)):

        return load_csv(path, **kwargs)
    if suffix in table.TABLE_SUFFIXES:
        return table.load_table(path, **kwargs)
    raise DataFileError(f"unsupported data file {str(path)!r}; pass a .npz file with X, sensitive and optional y, "
                        "a .csv of image paths 'path,group[,label]', or a .csv/.tsv/.parquet table with --sensitive")
