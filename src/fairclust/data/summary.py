"""The paper's Table 1 (``fairclust datasets``), computed from the data sets it can find.

Columns: type, number of instances, classes, dimension DFC sees, sensitive attribute,
group sizes, attainable Balance (``min_g |X_g| / max_g |X_g|``) and the maximum Entropy
(``ln K``, K = number of classes). The embedded data sets are always listed; the paper's
ones when their files are in ``--data-dir`` (MTFL and Office-31 are summarised from their
file lists, without extracting features; their dimension is ResNet-50's feature width).
"""

from __future__ import annotations

import math

import numpy as np

from .. import metrics
from ..errors import DataFileError
from . import DATASETS, available_datasets, load_dataset
from .features import FEATURE_DIM
from .paper import IMAGE_INDEXES


def summarise(name: str, *, kind: str, sensitive: np.ndarray, y: np.ndarray | None, dim: str,
              attribute: str, group_names: list[str]) -> dict:
    """One row of Table 1 from a data set's groups and classes."""
    groups, sizes = np.unique(sensitive, return_counts=True)
    n_classes = None if y is None else int(len(np.unique(y)))
    names = group_names if len(group_names) == len(groups) else [str(g) for g in groups]
    return {
        "dataset": name,
        "type": kind,
        "n_samples": int(len(sensitive)),
        "n_classes": n_classes,
        "dimension": dim,
        "sensitive_attribute": attribute,
        "groups": {str(n): int(s) for n, s in zip(names, sizes)},
        "balance_max": metrics.balance_max(sensitive),
        "entropy_max": None if n_classes is None else math.log(n_classes),
    }


def summarise_dataset(ds) -> dict:
    """:func:`summarise` of a loaded data set; with several sensitive attributes the groups are their
    intersection's cells, and ``attributes`` gives each attribute's group sizes and max Balance."""
    shape = ds.X.shape[1:]
    dim = f"{int(np.prod(shape)):,}" + (f" ({'x'.join(map(str, shape))})" if len(shape) > 1 else "")
    row = summarise(ds.name, kind=ds.kind, sensitive=ds.sensitive, y=ds.y, dim=dim,
                    attribute=ds.sensitive_attribute, group_names=ds.group_names)
    if ds.attributes is not None:
        row["attributes"] = {}
        for name, values in ds.attributes.items():
            groups, sizes = np.unique(values, return_counts=True)
            row["attributes"][name] = {"groups": {str(g): int(n) for g, n in zip(groups, sizes)},
                                       "balance_max": metrics.balance_max(values)}
    return row


def table1(data_dir=None, seed: int = 2019) -> tuple[list[dict], dict[str, str]]:
    """Rows for every data set found, and why each paper data set was not."""

    rows, missing = [], {}
    for name in available_datasets():
        try:
            if name in IMAGE_INDEXES:
                ix = IMAGE_INDEXES[name](data_dir, seed=seed)
                rows.append(summarise(name, kind=ix.kind, sensitive=ix.sensitive, y=ix.y,
                                      dim=f"{FEATURE_DIM:,} (ResNet-50 of {len(ix.paths):,} images)",
                                      attribute=ix.sensitive_attribute, group_names=ix.group_names))
            else:
                rows.append(summarise_dataset(load_dataset(name, data_dir=data_dir, seed=seed)))
        except DataFileError as exc:
            if DATASETS[name].embedded:
                raise
            missing[name] = str(exc)
    return rows, missing


def format_table(rows: list[dict]) -> str:
    head = ("| dataset | type | # instances | # classes | dim. | sensitive attribute | group sizes "
            "| max Balance | max Entropy |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        sizes = " / ".join(f"{k} {v:,}" for k, v in r["groups"].items())
        ent = "-" if r["entropy_max"] is None else f"{r['entropy_max']:.3f}"
        attribute = r["sensitive_attribute"]
        if r.get("attributes"):  # several: each one's max Balance; the sizes and the max Balance are the cells'
            attribute = " and ".join(f"{n} (max Balance {a['balance_max']:.4f})" for n, a in r["attributes"].items())
        lines.append(f"| {r['dataset']} | {r['type']} | {r['n_samples']:,} | {r['n_classes'] or '-'} | "
                     f"{r['dimension']} | {attribute} | {sizes} | {r['balance_max']:.4f} | {ent} |")
    return "\n".join(lines)
