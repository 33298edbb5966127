"""The figures of one run, written by ``fairclust run`` beside ``metrics.json``.

A fair clustering is judged by looking at it:

* ``gallery.png``: one row per cluster; within it, for each group, a few samples of that
  group assigned to the cluster, the groups side by side (image data only). A cluster
  whose groups show different things (a wrong pairing) stands out.
* ``composition.png``: per cluster a stacked bar of its group shares, under a bar of the
  whole data's shares (dashed lines carry those down); cluster sizes at the right. With
  several sensitive attributes: one such panel per attribute, then their intersection's.
* ``curves.png``: DFC's training losses per iteration (smoothed) and, per evaluation, the
  fraction of labels that changed and accuracy / NMI / Balance (DFC only).
* ``teacher_matching.png``: the evidence for DFC's matching of the per-group teachers'
  clusters across groups (``align_groups``; :mod:`fairclust.align`): per group, the score
  of every reference cluster against every cluster of the group, the chosen pairs boxed,
  and how clear each pair is (its margin over the best alternative in its row and column).
* ``tradeoff.png``: accuracy against Balance along the run's fairness curve (DFC: its labels
  from the fairest ``fair_labels`` delta to the argmax of ``q``).

Every function takes plain arrays, writes one PNG and returns the numbers it drew (with
``keep_figure``, the figure too), so tests can compare the picture with an independent
count. The package imports no experiment code and no runner: :mod:`fairclust.runner` imports it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .. import metrics
from . import composition, curves, gallery, teacher_matching, tradeoff

CAPTIONS = {
    "gallery.png": "Samples per cluster (rows) and group (blocks, side by side): each row should show the same "
                   "thing in every group.",
    "composition.png": "Group shares per cluster against the whole data's shares (top bar, dashed lines); "
                       "cluster sizes at the right. Several sensitive attributes: a panel per attribute, then "
                       "their intersection.",
    "curves.png": "Training: losses per iteration (smoothed), labels changed per evaluation, and the metrics "
                  "at each evaluation.",
    "teacher_matching.png": "Matching of the per-group teachers' clusters: pair scores against the reference group, "
                            "chosen pairs boxed (red: not the clear best in its row and column).",
    "tradeoff.png": "What fairness costs: accuracy (without labels: labels kept from the argmax) against Balance, "
                    "one point per fair_labels delta from 0 to the argmax, each group's accuracy dashed; this run's labels "
                    "ringed.",
}
FIGURE_NAMES = tuple(CAPTIONS)


def write_all(out: str | Path, *, X: np.ndarray | None, labels: np.ndarray, codes: np.ndarray, group_names=None,
              n_clusters: int | None = None, history: dict | None = None, teacher_labels: np.ndarray | None = None,
              matching: list[dict] | None = None, X_net: np.ndarray | None = None, stop_tol: float | None = None,
              final: dict | None = None, fair_delta: float | None = None, seed: int = 0,
              attributes: dict | None = None) -> dict[str, Path]:
    """Every figure the inputs allow, in ``out``; returns name -> path of those written.

    ``composition.png`` always (with ``attributes``, name -> one value per sample, two or more:
    a panel per attribute and one of ``codes``, their intersection); ``gallery.png`` for images;
    ``curves.png`` with a ``history``; ``teacher_matching.png`` with ``matching`` records and
    ``teacher_labels``;
    ``tradeoff.png`` when ``final`` (the run's record) has a ``fairness_curve``.
    Figures of these names already in ``out`` (an earlier run's) are removed first. A figure
    that fails is skipped with a warning: the run's results never depend on it.
    """
    out = Path(out)
    jobs = [("composition.png",
             lambda p: composition.composition(p, labels, codes, group_names, n_clusters=n_clusters,
                                               attributes=attributes))]
    if gallery.is_images(X):
        jobs.append(("gallery.png", lambda p: gallery.gallery(p, X, labels, codes, group_names, n_clusters=n_clusters,
                                                              seed=seed)))
    if history:
        jobs.append(("curves.png", lambda p: curves.curves(p, history, stop_tol=stop_tol, final=final)))
    if final and final.get("fairness_curve"):
        jobs.append(("tradeoff.png", lambda p: tradeoff.tradeoff(p, final["fairness_curve"], chosen=fair_delta,
                                                                 group_names=group_names)))
    if matching and teacher_labels is not None:
        jobs.append(("teacher_matching.png",
                     lambda p: teacher_matching.teacher_matching(p, X if X_net is None else X_net, teacher_labels,
                                                                 codes, matching, group_names, n_clusters=n_clusters)))
    for name in FIGURE_NAMES:  # a figure this run does not draw must not be an earlier run's
        (out / name).unlink(missing_ok=True)
    written = {}
    for name, job in jobs:
        try:
            if job(out / name) is not None:
                written[name] = out / name
        except Exception as exc:  # noqa: BLE001 - a figure must never cost the run
            warnings.warn(f"{name} not written ({type(exc).__name__}: {exc}); the run's results are unaffected",
                          RuntimeWarning, stacklevel=2)
    return written


def for_run(out: str | Path, ds, est, labels: np.ndarray, n_clusters: int, seed: int | None = None,
            final: dict | None = None) -> dict[str, Path]:
    """The figures of a fitted estimator ``est`` on data set ``ds`` (what ``fairclust run`` writes);
    ``final``: the run's metrics record. Several sensitive attributes (``ds.attributes``): the
    composition shows each one and ``ds.sensitive``, their intersection."""
    codes = metrics.factorize(np.asarray(ds.sensitive))[1]
    n_groups = int(codes.max()) + 1
    names = list(ds.group_names) if len(ds.group_names) == n_groups else None
    X_net = None
    if np.ndim(ds.X) == 2 and callable(getattr(est, "_scale", None)):
        X_net = est._scale(ds.X)  # feature vectors as the networks (and the matching) saw them
        if any(r.get("space") == "unscaled" for r in getattr(est, "matching_", None) or []):
            X_net = np.asarray(ds.X, dtype=np.float32) - est.scaler_mean_  # paired in their own units
    cfg = getattr(est, "config_", None) or {}
    return write_all(out, X=ds.X, labels=labels, codes=codes, group_names=names, n_clusters=n_clusters,
                     history=getattr(est, "history_", None), teacher_labels=getattr(est, "teacher_labels_", None),
                     matching=getattr(est, "matching_", None), X_net=X_net, stop_tol=cfg.get("stop_tol"),
                     final=final, fair_delta=cfg.get("fair_labels"), seed=0 if seed is None else int(seed),
                     attributes=getattr(ds, "attributes", None))
