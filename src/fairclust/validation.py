"""Checks of user-given values shared by the estimators and the command line (one rule, one place).

Every check raises :class:`fairclust.errors.FairclustError` (a ``ValueError``) or
:class:`~fairclust.errors.FairclustTypeError` with one line naming the problem and the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .attributes import _plain, parse
from .errors import FairclustError, FairclustTypeError


def check_delta(value: Any, name: str = "delta", example: str = "delta=0.2", hint: str = " (smaller is fairer)") -> float:
    """The proportion-bound slack as a float in [0, 1), or a one-line error naming ``name``."""
    try:
        delta = float(value)
    except (TypeError, ValueError):
        raise FairclustError(f"{name} must be a number in [0, 1), got {value!r}; e.g. {example}") from None
    if not 0.0 <= delta < 1.0:
        raise FairclustError(f"{name} must be in [0, 1), got {delta}; e.g. {example}{hint}")
    return delta


def standardisation(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and scale (standard deviation + 1e-6) of ``N x D`` features: the one
    standardisation of fairclust (the networks' input, the group probe's)."""
    return X.mean(0), X.std(0) + 1e-6


def check_X(X: Any, *, name: str = "X", min_samples: int = 2) -> np.ndarray:
    """Validate samples: ``N x D`` features or ``N x C x H x W`` images (``N x H x W`` gets C = 1).

    Returns a C-contiguous float32 array.
    """
    if X is None:
        raise FairclustTypeError(f"{name} is None; pass an array of shape (n_samples, n_features) or (n, C, H, W)")
    if hasattr(X, "toarray") and not isinstance(X, np.ndarray):
        raise FairclustTypeError(f"{name} is a sparse matrix; pass a dense array (X.toarray())")
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise FairclustTypeError(f"{name} could not be read as an array ({exc}); pass a rectangular numeric array") from None
    if arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "c":
            raise FairclustTypeError(f"{name} holds complex numbers; pass real-valued data")
        try:
            arr = arr.astype(np.float32)
        except (TypeError, ValueError):
            raise FairclustTypeError(f"{name} holds non-numeric values (dtype {arr.dtype}); pass numbers only") from None
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim not in (2, 4):
        raise FairclustError(
            f"{name} has shape {arr.shape}; expected (n_samples, n_features) or (n_samples, C, H, W) images"
        )
    if arr.shape[0] < min_samples:
        raise FairclustError(f"{name} has {arr.shape[0]} sample(s); at least {min_samples} needed")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise FairclustError(f"{name} has 0 features; pass at least one feature per sample")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    step = 65536  # in chunks: no second full-size (boolean) array on large data
    if not all(np.isfinite(arr[s:s + step]).all() for s in range(0, arr.shape[0], step)):
        bad = int((~np.isfinite(arr)).reshape(arr.shape[0], -1).any(axis=1).sum())
        raise FairclustError(f"{name} contains NaN or inf in {bad} sample(s); remove or impute them first")
    return arr


def check_sensitive(sensitive_features: Any, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Encode groups as ``0..M-1`` (groups in sorted order); returns ``(codes, group_values)``.

    Several attributes (``N x A``, a DataFrame, a dict of columns; :mod:`fairclust.attributes`):
    the groups are their intersection's cells, named ``"a/b"``."""
    att = parse(sensitive_features, n_samples)
    return att.cells, att.cell_names



def check_n_clusters(n_clusters: Any, n_samples: int, group_sizes: np.ndarray | None = None,
                     groups: np.ndarray | None = None) -> int:
    if isinstance(n_clusters, (bool, np.bool_)) or not isinstance(n_clusters, (int, np.integer)):
        raise FairclustTypeError(f"n_clusters must be an integer, got {n_clusters!r}")
    k = int(n_clusters)
    if k <= 0:
        raise FairclustError(f"n_clusters must be positive, got {k}")
    if k > n_samples:
        raise FairclustError(f"n_clusters={k} is larger than the number of samples ({n_samples}); lower n_clusters")
    if group_sizes is not None:
        g = int(np.argmin(group_sizes))
        if group_sizes[g] < k:
            name = _plain(groups[g]) if groups is not None else g
            raise FairclustError(
                f"group {name!r} has only {int(group_sizes[g])} samples, fewer than n_clusters={k}; "
                "lower n_clusters or add samples to that group"
            )
    return k
