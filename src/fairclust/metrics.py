"""Clustering quality and fairness metrics, exactly as SPEC section 2 defines them.

All functions accept any hashable labels (ints, strings) and any number of groups. They
are vectorised: the only work proportional to N is one :func:`factorize` per label vector
(a bincount for small integer ids, a binary search among few distinct values otherwise)
and one ``np.bincount``; everything else works on the small K x M contingency table.

Definitions (``count[k, g]`` = samples of group ``g`` in cluster ``k``; clusters that
received no sample do not exist and are skipped):

* **Accuracy** - best one-to-one map of clusters to classes (Hungarian algorithm on the
  contingency table; the number of clusters may differ from the number of classes).
* **NMI** - mutual information over the *arithmetic* mean of the two entropies.
* **Balance** - ``min_k min_g count[k,g] / max_g count[k,g]``; 0 when a cluster misses a
  group. Attainable maximum: ``min_g |X_g| / max_g |X_g|``.
* **Entropy** - one value per group (groups in sorted order),
  ``-sum_k p(k|g) ln p(k|g)`` with ``p(k|g) = count[k,g] / |X_g|``; maximum ``ln K``.
* **MNCE** - ``min_k H(G | C=k) / H(G)`` (FCMI, CVPR 2023).
* **F-beta** - weighted harmonic mean of NMI and MNCE.

Several sensitive attributes (:mod:`fairclust.attributes`): :func:`attribute_report` gives
the fairness metrics of each attribute and of their intersection (every combination of
values that occurs is one group).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .errors import FairclustError

__all__ = [
    "accuracy",
    "nmi",
    "balance",
    "balance_max",
    "entropy",
    "mnce",
    "fbeta",
    "information_report",
    "report",
    "attribute_report",
    "contingency",
]


# ----------------------------------------------------------------------------- helpers
def _as_1d(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise FairclustError(f"{name} must be one-dimensional, got shape {arr.shape}; pass one value per sample")
    if arr.size == 0:
        raise FairclustError(f"{name} is empty; pass one value per sample")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise FairclustError(f"{name} contains NaN or inf; remove or fill those samples")
    if arr.dtype.kind == "O" and bool((np.equal(arr, None) | (arr != arr)).any()):  # None / NaN among objects
        raise FairclustError(f"{name} contains None or NaN; remove or fill those samples")
    return arr


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique values (sorted) and the integer code of every sample (of a 1-d array).

    Small non-negative integers (the usual case: cluster ids, group ids) take an O(N)
    bincount path; other long vectors (group names ...) a binary search among the values of
    a sample, O(N log U) instead of sorting all N. Mixed types are compared as strings.
    """
    values = values.reshape(-1)
    if values.dtype.kind in "iub" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi < 4 * values.size + 1024:
            present = np.bincount(values.astype(np.int64, copy=False), minlength=hi + 1) > 0
            lookup = np.cumsum(present) - 1
            return np.flatnonzero(present).astype(values.dtype), lookup[values]
    try:
        if values.size >= _SEARCH_MIN:
            return _factorize_by_search(values)
        uniq, inv = np.unique(values, return_inverse=True)
    except TypeError:  # mixed types: compare as strings
        return factorize(values.astype(str))
    return uniq, inv.reshape(-1)


_SEARCH_MIN = 1 << 17  # below this, np.unique's sort is as fast


def _factorize_by_search(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`factorize` for long vectors with few distinct values: the distinct values of a
    strided sample, then every value looked up among them; values the sample missed are
    added and looked up once more (then all are found, NaN aside: it never equals itself)."""
    uniq = np.unique(values[:: max(1, values.size // 65536)])
    for _ in range(2):
        pos = np.searchsorted(uniq, values, side="left")
        missed = pos == np.searchsorted(uniq, values, side="right")  # an empty range: not among uniq
        if not missed.any():
            return uniq, pos
        uniq = np.union1d(uniq, values[missed])
    uniq, inv = np.unique(values, return_inverse=True)
    return uniq, inv.reshape(-1)


def contingency(a: Any, b: Any, *, names: tuple[str, str] = ("a", "b")) -> np.ndarray:
    """Contingency table ``count[i, j]`` of two label vectors (rows: values of ``a``)."""
    a = _as_1d(a, names[0])
    b = _as_1d(b, names[1])
    if a.shape[0] != b.shape[0]:
        raise FairclustError(
            f"{names[0]} has {a.shape[0]} values but {names[1]} has {b.shape[0]}; pass one value per sample to both"
        )
    ua, ia = factorize(a)
    ub, ib = factorize(b)
    flat = np.bincount(ia * len(ub) + ib, minlength=len(ua) * len(ub))
    return flat.reshape(len(ua), len(ub)).astype(np.int64)


def _group_table(labels_pred: Any, sensitive_features: Any) -> np.ndarray:
    """count[k, g] with at least two groups, clusters and groups in sorted order."""
    table = contingency(labels_pred, sensitive_features, names=("labels_pred", "sensitive_features"))
    if table.shape[1] < 2:
        raise FairclustError(
            "sensitive_features holds a single group; fairness metrics need at least two groups"
        )
    return table


def _entropy_of_counts(counts: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy (nats) of count vectors along ``axis``."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(axis=axis, keepdims=True)
    p = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    logp = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logp).sum(axis=axis)


def _mutual_info(table: np.ndarray) -> float:
    """Mutual information (nats) of the joint distribution given by a count table."""
    table = np.asarray(table, dtype=np.float64)
    n = table.sum()
    if n == 0:
        return 0.0
    pij = table / n
    pi = pij.sum(axis=1, keepdims=True)
    pj = pij.sum(axis=0, keepdims=True)
    nz = pij > 0
    return float(np.sum(pij[nz] * np.log(pij[nz] / (pi @ pj)[nz])))


def _accuracy_table(table: np.ndarray) -> float:
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def _nmi_table(table: np.ndarray) -> float:
    h_a = float(_entropy_of_counts(table.sum(axis=1)))
    h_b = float(_entropy_of_counts(table.sum(axis=0)))
    if h_a == 0.0 and h_b == 0.0:
        return 1.0
    return float(min(max(_mutual_info(table) / ((h_a + h_b) / 2.0), 0.0), 1.0))


def _balance_table(table: np.ndarray) -> float:
    return float((table.min(axis=1) / table.max(axis=1)).min())


def _mnce_table(table: np.ndarray) -> float:
    return float(_entropy_of_counts(table, axis=1).min() / _entropy_of_counts(table.sum(axis=0))) + 0.0


def _fbeta(q: float, f: float, beta: float) -> float:
    b2 = beta * beta
    denom = b2 * q + f
    return float((1 + b2) * q * f / denom) if denom > 0 else 0.0


# ----------------------------------------------------------------------------- quality
def accuracy(labels_true: Any, labels_pred: Any) -> float:
    """Clustering accuracy under the best one-to-one map of clusters to classes.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Ground-truth classes.
    labels_pred : array-like of shape (n_samples,)
        Cluster labels. Their number may differ from the number of classes; unmatched
        clusters count as errors.

    Returns
    -------
    float in [0, 1].
    """
    return _accuracy_table(contingency(labels_pred, labels_true, names=("labels_pred", "labels_true")))


def nmi(labels_true: Any, labels_pred: Any) -> float:
    """Normalised mutual information with arithmetic normalisation.

    ``NMI = I(Y; C) / ((H(Y) + H(C)) / 2)``, as in the authors' evaluation (and
    scikit-learn's default). When both labelings are constant it is 1.
    """
    return _nmi_table(contingency(labels_true, labels_pred, names=("labels_true", "labels_pred")))


# ----------------------------------------------------------------------------- fairness
def balance(labels_pred: Any, *, sensitive_features: Any) -> float:
    """Balance: ``min_k min_g count[k,g] / max_g count[k,g]`` (0 when a cluster misses a group)."""
    return _balance_table(_group_table(labels_pred, sensitive_features))


def balance_max(sensitive_features: Any) -> float:
    """Attainable maximum of Balance for these groups: ``min_g |X_g| / max_g |X_g|``."""
    _, codes = factorize(_as_1d(sensitive_features, "sensitive_features"))
    sizes = np.bincount(codes)
    if sizes.size < 2:
        raise FairclustError(
            "sensitive_features holds a single group; fairness metrics need at least two groups"
        )
    return float(sizes.min() / sizes.max())


def entropy(labels_pred: Any, *, sensitive_features: Any) -> list[float]:
    """Entropy of the cluster distribution within each group (groups in sorted order).

    ``Ent_g = -sum_k p(k|g) ln p(k|g)`` with ``p(k|g) = count[k,g] / |X_g|``. Its maximum
    is ``ln K``. The paper prints these as ``a / b`` for two groups.
    """
    table = _group_table(labels_pred, sensitive_features)
    return [float(v) for v in _entropy_of_counts(table, axis=0)]


def mnce(labels_pred: Any, *, sensitive_features: Any) -> float:
    """Minimal normalised conditional entropy: ``min_k H(G | C=k) / H(G)``."""
    return _mnce_table(_group_table(labels_pred, sensitive_features))


def fbeta(labels_true: Any, labels_pred: Any, *, sensitive_features: Any, beta: float = 1.0) -> float:
    """F-beta of NMI (quality) and MNCE (fairness); ``beta = 1`` is the harmonic mean."""
    return _fbeta(nmi(labels_true, labels_pred), mnce(labels_pred, sensitive_features=sensitive_features), beta)


def _cube(labels_pred: Any, sensitive_features: Any, labels_true: Any = None, *,
          sensitive_name: str = "sensitive_features"):
    """One pass over the samples: count[c, g, y] (y axis of size 1 without labels).
    ``sensitive_name``: what the errors call the groups."""
    c = _as_1d(labels_pred, "labels_pred")
    g = _as_1d(sensitive_features, sensitive_name)
    arrays = [("labels_pred", c), (sensitive_name, g)]
    if labels_true is not None:
        arrays.append(("labels_true", _as_1d(labels_true, "labels_true")))
    for name, arr in arrays[1:]:
        if arr.shape[0] != c.shape[0]:
            raise FairclustError(
                f"labels_pred has {c.shape[0]} values but {name} has {arr.shape[0]}; pass one value per sample to both"
            )
    uc, ic = factorize(c)
    ug, ig = factorize(g)
    if len(ug) < 2:
        raise FairclustError(f"{sensitive_name} holds a single group; fairness metrics need at least two groups")
    if labels_true is not None:
        _, iy = factorize(arrays[2][1])
        n_y = int(iy.max()) + 1
    else:
        iy, n_y = 0, 1
    flat = np.bincount((ic * len(ug) + ig) * n_y + iy, minlength=len(uc) * len(ug) * n_y)
    return flat.reshape(len(uc), len(ug), n_y), ug


def _fairness(table: np.ndarray, groups: np.ndarray, k: int) -> dict:
    """The fairness entries of a report from its ``count[c, g]`` table (non-empty clusters only)
    and its sorted groups; ``k``: the number of clusters asked for (``entropy_max = ln k``)."""
    sizes = table.sum(axis=0)
    return {
        "groups": [g.item() if hasattr(g, "item") else g for g in groups],
        "group_sizes": [int(v) for v in sizes],
        "balance": _balance_table(table),
        "balance_max": float(sizes.min() / sizes.max()),
        "entropy": [float(v) for v in _entropy_of_counts(table, axis=0)],
        "entropy_max": math.log(k) if k > 0 else 0.0,
        "mnce": _mnce_table(table),
    }


def _information(cube: np.ndarray, with_labels: bool) -> dict:
    table = cube.sum(axis=2)  # [c, g]
    n_g = table.sum(axis=0).astype(np.float64)
    pr_g = n_g / n_g.sum()
    out = {
        "H_C": float(_entropy_of_counts(table.sum(axis=1))),
        "sum_g_Pr_g_H_C_g": float(np.dot(pr_g, _entropy_of_counts(table, axis=0))),
        "I_C_G": _mutual_info(table),
    }
    if with_labels:
        out["I_Y_C"] = _mutual_info(cube.sum(axis=1))
        out["sum_g_Pr_g_I_Y_g_C_g"] = float(sum(p * _mutual_info(cube[:, i, :]) for i, p in enumerate(pr_g)))
    return out


def information_report(labels_pred: Any, *, sensitive_features: Any, labels_true: Any = None) -> dict:
    """The quantities of the paper's Section 4.3 (Theorem 4.1 and Proposition 4.1).

    Returns ``H(C)`` beside ``sum_g Pr(g) H(C_g)``, ``I(C; G)`` (0 iff C is independent
    of G in the sample) and, with ``labels_true``, ``I(Y; C)`` beside
    ``sum_g Pr(g) I(Y_g; C_g)``. All in nats. When C is independent of G, Theorem 4.1
    says ``I_Y_C <= sum_g_Pr_g_I_Y_g_C_g`` and Proposition 4.1 that ``H_C`` equals
    ``sum_g_Pr_g_H_C_g``.
    """
    cube, _ = _cube(labels_pred, sensitive_features, labels_true)
    return _information(cube, labels_true is not None)


def report(
    labels_pred: Any,
    *,
    sensitive_features: Any,
    labels_true: Any = None,
    n_clusters: int | None = None,
) -> dict:
    """All metrics in one dictionary, with the attainable maxima, from one pass over the data.

    Keys: ``n_samples, n_clusters, n_nonempty_clusters, groups, group_sizes, balance,
    balance_max, entropy`` (list, groups in sorted order), ``entropy_max`` (ln K),
    ``mnce``; with ``labels_true`` also ``accuracy, nmi, fbeta`` and ``accuracy_per_group`` (list,
    groups in sorted order: each group's accuracy under its own best map of clusters to classes,
    to see which group pays for fairness); and the Section 4.3 quantities under ``information``.
    ``n_clusters`` defaults to the number of non-empty clusters.
    """
    cube, groups = _cube(labels_pred, sensitive_features, labels_true)
    table = cube.sum(axis=2)
    k = int(n_clusters) if n_clusters is not None else int(table.shape[0])
    out: dict[str, Any] = {
        "n_samples": int(table.sum()),
        "n_clusters": k,
        "n_nonempty_clusters": int(table.shape[0]),
        **_fairness(table, groups, k),
    }
    if labels_true is not None:
        cy = cube.sum(axis=1)  # [c, y]
        out["accuracy"] = _accuracy_table(cy)
        out["nmi"] = _nmi_table(cy)
        out["fbeta"] = _fbeta(out["nmi"], out["mnce"], 1.0)
        out["accuracy_per_group"] = [_accuracy_table(cube[:, i, :]) for i in range(cube.shape[1])]
    out["information"] = _information(cube, labels_true is not None)
    return out


SEPARATOR = "/"  # an intersection cell's name: the attributes' values joined, e.g. "mnist/inverted"


def cell_labels(columns: list[np.ndarray]) -> np.ndarray:
    """The intersection's name of every sample: the attributes' values joined by ``/``; one
    attribute: its values unchanged (:mod:`fairclust.attributes` reads several attributes with it)."""
    if len(columns) == 1:
        return columns[0]
    out = columns[0].astype(str).astype(object)
    for col in columns[1:]:
        out = out + SEPARATOR + col.astype(str).astype(object)
    return out.astype(str)


def attribute_report(
    labels_pred: Any,
    attributes: Mapping[str, Any],
    *,
    n_clusters: int | None = None,
    intersection: Any = None,
) -> dict:
    """The fairness metrics of each sensitive attribute and of their intersection.

    ``attributes``: attribute name -> one value per sample (e.g. ``Dataset.attributes``).
    Returns ``{"attributes": {name: entry}, "intersection": entry}``; every entry holds
    ``groups, group_sizes, balance, balance_max, entropy`` (list, groups in sorted order),
    ``entropy_max`` (ln K) and ``mnce``, as :func:`report` defines them, on that attribute's
    groups (the intersection's: every combination of values that occurs, named by the values
    joined with ``/``). ``intersection``: those names when the caller has them already
    (``Dataset.sensitive``); by default they are joined here. ``n_clusters`` defaults to the
    number of non-empty clusters. Every attribute needs two groups.
    """
    if not isinstance(attributes, Mapping) or not attributes:
        raise FairclustError("attributes must be a non-empty mapping of attribute name -> one value per sample")
    n = _as_1d(labels_pred, "labels_pred").shape[0]
    columns = {str(name): _as_1d(values, f"sensitive attribute {str(name)!r}") for name, values in attributes.items()}
    for name, col in columns.items():
        if col.shape[0] != n:
            raise FairclustError(f"labels_pred has {n} values but sensitive attribute {name!r} has {col.shape[0]}; "
                                 "pass one value per sample to both")
    cells = cell_labels(list(columns.values())) if intersection is None else intersection
    entries = {}
    for name, col in [*columns.items(), (None, cells)]:
        what = "the intersection of the sensitive attributes" if name is None else f"sensitive attribute {name!r}"
        cube, groups = _cube(labels_pred, col, sensitive_name=what)
        table = cube[:, :, 0]
        k = int(n_clusters) if n_clusters is not None else int(table.shape[0])
        entries[name] = _fairness(table, groups, k)
    intersection_entry = entries.pop(None)
    return {"attributes": entries, "intersection": intersection_entry}
