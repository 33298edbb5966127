"""What every experiment shares: the DFC run, metrics as CSV columns, CSV files, and the figure
helpers of :mod:`fairclust.figures.style`. Every figure is drawn from the rows that were written
to its CSV file, so the picture and the numbers cannot disagree.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .. import metrics, runner
from ..config import DFCConfig
from ..data import Dataset
from ..errors import FairclustError
from ..files import atomic_write_bytes, write_json
from ..methods.dfc import DeepFairClustering
from ..runner import fmt  # noqa: F401  (re-exported: the figures' captions use it)

# a loaded DFC model's settings that its pretraining read: the baselines beside it get the same encoder
PRETRAIN_PARAMS = ("recipe",) + tuple(p.name for p in DFCConfig.public() if p.stages)
INFO_KEYS = ("I_Y_C", "sum_g_Pr_g_I_Y_g_C_g", "H_C", "sum_g_Pr_g_H_C_g", "I_C_G")


# ----------------------------------------------------------------------------- DFC runs
def fit_dfc(ds: Dataset, opts: dict, *, seed: int, n_clusters: int | None = None, out: Path | None = None,
            callbacks: list | None = None) -> dict:
    """One DFC run through :func:`fairclust.runner.run_method` (its record; ``_estimator`` is the model).

    With ``out`` the run's usual files (``metrics.json``, ``labels.npy``, ``config.json``,
    ``history.json``, ``model.pt``) land there too.
    """
    return runner.run_method(ds, "dfc", n_clusters=n_clusters, seed=seed, out=out, options=opts,
                             fit_params={"callbacks": list(callbacks or [])})


def dfc_model(ds: Dataset, opts: dict, *, seed: int, n_clusters: int | None, out: Path,
              model_path: str | None = None) -> tuple[Any, dict]:
    """A fitted DFC model for ``ds`` (trained now, or loaded from ``model_path``) and the options to go with it.

    A loaded model must be the one fitted on this very data: same samples and shape, and
    ``predict(ds.X)`` (the argmax of q) equal to its ``labels_`` except where the fair-labels
    extension moved a label (``fair_labels_info_["changed"]``), give or take 1%. Its metrics
    (and seed) are written to ``out/metrics.json``; its recipe and pretraining lengths replace
    those in ``opts`` (so baselines use the same pretrained encoder).
    """
    if model_path is None:
        return fit_dfc(ds, opts, seed=seed, n_clusters=n_clusters, out=out)["_estimator"], opts

    model = DeepFairClustering.load(model_path)
    n_fit = len(model.labels_)
    moved = (getattr(model, "fair_labels_info_", None) or {}).get("changed", 0)
    if n_fit != ds.n_samples or tuple(model.input_shape_) != tuple(ds.X.shape[1:]) or \
            np.sum(model.predict(ds.X) != model.labels_) > moved + 0.01 * n_fit:
        raise FairclustError(f"--model {model_path} was not fitted on this data ({ds.name}, {ds.n_samples} samples; "
                             f"the model saw {n_fit}); pass the model.pt of a run on the same data and --limit")
    rep = runner.evaluate(ds, model.labels_, model.n_clusters)
    write_json(out / "metrics.json", {"dataset": ds.name, "method": "dfc", "model": str(model_path),
                                      "seed": model.seed_, "n_samples": ds.n_samples, **rep})
    params = model.get_params()
    return model, {**opts, **{k: params[k] for k in PRETRAIN_PARAMS}}


# ----------------------------------------------------------------------------- metrics
def metric_columns(ds: Dataset, labels: np.ndarray, n_clusters: int) -> dict[str, Any]:
    """The paper's metrics and the Section 4.3 quantities of one labelling, as flat CSV columns."""
    rep = runner.evaluate(ds, np.asarray(labels), n_clusters)
    names = ds.group_names if len(ds.group_names) == len(rep["entropy"]) else [str(g) for g in rep["groups"]]
    row: dict[str, Any] = {k: rep.get(k) for k in ("accuracy", "nmi", "balance", "balance_max", "mnce")}
    row.update({f"entropy_{n}": e for n, e in zip(names, rep["entropy"])})
    row.update({k: rep["information"].get(k) for k in INFO_KEYS})
    return row


def group_names(ds: Dataset) -> list[str]:
    groups = np.unique(ds.sensitive)
    return list(ds.group_names) if len(ds.group_names) == len(groups) else [str(g) for g in groups]


def group_codes(ds: Dataset) -> np.ndarray:
    """Groups as ``0..M-1`` in sorted order (the estimators' coding)."""
    return metrics.factorize(np.asarray(ds.sensitive))[1]


# ----------------------------------------------------------------------------- CSV
def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # full precision: read back bit for bit
    return v.item() if isinstance(v, np.generic) else v


def write_csv(path: Path, rows: list[dict]) -> Path:
    """Write rows (dicts; the union of their keys, in first-seen order) atomically."""
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(v) for k, v in r.items()})
    atomic_write_bytes(path, buf.getvalue().encode())
    return path


def _parse(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        v = float(text)
    except ValueError:
        return text
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() and "inf" not in text else v


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV written by :func:`write_csv`, numbers parsed back to int / float."""
    with open(path, newline="") as fh:
        return [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def column(rows: Iterable[dict], key: str) -> np.ndarray:
    return np.array([r[key] for r in rows])
