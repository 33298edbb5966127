"""What every fairclust estimator shares: input validation and the scikit-learn layer.

Every check raises :class:`fairclust.errors.FairclustError` (a ``ValueError``) or
:class:`~fairclust.errors.FairclustTypeError` with one line naming the problem and the fix.
"""

from __future__ import annotations

import inspect
from typing import Any, Iterable

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

from ..errors import FairclustError, FairclustTypeError
from ..metrics import factorize
from ..utils import check_seed


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
    """Encode groups as ``0..M-1`` (groups in sorted order); returns ``(codes, group_values)``."""
    if sensitive_features is None:
        raise FairclustError(
            "sensitive_features is required: pass fit(X, sensitive_features=groups), one group per sample"
        )
    sens = np.asarray(sensitive_features)
    if sens.ndim == 2 and 1 in sens.shape:
        sens = sens.reshape(-1)
    if sens.ndim != 1:
        raise FairclustError(f"sensitive_features has shape {sens.shape}; pass one group value per sample")
    if sens.shape[0] != n_samples:
        raise FairclustError(
            f"X has {n_samples} samples but sensitive_features has {sens.shape[0]}; pass one group per sample"
        )
    if sens.dtype.kind == "f" and not np.isfinite(sens).all():
        raise FairclustError("sensitive_features contains NaN or inf; give every sample a group")
    if sens.dtype.kind == "O":
        if bool((np.equal(sens, None) | (sens != sens)).any()):  # None / NaN among objects
            raise FairclustError("sensitive_features contains None or NaN; give every sample a group")
        sens = sens.astype(str)
    groups, codes = factorize(sens)
    if len(groups) < 2:
        raise FairclustError(
            f"sensitive_features holds a single group ({_plain(groups[0])!r}); "
            "fair clustering needs at least two groups"
        )
    return codes.reshape(-1).astype(np.int64), groups


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (for messages: ``1.0``, not ``np.float64(1.0)``)."""
    return value.item() if isinstance(value, np.generic) else value


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


def signature_init(params: Iterable[tuple[str, Any]]):
    """An ``__init__(self, n_clusters=10, *, name=default, ...)`` that stores every argument under
    its own name (scikit-learn's contract), with a real signature for ``get_params``/``clone``.

    For estimators whose arguments come from a declaration (DFC's from :data:`fairclust.config.SETTINGS`).
    """
    kw = inspect.Parameter.KEYWORD_ONLY
    sig = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                             inspect.Parameter("n_clusters", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=10)]
                            + [inspect.Parameter(name, kw, default=default) for name, default in params])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = sig  # type: ignore[attr-defined]
    return __init__


class EmbeddingMixin(TransformerMixin):
    """For estimators whose ``transform`` is an embedding (``fit_transform`` included).

    The embedding comes out of a float32 network (or float32 inputs), whatever the input dtype.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class FairClusterMixin(ClusterMixin, BaseEstimator):
    """Shared scikit-learn layer: validates ``fit`` inputs and records what was seen
    (``n_features_in_``, ``input_shape_``, ``groups_``, and ``seed_``: the seed used)."""

    def _validate_fit(self, X: Any, sensitive_features: Any) -> tuple[np.ndarray, np.ndarray]:
        X = check_X(X)
        codes, groups = check_sensitive(sensitive_features, X.shape[0])
        sizes = np.bincount(codes)
        check_n_clusters(self.n_clusters, X.shape[0], sizes, groups)
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        self.input_shape_ = tuple(int(v) for v in X.shape[1:])
        self.groups_ = groups
        return X, codes

    def _fit_seed(self) -> int:
        """The seed of this fit: ``random_state``, or one drawn when it is ``None``; kept as ``seed_``
        so that a run with a drawn seed can be repeated (``random_state=model.seed_``)."""
        self.seed_ = check_seed(self.random_state)
        return self.seed_

    def _group_codes(self, sensitive_features: Any, n_samples: int) -> np.ndarray:
        """Groups of new samples as the fit's codes (positions in ``groups_``); unknown groups are an error."""
        sens = np.asarray(sensitive_features).reshape(-1)
        if sens.shape[0] != n_samples:
            raise FairclustError(f"X has {n_samples} samples but sensitive_features has {sens.shape[0]}; "
                                 "pass one group per sample")
        known = np.asarray(self.groups_)
        as_known = sens.astype(known.dtype) if known.dtype.kind in "US" else sens
        pos = np.searchsorted(known, as_known)
        pos = np.clip(pos, 0, len(known) - 1)
        bad = known[pos] != as_known
        if bad.any():
            raise FairclustError(f"sensitive_features holds group {_plain(sens[np.argmax(bad)])!r}, which the model "
                                 f"was not fitted on (groups: {', '.join(map(str, known.tolist()))})")
        return pos.astype(np.int64)

    def _fit_scaler(self, X: np.ndarray) -> np.ndarray:
        """``X`` as the networks see it; feature vectors are standardised, images kept.

        Every method whose networks read ``X`` (DFC, the users of the shared encoder,
        ClusterGAN) calls this in ``fit``, so that they all train on the same input and share
        one cached pretraining. The statistics are kept for :meth:`_scale` in later calls.
        """
        if X.ndim == 2:
            self.scaler_mean_, self.scaler_scale_ = standardisation(X)
        else:
            self.scaler_mean_ = self.scaler_scale_ = None
        return self._scale(X)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """``X`` standardised with the statistics of ``fit`` (unchanged for images)."""
        if getattr(self, "scaler_mean_", None) is None:
            return X
        return np.ascontiguousarray((X - self.scaler_mean_) / self.scaler_scale_, dtype=np.float32)

    def _validate_predict(self, X: Any) -> np.ndarray:
        X = check_X(X, min_samples=1)
        if X.ndim == 2 and len(self.input_shape_) == 1 and X.shape[1] != self.input_shape_[0]:
            raise FairclustError(  # scikit-learn's wording for feature vectors
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.input_shape_[0]} "
                "features as input; pass data of the same shape"
            )
        if tuple(X.shape[1:]) != tuple(self.input_shape_):
            raise FairclustError(
                f"X has per-sample shape {tuple(X.shape[1:])} but the model was fitted on {tuple(self.input_shape_)}; "
                "pass data of the same shape"
            )
        return X
