"""Figure 5: label matching. Cluster each group on its own, then match the groups' clusters.

Fair clustering can be read as a matching problem: partition each group separately, then
decide which cluster of one group goes with which cluster of another. Without guidance the
matching can go wrong. For a per-group partition we compute

* **best matching**: every group's clusters mapped to classes by the Hungarian algorithm
  *maximising* agreement with the truth (the upper bound any matching can reach);
* **worst matching**: one reference group mapped that way, every other group's clusters
  mapped *minimising* agreement; the worst over the choice of reference group.

Each combined labelling is then scored like any clustering (``metrics.accuracy`` finds its
own best cluster-to-class map), so best >= worst always. Two per-group partitions are
matched: k-means on the shared pretrained encoder's features (``kmeans`` baseline's
features, one run per group) and DFC's own per-group teachers (``teacher_labels_``), named
by their kind (:func:`teacher_name`: the paper's VAE + DEC under ``faithful`` / ``paper``,
UMAP + GMM under ``default``). DFC and plain k-means
on all samples (no fairness) stand beside them, and any other methods asked for with
``--compare`` (the paper shows ScFC and SpFC).

Files: ``matching.csv`` (one row per bar, with the Section 4.3 quantities) and
``matching.png``, plus the DFC run's own files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from .. import metrics, runner
from ..embedding import kmeans
from ..errors import FairclustError
from ..figures.style import new_figure, save_figure
from .common import (
    column,
    dfc_model,
    group_codes,
    metric_columns,
    read_csv,
    write_csv,
)
from .comparison import ROW_NAMES


def map_to_classes(labels: np.ndarray, y_codes: np.ndarray, n_classes: int, *, maximize: bool) -> np.ndarray:
    """Each cluster of ``labels`` mapped to a class index by the Hungarian algorithm.

    ``maximize`` picks the assignment with the most (else the fewest) samples landing on
    their true class. Clusters left without a class (more clusters than classes) get their
    own labels ``n_classes + j``.
    """
    clusters, inv = np.unique(labels, return_inverse=True)
    table = metrics.contingency(inv.reshape(-1), y_codes, names=("labels", "labels_true"))
    full = np.zeros((len(clusters), n_classes), dtype=np.int64)
    full[:, np.unique(y_codes)] = table
    rows, cols = linear_sum_assignment(full, maximize=maximize)
    target = n_classes + np.arange(len(clusters))
    target[rows] = cols
    return target[inv.reshape(-1)]


def matched_labels(partition: np.ndarray, codes: np.ndarray, y: np.ndarray, *, worst: bool,
                   reference: int = 0) -> np.ndarray:
    """One labelling of all samples from per-group partitions (cluster ids local to each group)."""
    _, y_codes = np.unique(y, return_inverse=True)
    y_codes = y_codes.reshape(-1)
    n_classes = int(y_codes.max()) + 1
    out = np.empty(len(partition), dtype=np.int64)
    for g in np.unique(codes):
        m = codes == g
        out[m] = map_to_classes(partition[m], y_codes[m], n_classes, maximize=not worst or g == reference)
    return out


def best_and_worst(partition: np.ndarray, codes: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best-matched labelling and the worst (lowest accuracy over the reference group)."""
    best = matched_labels(partition, codes, y, worst=False)
    worsts = [matched_labels(partition, codes, y, worst=True, reference=r) for r in np.unique(codes)]
    worst = min(worsts, key=lambda lab: metrics.accuracy(y, lab))
    return best, worst


def per_group_kmeans(Z: np.ndarray, codes: np.ndarray, n_clusters: int, n_init: int, seed: int) -> np.ndarray:
    """k-means on each group's features alone; cluster ids are local to each group."""
    out = np.empty(len(codes), dtype=np.int64)
    for g in np.unique(codes):
        m = codes == g
        out[m] = kmeans(Z[m], n_clusters, n_init, seed).labels_
    return out


def teacher_name(model) -> str:
    """What DFC's per-group teachers were: ``DEC teachers`` (the paper's) or ``UMAP + GMM teachers``
    (``umap``, ``vae-umap``, ``canonical`` and ``auto``, which picks one of them per group)."""
    kind = model.config_["teacher"]
    return "DEC teachers" if kind == "dec" else "UMAP + GMM teachers"


def run(ds, opts: dict, out: Path, *, seed: int, n_clusters: int | None = None, compare: tuple[str, ...] = (),
        model_path: str | None = None, keep_figures: bool = False) -> dict:
    """DFC, k-means and the matched per-group partitions; write ``matching.csv`` / ``.png``."""
    if ds.y is None:
        raise FairclustError(f"dataset {ds.name!r} has no class labels; label matching needs them")
    model, opts = dfc_model(ds, opts, seed=seed, n_clusters=n_clusters, out=out, model_path=model_path)
    k, seed = model.n_clusters, model.seed_  # baselines on the pretraining DFC started from
    km = runner.run_method(ds, "kmeans", n_clusters=k, seed=seed, options=opts)
    codes = group_codes(ds)
    parts = {
        "per-group k-means": per_group_kmeans(km["_estimator"].transform(ds.X), codes, k,
                                              km["_estimator"].config_["n_init"], seed),
        f"per-group {teacher_name(model)}": np.asarray(model.teacher_labels_),
    }
    rows = [{"method": "DFC", "partition": "DFC", "matching": "-", **metric_columns(ds, model.labels_, k)},
            {"method": "k-means (no fairness)", "partition": "k-means on all samples", "matching": "-",
             **metric_columns(ds, km["_estimator"].labels_, k)}]
    for name in compare:
        rec = runner.run_method(ds, name, n_clusters=k, seed=seed, options=opts)
        rows.append({"method": ROW_NAMES.get(name, name), "partition": f"{name} on all samples", "matching": "-",
                     **metric_columns(ds, rec["_estimator"].labels_, k)})
    for name, part in parts.items():
        best, worst = best_and_worst(part, codes, ds.y)
        short = name.replace("per-group ", "")
        rows.append({"method": f"best matching ({short})", "partition": name, "matching": "best",
                     **metric_columns(ds, best, k)})
        rows.append({"method": f"worst matching ({short})", "partition": name, "matching": "worst",
                     **metric_columns(ds, worst, k)})
    csv_path = write_csv(out / "matching.csv", rows)
    return plot(csv_path, out, dataset=ds.name, keep_figures=keep_figures)


BAR_COLORS = {"best": "tab:blue", "worst": "tab:red", "DFC": "tab:green", "k-means (no fairness)": "tab:gray"}


def plot(csv_path: Path, out: Path, *, dataset: str, keep_figures: bool = False) -> dict:
    """Bar chart of accuracy (and NMI) per row of ``matching.csv``."""
    from matplotlib.patches import Patch

    rows = read_csv(csv_path)
    names = [r["method"] for r in rows]
    acc, nmi = column(rows, "accuracy").astype(float), column(rows, "nmi").astype(float)
    fig, axes = new_figure(width=8.0, height=4.8)
    ax = axes[0, 0]
    x = np.arange(len(rows))
    colors = [BAR_COLORS.get(r["matching"], BAR_COLORS.get(n, "tab:purple")) for n, r in zip(names, rows)]
    bars = ax.bar(x - 0.2, acc, width=0.4, color=colors)
    ax.bar(x + 0.2, nmi, width=0.4, color=colors, alpha=0.45, hatch="//")
    for b, v in zip(bars, acc):
        ax.annotate(f"{v:.3f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    line = ax.axhline(acc[0], color="tab:green", linestyle="--", linewidth=1)
    ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("score")
    ax.set_xlabel("clustering")
    ax.set_title(f"{dataset}: DFC vs best / worst matching of per-group clusterings")
    ax.legend([Patch(facecolor="0.35"), Patch(facecolor="0.8", hatch="//"), line],
              ["Accuracy (left bar)", "NMI (right bar)", f"DFC accuracy {acc[0]:.3f}"], loc="upper right", fontsize=8)
    png = save_figure(fig, out / "matching.png")
    result = {"csv": [csv_path], "png": [png], "rows": rows}
    if keep_figures:
        result["figures"] = [fig]
    return result
