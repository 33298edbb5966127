"""Figure 4: t-SNE of the DFC embedding at several points of training.

A fixed, group-stratified subsample is embedded (``mu``, encoder in eval mode) together
with the K centres at each snapshot: the start (the pretrained shared encoder and the
centres this fit starts from: k-means or the teachers' means, as its recipe says), points
in the middle, and the end. The points are spread over the fit's own
:class:`~fairclust.schedule.Schedule` (planned before fitting); when the stopping rule ends
training early, the last panel is the fitted model at the iteration it stopped. Points are coloured
by group, centres marked with black crosses. Each snapshot also gets the paper's metrics
and the Section 4.3 quantities of the labels the model would give *all* samples then (the
argmax of q; at the end, the fitted model's ``labels_``, which are fair labels with
``--fair-labels``: the numbers of ``metrics.json``).

Files: ``tsne.csv`` (2-D coordinates: one row per point and centre per snapshot),
``tsne_metrics.csv`` (one row per snapshot), ``tsne_iterNNNNN.png`` (one panel each) and
``tsne.png`` (all panels side by side), plus the DFC run's own files.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FairclustError
from ..figures.style import GROUP_COLORS, new_figure, save_figure
from ..methods import make_method
from ..sampling import sample_per_group
from .common import (
    column,
    fit_dfc,
    fmt,
    group_codes,
    group_names,
    metric_columns,
    read_csv,
    write_csv,
)


def snapshot_points(n_iters: int, n_points: int = 4) -> list[int]:
    """``n_points`` iterations evenly spread over ``0..n_iters`` (0 = before training)."""
    return sorted({int(round(v)) for v in np.linspace(0, n_iters, max(2, n_points))})


class Snapshots:
    """DFC callback: copies the encoder's weights and the centres at chosen iterations (0: the start).

    A fit may train more than once (DFC's collapse guard retries from the same start): the copies are
    kept per training, and :meth:`of` gives those of the training the fitted model kept.
    """

    def __init__(self, iterations: list[int]):
        self.iterations = set(int(i) for i in iterations)
        self.runs: dict[int, dict[int, dict]] = {}  # id of a training's encoder -> iteration -> state

    def __call__(self, iteration: int, trainer: Any) -> None:
        if iteration in self.iterations:
            self.runs.setdefault(id(trainer.encoder), {})[iteration] = {
                "encoder": {k: v.detach().cpu().clone() for k, v in trainer.encoder.state_dict().items()},
                "centers": trainer.centers.detach().cpu().numpy().copy(),
            }

    def of(self, model: Any) -> dict[int, dict]:
        """The states of the training whose encoder ``model`` (a fitted DFC) kept."""
        return self.runs.get(id(model.encoder_), {})


def at_state(model: Any, state: dict) -> Any:
    """A copy of the fitted model with another encoder state and centres."""
    m = copy.deepcopy(model)
    m.encoder_.load_state_dict(state["encoder"])
    m.cluster_centers_ = np.asarray(state["centers"], dtype=np.float32)
    return m


def subsample(codes: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of about ``n`` samples, the same share from every group."""
    return sample_per_group(codes, max(1, n // len(np.unique(codes))), np.random.default_rng(seed))


def tsne_2d(Z: np.ndarray, seed: int, perplexity: float = 30.0) -> np.ndarray:
    from sklearn.manifold import TSNE

    perp = float(min(perplexity, max(2.0, (Z.shape[0] - 1) / 3.0)))
    return TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed).fit_transform(
        np.asarray(Z, dtype=np.float64))


def run(ds, opts: dict, out: Path, *, seed: int, n_clusters: int | None = None, n_points: int = 1000,
        snapshots: list[int] | None = None, keep_figures: bool = False) -> dict:
    """Train DFC with snapshots, t-SNE each, write CSVs and PNGs to ``out``; returns the paths (and figures)."""
    k = n_clusters or ds.n_classes or 2
    n_iters = make_method("dfc", k, seed, **opts).plan_schedule(ds.sensitive).n_iters  # the fit's own T
    iters = sorted(set(snapshots)) if snapshots else snapshot_points(n_iters)
    if iters[0] < 0 or iters[-1] > n_iters:
        raise FairclustError(f"snapshots must lie in 0..{n_iters} (the DFC iterations of this fit); got {iters}")
    snaps = Snapshots(iters)
    record = fit_dfc(ds, opts, seed=seed, n_clusters=n_clusters, out=out, callbacks=[snaps])
    model = record["_estimator"]
    assert model.schedule_.n_iters == n_iters, "the planned schedule is the fit's"
    codes = group_codes(ds)
    end = int(model.history_["iterations_run"])  # < n_iters when the stopping rule ended training
    states = {it: s for it, s in snaps.of(model).items() if it < end}
    states[end] = {"encoder": model.encoder_.state_dict(), "centers": model.cluster_centers_}
    idx = subsample(codes, n_points, seed)
    names = group_names(ds)
    points, summary = [], []
    for it in sorted(states):
        m = at_state(model, states[it])
        Z = m.transform(ds.X[idx])
        C = m.cluster_centers_
        xy = tsne_2d(np.concatenate([Z, C]), seed)
        # the end is the fitted model: its labels_ (fair labels when asked for), as in metrics.json
        labels_all = model.labels_ if it == end else m.predict(ds.X)
        summary.append({"iteration": it, "n_iters": n_iters, **metric_columns(ds, labels_all, model.n_clusters)})
        for j, i in enumerate(idx):
            points.append({"iteration": it, "kind": "sample", "index": int(i), "group_code": int(codes[i]),
                           "group": names[codes[i]],
                           "label": None if ds.y is None else ds.y[i], "cluster": int(labels_all[i]),
                           "x": float(xy[j, 0]), "y": float(xy[j, 1])})
        for k in range(C.shape[0]):
            points.append({"iteration": it, "kind": "centroid", "index": k, "group_code": None, "group": None,
                           "label": None,
                           "cluster": k, "x": float(xy[len(idx) + k, 0]), "y": float(xy[len(idx) + k, 1])})
    csv_path = write_csv(out / "tsne.csv", points)
    metrics_path = write_csv(out / "tsne_metrics.csv", summary)
    return plot(csv_path, metrics_path, out, names, dataset=ds.name, keep_figures=keep_figures)


def draw_panel(ax, rows: list[dict], names: list[str], title: str) -> None:
    for g, name in enumerate(names):
        pts = [r for r in rows if r["kind"] == "sample" and r["group_code"] == g]
        ax.scatter(column(pts, "x"), column(pts, "y"), s=6, alpha=0.6, color=GROUP_COLORS[g % len(GROUP_COLORS)],
                   label=str(name), linewidths=0)
    cen = [r for r in rows if r["kind"] == "centroid"]
    ax.scatter(column(cen, "x"), column(cen, "y"), s=120, marker="X", color="black", edgecolors="white",
               linewidths=1.0, label="centroids")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    legend = ax.legend(loc="best", fontsize=8)
    for handle in legend.legend_handles:
        handle.set_sizes([40])


def plot(csv_path: Path, metrics_path: Path, out: Path, names: list[str], *, dataset: str,
         keep_figures: bool = False) -> dict:
    """One PNG per snapshot and a strip of all of them, drawn from the CSV files."""
    rows = read_csv(csv_path)
    summary = {r["iteration"]: r for r in read_csv(metrics_path)}
    its = sorted(summary)
    titles = {it: (f"iteration {it} of {summary[it]['n_iters']}\nAcc {fmt(summary[it]['accuracy'])}, "
                   f"Balance {fmt(summary[it]['balance'])}, I(C;G) {fmt(summary[it]['I_C_G'])}") for it in its}
    figures, pngs = [], []
    for it in its:
        fig, axes = new_figure()
        draw_panel(axes[0, 0], [r for r in rows if r["iteration"] == it], names, f"{dataset}: {titles[it]}")
        pngs.append(save_figure(fig, out / f"tsne_iter{it:05d}.png"))
        figures.append(fig)
    fig, axes = new_figure(len(its), width=4.2, height=4.2)
    for ax, it in zip(axes[0], its):
        draw_panel(ax, [r for r in rows if r["iteration"] == it], names, titles[it])
    fig.suptitle(f"DFC embedding during training (t-SNE), coloured by group; {dataset}")
    pngs.append(save_figure(fig, out / "tsne.png"))
    figures.append(fig)
    result = {"csv": [csv_path, metrics_path], "png": pngs, "iterations": its}
    if keep_figures:
        result["figures"] = figures
    return result
