"""Several sensitive attributes at once (source and contrast, sex and race ...).

``sensitive_features`` may be one attribute (a 1-D array: one group per sample, as always) or
several: an ``N x A`` array, a pandas DataFrame, or a dict of named columns. :func:`parse`
reads any of them into :class:`Attributes`: each attribute's groups as codes, and the
*intersection* (every combination of values that occurs is one group, a "cell").

Two notions of fairness on several attributes (:data:`NOTIONS`):

* ``marginal``: every cluster holds each attribute's groups in their shares, attribute by
  attribute (sex balanced, race balanced; not every sex x race cell in every cluster);
* ``intersection``: every combination is a group and every cluster holds each combination's
  share (what one attribute made of the combined values asks).

The networks' side of a fit (per-group teachers and their pairing, the adversary, FCMI's
decoders) always works on the cells: a cell is a set of samples from one distribution, and a
clustering independent of the joint group is independent of every attribute. The notion decides
the share bounds of the fair labels (:func:`fairclust.fair_lp.fair_labels`), FCMI's I(G; C)
terms and FAlg's LP. One attribute: the cells are its groups, bit for bit as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import FairclustError
from .metrics import SEPARATOR, cell_labels, factorize  # noqa: F401  (both re-exported)

NOTIONS = ("marginal", "intersection")


@dataclass
class Attributes:
    """Sensitive attributes of ``N`` samples.

    ``names``: one per attribute; ``values[a]``: attribute ``a``'s groups (sorted); ``codes``:
    ``N x A`` positions in ``values``; ``cells``: each sample's intersection group as a code
    ``0..C-1`` into ``cell_names`` (sorted); ``cell_codes``: ``C x A``, each cell's attribute codes.
    """

    names: list[str]
    values: list[np.ndarray]
    codes: np.ndarray
    cells: np.ndarray
    cell_names: np.ndarray
    cell_codes: np.ndarray

    @property
    def n_attributes(self) -> int:
        return len(self.names)

    def columns(self, notion: str) -> np.ndarray:
        """The group codes whose shares a fair clustering keeps: ``N x A`` (``marginal``) or the
        cells as ``N x 1`` (``intersection``); one attribute: its codes either way."""
        check_notion(notion)
        return self.codes if notion == "marginal" else self.cells[:, None]

    def describe(self) -> dict:
        """What a fitted model keeps (``model.attributes_``) to read new samples' attributes."""
        return {"names": list(self.names), "values": [v.tolist() for v in self.values],
                "cell_codes": self.cell_codes.tolist()}


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (for messages: ``1.0``, not ``np.float64(1.0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def check_notion(notion: Any) -> str:
    if notion not in NOTIONS:
        raise FairclustError(f"fairness must be one of {', '.join(NOTIONS)}, got {notion!r}; e.g. fairness='marginal'")
    return notion


def _column(values: Any, name: str, n_samples: int) -> np.ndarray:
    """One attribute's values, checked: one per sample, no missing value."""
    what = name if name == "sensitive_features" else f"sensitive attribute {name!r}"
    col = np.asarray(values)
    if col.ndim != 1:
        raise FairclustError(f"sensitive attribute {name!r} has shape {col.shape}; pass one value per sample")
    if col.shape[0] != n_samples:
        raise FairclustError(f"X has {n_samples} samples but sensitive attribute {name!r} has {col.shape[0]}; "
                             "pass one group per sample")
    if col.dtype.kind == "f" and not np.isfinite(col).all():
        raise FairclustError(f"{what} contains NaN or inf; give every sample a group")
    if col.dtype.kind == "O":
        if bool((np.equal(col, None) | (col != col)).any()):  # None / NaN among objects
            raise FairclustError(f"{what} contains None or NaN; give every sample a group")
        col = col.astype(str)
    return col


def split(sensitive_features: Any, n_samples: int) -> tuple[list[str], list[np.ndarray]]:
    """Attribute names and columns of any accepted form (see the module's doc); a 1-D input is one
    attribute named ``group``. ``None`` and shapes that are not one row per sample are errors."""
    if sensitive_features is None:
        raise FairclustError(
            "sensitive_features is required: pass fit(X, sensitive_features=groups), one group per sample"
        )
    if isinstance(sensitive_features, dict):
        if not sensitive_features:
            raise FairclustError("sensitive_features is an empty dict; pass {name: one group per sample, ...}")
        return ([str(k) for k in sensitive_features],
                [_column(v, str(k), n_samples) for k, v in sensitive_features.items()])
    if hasattr(sensitive_features, "columns") and hasattr(sensitive_features, "to_numpy"):  # a DataFrame
        names = [str(c) for c in sensitive_features.columns]
        return names, [_column(sensitive_features[c].to_numpy(), str(c), n_samples)
                       for c in sensitive_features.columns]
    sens = np.asarray(sensitive_features)
    if sens.ndim == 2 and sens.shape[1] == 1 or sens.ndim == 2 and sens.shape[0] == 1 and n_samples != 1:
        sens = sens.reshape(-1)
    if sens.ndim == 1:
        if sens.shape[0] != n_samples:
            raise FairclustError(
                f"X has {n_samples} samples but sensitive_features has {sens.shape[0]}; pass one group per sample"
            )
        return ["group"], [_column(sens, "sensitive_features", n_samples)]
    if sens.ndim == 2:
        if sens.shape[0] != n_samples:
            raise FairclustError(f"X has {n_samples} samples but sensitive_features has {sens.shape[0]} rows; "
                                 "pass N x A: one row per sample, one column per attribute")
        return ([f"attribute_{a}" for a in range(sens.shape[1])],
                [_column(sens[:, a], f"attribute_{a}", n_samples) for a in range(sens.shape[1])])
    raise FairclustError(f"sensitive_features has shape {sens.shape}; pass one group per sample (N) "
                         "or one row of attributes per sample (N x A)")


def parse(sensitive_features: Any, n_samples: int) -> Attributes:
    """:class:`Attributes` of any accepted ``sensitive_features``. Every attribute needs two groups."""
    found, cols = split(sensitive_features, n_samples)
    if len(set(found)) != len(found):
        raise FairclustError(f"sensitive attribute names repeat ({', '.join(found)}); name each column once")
    values, codes = [], []
    for name, col in zip(found, cols):
        v, c = factorize(col)
        if len(v) < 2:
            what = "sensitive_features" if len(cols) == 1 else f"sensitive attribute {name!r}"
            raise FairclustError(f"{what} holds a single group ({_plain(v[0])!r}); "
                                 "fair clustering needs at least two groups")
        values.append(v)
        codes.append(c.reshape(-1).astype(np.int64))
    codes_mat = np.stack(codes, axis=1)
    if len(cols) == 1:
        cells, cell_names = codes[0], values[0]
    else:
        cell_names, cells = factorize(cell_labels(cols))
        cells = cells.reshape(-1).astype(np.int64)
    first = np.zeros(len(cell_names), dtype=np.int64)
    first[cells[::-1]] = np.arange(n_samples)[::-1]  # a sample of every cell
    return Attributes(found, values, codes_mat, cells, cell_names, codes_mat[first])


def network_groups(att: Attributes, min_size: int, notion: str) -> np.ndarray:
    """For every cell, the cell whose group it joins on the networks' side (itself, mostly).

    Under ``intersection`` every cell is a group (each must hold ``min_size`` = ``n_clusters``
    samples: the caller refuses smaller ones). Under ``marginal`` the bounds are per attribute, so a
    cell too small for a per-group teacher (fewer than ``min_size`` samples) joins the large cell
    that shares most of its attribute values (then the larger); the fair labels still bound each
    attribute's groups, whatever the networks' grouping.
    """
    sizes = np.bincount(att.cells, minlength=len(att.cell_names))
    out = np.arange(len(sizes))
    large = np.flatnonzero(sizes >= min_size)
    if notion == "intersection" or len(large) == 0 or len(large) == len(sizes):
        return out
    for c in np.flatnonzero(sizes < min_size):
        shared = (att.cell_codes[large] == att.cell_codes[c]).sum(1)
        out[c] = large[np.lexsort((-sizes[large], -shared))[0]]
    return out
