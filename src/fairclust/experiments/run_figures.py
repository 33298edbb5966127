"""The figures of one run, written by ``fairclust run`` beside ``metrics.json``.

A fair clustering is judged by looking at it:

* ``gallery.png``: one row per cluster; within it, for each group, a few samples of that
  group assigned to the cluster, the groups side by side (image data only). A cluster
  whose groups show different things (a wrong pairing) stands out.
* ``composition.png``: per cluster a stacked bar of its group shares, under a bar of the
  whole data's shares (dashed lines carry those down); cluster sizes at the right.
* ``curves.png``: DFC's training losses per iteration (smoothed) and, per evaluation, the
  fraction of labels that changed and accuracy / NMI / Balance (DFC only).
* ``teacher_matching.png``: the evidence for DFC's matching of the per-group teachers'
  clusters across groups (``align_groups``; :mod:`fairclust.align`): per group, the score
  of every reference cluster against every cluster of the group, the chosen pairs boxed,
  and how clear each pair is (its margin over the best alternative in its row and column).

Every function takes plain arrays, writes one PNG and returns the numbers it drew (with
``keep_figure``, the figure too), so tests can compare the picture with an independent
count. This module imports no experiment code: :mod:`fairclust.runner` imports it.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import align
from ..files import atomic_write_bytes

DPI = 100
CAPTIONS = {
    "gallery.png": "Samples per cluster (rows) and group (blocks, side by side): each row should show the same "
                   "thing in every group.",
    "composition.png": "Group shares per cluster against the whole data's shares (top bar, dashed lines); "
                       "cluster sizes at the right.",
    "curves.png": "Training: losses per iteration (smoothed), labels changed per evaluation, and the metrics "
                  "at each evaluation.",
    "teacher_matching.png": "Matching of the per-group teachers' clusters: pair scores against the reference group, "
                            "chosen pairs boxed (red: not the clear best in its row and column).",
}
FIGURE_NAMES = tuple(CAPTIONS)
FEW_GROUPS = 10  # up to here: a legend and reference lines; beyond: a colour bar of group indices
_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:gray",
           "tab:olive", "tab:cyan")  # the first six are fairclust.experiments.common.GROUP_COLORS


# ----------------------------------------------------------------------------- helpers
def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)


def group_colors(n_groups: int) -> list:
    """One colour per group: named colours up to ten groups, then a sequential colour map."""
    if n_groups <= len(_COLORS):
        return list(_COLORS[:n_groups])
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(n_groups - 1, 1)) for i in range(n_groups)]


def _short(name: Any, n: int = 16) -> str:
    s = str(name)
    return s if len(s) <= n else s[:n - 1] + "…"


def _names(group_names, n_groups: int) -> list[str]:
    names = [str(g) for g in (group_names or [])]
    return names if len(names) == n_groups else [str(g) for g in range(n_groups)]


def cluster_codes(labels: np.ndarray, n_clusters: int | None = None) -> tuple[np.ndarray, int]:
    """Labels as ``0..K-1`` (kept as they are when already so) and ``K`` (at least ``n_clusters``)."""
    labels = np.asarray(labels).reshape(-1)
    if labels.dtype.kind in "iu" and labels.size and labels.min() >= 0:
        k = int(labels.max()) + 1
        return labels.astype(np.int64), max(k, int(n_clusters or 0))
    uniq, inv = np.unique(labels, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), max(len(uniq), int(n_clusters or 0))


def is_images(X: Any) -> bool:
    """``N x C x H x W`` (or ``N x H x W``) arrays are images; ``N x D`` are feature vectors."""
    return X is not None and np.ndim(X) in (3, 4)


def _display(X: np.ndarray, idx: np.ndarray, max_side: int = 64) -> np.ndarray:
    """Images ``idx`` of ``X`` as ``n x h x w x 3`` in [0, 1] (large images subsampled)."""
    imgs = np.asarray(X[idx], dtype=np.float32)
    if imgs.ndim == 3:
        imgs = imgs[:, None]
    step = max(1, math.ceil(max(imgs.shape[2:]) / max_side))
    imgs = imgs[:, :, ::step, ::step]
    imgs = imgs[:, :3] if imgs.shape[1] >= 3 else imgs[:, :1].repeat(3, axis=1)
    if imgs.size:
        lo, hi = min(float(imgs.min()), 0.0), max(float(imgs.max()), 1.0)  # [0, 1] images unchanged
        imgs = (imgs - lo) / (hi - lo)
    return imgs.transpose(0, 2, 3, 1)


# ----------------------------------------------------------------------------- gallery
def gallery(path: str | Path, X: np.ndarray, labels: np.ndarray, codes: np.ndarray, group_names=None, *,
            n_clusters: int | None = None, per_group: int = 6, seed: int = 0, confidence: np.ndarray | None = None,
            keep_figure: bool = False) -> dict:
    """``gallery.png``: per cluster one row of sample images, a block per group.

    Each block holds up to ``per_group`` samples of that group in that cluster: the most
    confident ones when ``confidence`` (one number per sample, e.g. ``max_k q_ik``) is given,
    else a seeded random choice. With many groups fewer samples per group are shown (at most
    about 40 images a row). Returns ``rows`` (K), ``indices[k][g]`` (the samples shown) and
    ``counts[k][g]``.
    """
    from matplotlib.patches import Rectangle

    X = np.asarray(X)
    if not is_images(X):
        raise ValueError(f"a gallery needs images (N x C x H x W); X has shape {X.shape}")
    labels, k = cluster_codes(labels, n_clusters)
    codes = np.asarray(codes).reshape(-1).astype(np.int64)
    m = int(codes.max()) + 1
    names = _names(group_names, m)
    per = max(1, min(per_group, 40 // m))
    rng = np.random.default_rng(seed)
    indices: list[list[list[int]]] = []
    for c in range(k):
        row = []
        for g in range(m):
            members = np.flatnonzero((labels == c) & (codes == g))
            if confidence is not None:
                chosen = members[np.argsort(-np.asarray(confidence)[members], kind="stable")[:per]]
            else:
                chosen = np.sort(rng.choice(members, size=min(per, len(members)), replace=False))
            row.append([int(i) for i in chosen])
        indices.append(row)
    flat = np.array([i for row in indices for blk in row for i in blk], dtype=np.int64)
    tiles = _display(X, flat)
    th, tw = (tiles.shape[1], tiles.shape[2]) if len(flat) else (8, 8)
    pad, gap = 1, max(4, tw // 3)
    block_w = per * (tw + pad) + pad
    mosaic_w = m * block_w + (m - 1) * gap
    mosaic_h = th + 2 * pad
    row_w_in = min(max(5.0, mosaic_w / 48.0), 11.0)
    row_h_in = row_w_in * mosaic_h / mosaic_w
    left_in, right_in, top_in, bottom_in, sep_in = 1.25, 0.2, (0.55 if m <= 6 else 1.1), 0.15, 0.06
    fig_w = left_in + row_w_in + right_in
    fig_h = top_in + k * (row_h_in + sep_in) + bottom_in
    fig = _figure(fig_w, fig_h)
    colors = group_colors(m)
    pos = 0
    axes = []
    for c in range(k):
        mosaic = np.ones((mosaic_h, mosaic_w, 3), dtype=np.float32)
        for g in range(m):
            x0 = g * (block_w + gap)
            mosaic[:, x0:x0 + block_w] = 0.93  # a light grey block: empty slots stay grey
            for j in range(len(indices[c][g])):
                xs = x0 + pad + j * (tw + pad)
                mosaic[pad:pad + th, xs:xs + tw] = tiles[pos]
                pos += 1
        y0 = 1 - (top_in + c * (row_h_in + sep_in) + row_h_in) / fig_h
        ax = fig.add_axes((left_in / fig_w, y0, row_w_in / fig_w, row_h_in / fig_h))
        ax.imshow(mosaic, interpolation="nearest", aspect="auto", extent=(0, mosaic_w, mosaic_h, 0))
        for g in range(m):  # the group's colour under its block: the separator between groups
            x0 = g * (block_w + gap)
            ax.add_patch(Rectangle((x0 - 0.5, -0.5), block_w, mosaic_h, fill=False, edgecolor=colors[g],
                                   linewidth=1.2))
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_visible(False)
        n_c = int(np.sum(labels == c))
        per_g = " / ".join(str(int(np.sum((labels == c) & (codes == g)))) for g in range(m)) if m <= 4 else ""
        ax.set_ylabel(f"cluster {c}\n{n_c} samples" + (f"\n{per_g}" if per_g else ""), rotation=0, ha="right",
                      va="center", fontsize=8)
        if c == 0:
            for g in range(m):
                x = g * (block_w + gap) + block_w / 2
                if m <= 6:
                    ax.text(x, -mosaic_h * 0.15, names[g], ha="center", va="bottom", fontsize=10, color=colors[g],
                            fontweight="bold")
                else:
                    ax.text(x, -mosaic_h * 0.1, _short(names[g]), ha="center", va="bottom", fontsize=7, rotation=90,
                            color=colors[g])
        axes.append(ax)
    how = "most confident" if confidence is not None else f"random (seed {seed})"
    fig.suptitle(f"Samples per cluster: up to {per} per group, {how}", y=1 - 0.12 / fig_h, va="top", fontsize=10)
    png = _save(fig, Path(path))
    out = {"png": png, "rows": k, "per_group": per, "indices": indices,
           "counts": [[int(np.sum((labels == c) & (codes == g))) for g in range(m)] for c in range(k)]}
    if keep_figure:
        out["figure"], out["axes"] = fig, axes
    return out


# ----------------------------------------------------------------------------- composition
def composition(path: str | Path, labels: np.ndarray, codes: np.ndarray, group_names=None, *,
                n_clusters: int | None = None, keep_figure: bool = False) -> dict:
    """``composition.png``: per cluster a stacked bar of its group shares against the data's.

    Returns ``shares`` (K x M: group g's share of cluster k, the bars' widths), ``sizes``
    (K) and ``overall`` (M: the data's shares, the reference bar).
    """
    labels, k = cluster_codes(labels, n_clusters)
    codes = np.asarray(codes).reshape(-1).astype(np.int64)
    m = int(codes.max()) + 1
    names = _names(group_names, m)
    counts = np.zeros((k, m), dtype=np.int64)
    np.add.at(counts, (labels, codes), 1)
    sizes = counts.sum(1)
    shares = counts / np.maximum(sizes, 1)[:, None]
    overall = np.bincount(codes, minlength=m) / len(codes)
    colors = group_colors(m)
    fig = _figure(8.0, 1.3 + 0.32 * (k + 2))
    ax = fig.add_axes((0.15, 0.75 / fig.get_figheight(), 0.62 if m <= FEW_GROUPS else 0.68,
                       1 - 1.25 / fig.get_figheight()))
    ys = np.concatenate([[-1.5], np.arange(k)])  # the reference bar on top, a gap, then the clusters
    rows = np.vstack([overall[None], shares])
    left = np.zeros(k + 1)
    for g in range(m):
        ax.barh(ys, rows[:, g], left=left, height=0.78, color=colors[g], edgecolor="white", linewidth=0.4,
                label=_short(names[g], 24))
        left += rows[:, g]
    if m <= FEW_GROUPS:
        for x in np.cumsum(overall)[:-1]:
            ax.plot([x, x], [-0.6, k - 0.4], color="black", linestyle="--", linewidth=0.9)
    for y, n in zip(np.arange(k), sizes):
        ax.text(1.01, y, f"{n}" if n else "empty", va="center", ha="left", fontsize=8,
                transform=ax.get_yaxis_transform())
    ax.text(1.01, -1.5, f"{len(codes)}", va="center", ha="left", fontsize=8, fontweight="bold",
            transform=ax.get_yaxis_transform())
    ax.text(1.01, -2.45, "size", va="center", ha="left", fontsize=8, color="0.3", transform=ax.get_yaxis_transform())
    ax.set_yticks(ys, ["all data"] + [f"cluster {c}" for c in range(k)], fontsize=8)
    ax.set_ylim(k - 0.4, -2.1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the cluster's samples")
    ax.set_title("Group composition per cluster (dashed: the data's shares)" if m <= FEW_GROUPS
                 else f"Group composition per cluster ({m} groups)", fontsize=10)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    if m <= FEW_GROUPS:
        ax.legend(loc="upper left", bbox_to_anchor=(1.09, 1.0), fontsize=8, frameon=False, title="group",
                  title_fontsize=8)
    else:
        from matplotlib import colormaps
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        sm = ScalarMappable(norm=Normalize(0, m - 1), cmap=colormaps["viridis"])
        cax = fig.add_axes((0.90, 0.75 / fig.get_figheight(), 0.018, 1 - 1.25 / fig.get_figheight()))
        fig.colorbar(sm, cax=cax, label="group index (sorted group ids)")
    png = _save(fig, Path(path))
    out = {"png": png, "shares": shares, "sizes": sizes, "overall": overall, "groups": names}
    if keep_figure:
        out["figure"], out["axes"] = fig, [ax]
    return out


# ----------------------------------------------------------------------------- curves
LOSS_TERMS = (("loss", "total", "black"), ("L_c", "L_c (clustering)", "tab:blue"),
              ("L_s", "L_s (structure)", "tab:green"), ("L_f", "L_f (fairness)", "tab:red"))
EVAL_METRICS = (("accuracy", "Accuracy", "tab:blue"), ("nmi", "NMI", "tab:green"), ("balance", "Balance", "tab:red"))


MAX_POINTS = 1000  # points per drawn line: a long run's curves stay fast to draw


def envelope(x: np.ndarray, values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin of consecutive points: the first ``x``, the minimum and the maximum of ``values``."""
    edges = np.linspace(0, len(values), bins + 1).astype(int)
    starts = edges[:-1][np.diff(edges) > 0]
    return x[starts], np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average over ``window`` points (shorter windows at the ends), same length."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(values) < 3:
        return values
    window = min(window, len(values))
    kernel = np.ones(window)
    num = np.convolve(values, kernel, mode="same")
    den = np.convolve(np.ones_like(values), kernel, mode="same")
    return num / den


def curves(path: str | Path, history: dict | None, *, stop_tol: float | None = None, final: dict | None = None,
           keep_figure: bool = False) -> dict | None:
    """``curves.png`` from a DFC ``history_`` (None when it holds neither losses nor evaluations).

    Panels: the loss terms per iteration (thin: raw, or for long runs the range of the raw
    values per bin; thick: moving average over 1/40 of the run; log scale when every value
    is positive), the fraction of labels that changed since
    the previous evaluation (with the stopping threshold ``stop_tol``), and accuracy / NMI /
    Balance per evaluation (of the argmax of q), with the final labels' values (``final``,
    e.g. the metrics record; they differ with fair labels) as stars after the last one.
    Returns ``terms`` (name -> raw values), ``changed`` and ``scores``.
    """
    history = history or {}
    its = np.asarray(history.get("iteration") or [], dtype=np.float64)
    terms = {key: np.asarray(history[key], dtype=np.float64) for key, _, _ in LOSS_TERMS
             if len(history.get(key) or []) == len(its) and len(its)}
    evals = [e for e in history.get("evals") or [] if isinstance(e, dict) and "iteration" in e]
    changed = [(e["iteration"], e["changed"]) for e in evals if e.get("changed") is not None]
    scores = {key: [(e["iteration"], e[key]) for e in evals if isinstance(e.get(key), (int, float))]
              for key, _, _ in EVAL_METRICS}
    scores = {k: v for k, v in scores.items() if v}
    panels = [p for p, ok in (("loss", terms), ("changed", changed), ("scores", scores)) if ok]
    if not panels:
        return None
    x_max = max([float(its.max()) if len(its) else 0.0] + [float(e["iteration"]) for e in evals] + [1.0])
    n = len(panels)
    width, height, gap = 4.6 * n, 3.8, 0.95  # inches; fixed margins (a layout engine doubles the drawing time)
    axes_w = (width - 0.8 - 0.2 - gap * (n - 1)) / n
    fig = _figure(width, height)
    axes = fig.subplots(1, n, squeeze=False, gridspec_kw={
        "left": 0.8 / width, "right": 1 - 0.2 / width, "bottom": 0.55 / height, "top": 1 - 0.35 / height,
        "wspace": gap / axes_w})[0]
    by = dict(zip(panels, axes))
    if "loss" in by:
        ax = by["loss"]
        window = max(1, len(its) // 40)
        positive = all(np.all(v[np.isfinite(v)] > 0) for v in terms.values())
        for key, label, color in LOSS_TERMS:
            if key not in terms:
                continue
            v = terms[key]
            if window > 1 and len(v) > 2 * MAX_POINTS:  # long runs: the raw values' range per bin
                x_b, lo, hi = envelope(its, v, MAX_POINTS)
                ax.fill_between(x_b, lo, hi, color=color, alpha=0.15, linewidth=0)
            elif window > 1:
                ax.plot(its, v, color=color, alpha=0.2, linewidth=0.6)
            step = max(1, len(v) // MAX_POINTS)
            ax.plot(its[::step], smooth(v, window)[::step], color=color, linewidth=1.6, label=label)
        if positive:
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss" + (" (log scale)" if positive else ""))
        ax.set_title("Training losses" + (f" (moving average over {window})" if window > 1 else ""), fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if "changed" in by:
        ax = by["changed"]
        x, v = np.array(changed, dtype=np.float64).T
        ax.plot(x, 100 * v, marker="o", color="tab:purple", label="labels changed")
        if stop_tol:
            ax.axhline(100 * stop_tol, color="0.4", linestyle="--", linewidth=1,
                       label=f"stopping threshold {100 * stop_tol:g}%")
        if np.all(v > 0):
            ax.set_yscale("log")
        from matplotlib.ticker import FuncFormatter

        def some(y, _):  # minor ticks of a log axis: label 2, 3 and 5 times a power of ten only
            mant = y / 10 ** math.floor(math.log10(y)) if y > 0 else 0.0
            return f"{y:.3g}%" if any(abs(mant - d) < 1e-6 for d in (2, 3, 5)) else ""

        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:.3g}%"))
        ax.yaxis.set_minor_formatter(FuncFormatter(some))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_xlabel("iteration")
        ax.set_ylabel("labels changed since the last evaluation", fontsize=9)
        ax.set_xlim(0, 1.04 * x_max)
        ax.set_title("Labels changed per evaluation", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if "scores" in by:
        ax = by["scores"]
        for key, label, color in EVAL_METRICS:
            if key in scores:
                x, v = np.array(scores[key], dtype=np.float64).T
                ax.plot(x, v, marker="o", markersize=4, color=color, label=f"{label} (last {v[-1]:.3f})")
        ends = [(key, color) for key, _, color in EVAL_METRICS
                if isinstance((final or {}).get(key), (int, float)) and key in scores]
        if ends:
            for key, color in ends:
                ax.plot([1.06 * x_max], [final[key]], marker="*", markersize=11, color=color,
                        markeredgecolor="black", markeredgewidth=0.5, linestyle="none")
            ax.plot([], [], marker="*", color="0.5", linestyle="none", markersize=10,
                    label="final labels: " + ", ".join(f"{final[k]:.3f}" for k, _ in ends))
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, 1.12 * x_max)
        ax.set_xlabel("iteration")
        ax.set_ylabel("score")
        ax.set_title("Metrics per evaluation (argmax of q)", fontsize=10)
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    png = _save(fig, Path(path))
    out = {"png": png, "panels": panels, "terms": terms, "changed": changed, "scores": scores}
    if keep_figure:
        out["figure"], out["axes"] = fig, list(axes)
    return out


# ----------------------------------------------------------------------------- teacher matching
def hard_centroids(Xf: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of each cluster's rows (an empty cluster gets the mean of all rows)."""
    C = np.zeros((k, Xf.shape[1]))
    np.add.at(C, labels, Xf)
    n = np.bincount(labels, minlength=k)
    C[n > 0] /= n[n > 0, None]
    C[n == 0] = Xf.mean(0)
    return C


def pair_scores(X_ref: np.ndarray, t_ref: np.ndarray, X_g: np.ndarray, t_g: np.ndarray, k: int, *,
                kind: str = "fused", sign: float = 1.0) -> dict:
    """Score of every (reference cluster i, group cluster j) pair, clusters already matched
    (cluster k means the same in both groups), from the clusters' mean rows.

    The terms of :func:`fairclust.align.match`, split into pairs: ``features[i, j]`` is
    ``sign <F_ref[i], F_g[j]>``; ``structure[i, j] = <S_ref[i], S_g[j]>`` compares the two
    clusters' distances to the other (matched) clusters. Summed on the diagonal each gives
    the matching's correlation of that kind. ``score`` adds the terms ``kind`` uses. A pair's
    ``margin`` is its score minus the best other score in its row and in its column
    (positive: the clear best of both).
    """
    Xr = X_ref.reshape(len(X_ref), -1).astype(np.float64)
    Xg = X_g.reshape(len(X_g), -1).astype(np.float64)
    C_ref, C_g = hard_centroids(Xr, t_ref, k), hard_centroids(Xg, t_g, k)
    S_ref = align.structure_matrix(align.centroid_distances(Xr, None, C_ref))
    S_g = align.structure_matrix(align.centroid_distances(Xg, None, C_g))
    F_ref, F_g = align.feature_matrix(Xr, None, C_ref), align.feature_matrix(Xg, None, C_g)
    structure, features = S_ref @ S_g.T, sign * F_ref @ F_g.T
    w_s, w_f = {"fused": (1, 1), "structure": (1, 0), "features": (0, 1)}.get(kind, (1, 1))
    score = w_s * structure + w_f * features
    margin = np.full(k, np.inf)
    if k > 1:
        off = np.where(np.eye(k, dtype=bool), -np.inf, score)
        margin = np.diag(score) - np.maximum(off.max(1), off.max(0))
    return {"score": score, "structure": structure, "features": features, "margin": margin,
            "clear": int(np.sum(margin > 0)), "min_margin": float(margin.min()),
            "centroids": (C_ref, C_g)}


def teacher_matching(path: str | Path, X: np.ndarray, teacher_labels: np.ndarray, codes: np.ndarray,
                     records: list[dict] | None, group_names=None, *, n_clusters: int | None = None,
                     max_panels: int = 3, keep_figure: bool = False) -> dict | None:
    """``teacher_matching.png`` from DFC's ``matching_`` records and its (matched) ``teacher_labels_``.

    ``X`` is the data as the networks saw it (feature vectors standardised). Per group
    (at most ``max_panels``, least clear first) a heatmap of :func:`pair_scores` with the
    chosen pairs on the diagonal, its columns labelled with the group teacher's own cluster
    numbers; for images the clusters' mean images of both groups underneath. With more
    groups a bar chart of every group's clear pairs comes first. Returns ``groups``: per
    matched group its ``clear`` count, ``min_margin`` and the evidence of its record.
    """
    from matplotlib.patches import Rectangle

    if not records or X is None:
        return None
    X = np.asarray(X)
    labels, k = cluster_codes(teacher_labels, n_clusters)
    codes = np.asarray(codes).reshape(-1).astype(np.int64)
    m = int(codes.max()) + 1
    names = _names(group_names, m)
    ref = next((r["group"] for r in records if r.get("reference")), None)
    if ref is None or k < 2:
        return None
    mr = codes == ref
    groups = []
    for r in records:
        if r.get("reference"):
            continue
        g = int(r["group"])
        mg = codes == g
        ps = pair_scores(X[mr], labels[mr], X[mg], labels[mg], k, kind=r.get("kind", "fused"),
                         sign=float(r.get("sign", 1.0)))
        groups.append({"group": g, "name": names[g], "perm": list(r.get("perm", range(k))), "kind": r.get("kind"),
                       "sign": r.get("sign"), "structure_corr": r.get("structure"),
                       "features_corr": r.get("features"), **ps})
    if not groups:
        return None
    groups.sort(key=lambda d: (d["clear"], d["min_margin"]))
    shown = groups[:max_panels]
    images = is_images(X)
    summary = len(groups) > max_panels
    ncols = len(shown) + summary
    fig = _figure(max(5.4 * len(shown) + 3.0 * summary, 6.0), 7.4 if images else 5.4)
    fig.set_layout_engine("constrained")
    grid = fig.add_gridspec(2 if images else 1, ncols, height_ratios=[4.2, 1.6] if images else None,
                            width_ratios=[0.55] * summary + [1.0] * len(shown))
    col = 0
    axes = []
    if summary:
        ax = fig.add_subplot(grid[:, 0])
        order = sorted(groups, key=lambda d: d["group"])
        ax.barh(np.arange(len(order)), [d["clear"] / k for d in order], height=0.6,
                color=["tab:red" if d["clear"] < k else "tab:green" for d in order])
        ax.set_yticks(np.arange(len(order)), [_short(d["name"]) for d in order], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of clear pairs")
        ax.set_title(f"Every group vs {_short(names[ref])}", fontsize=10)
        axes.append(ax)
        col = 1
    for d in shown:
        ax = fig.add_subplot(grid[0, col])
        im = ax.imshow(d["score"], cmap="viridis")
        for i in range(k):
            ok = d["margin"][i] > 0
            ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="white" if ok else "red",
                                   linewidth=1.5 if ok else 2.5))
        ax.set_yticks(np.arange(k), [str(i) for i in range(k)], fontsize=7)
        ax.set_xticks(np.arange(k), [str(p) for p in d["perm"]], fontsize=7)
        ax.set_ylabel(f"{_short(names[ref], 24)} (reference) cluster")
        ax.set_xlabel(f"{_short(d['name'], 24)} teacher's cluster (its own number)")
        sign = "" if d["sign"] is None else (", contrast flipped" if d["sign"] < 0 else "")
        corr = []
        if d["structure_corr"] is not None:
            corr.append(f"structure {d['structure_corr']:.2f}")
        if d["features_corr"] is not None:
            corr.append(f"features {d['features_corr']:.2f}")
        ax.set_title(f"{_short(d['name'], 24)} vs {_short(names[ref], 24)}: matching '{d['kind']}'{sign}\n"
                     f"correlation {', '.join(corr) or '-'}\n"
                     f"clear pairs {d['clear']}/{k}, smallest margin {d['min_margin']:+.3f}", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8, label="pair score")
        axes.append(ax)
        if images:
            ax2 = fig.add_subplot(grid[1, col])
            C_ref, C_g = d["centroids"]
            shape = X.shape[1:] if X.ndim == 4 else (1, *X.shape[1:])
            tiles = _display(np.concatenate([C_ref, C_g]).reshape(2 * k, *shape), np.arange(2 * k))
            th, tw = tiles.shape[1:3]
            mosaic = np.ones((2 * (th + 1) + 1, k * (tw + 1) + 1, 3), dtype=np.float32)
            for j in range(2 * k):
                r, c = divmod(j, k)
                mosaic[1 + r * (th + 1):1 + r * (th + 1) + th, 1 + c * (tw + 1):1 + c * (tw + 1) + tw] = tiles[j]
            ax2.imshow(mosaic, interpolation="nearest")
            ax2.set_xticks([(tw + 1) * c + 1 + tw / 2 for c in range(k)], [str(c) for c in range(k)], fontsize=7)
            ax2.set_yticks([1 + th / 2, th + 2 + th / 2], [_short(names[ref], 12), _short(d["name"], 12)], fontsize=8)
            ax2.set_title("cluster means, matched (column = reference cluster)", fontsize=8)
            axes.append(ax2)
        col += 1
    fig.suptitle("Cross-group matching of the per-group teachers' clusters\nboxed: the chosen pairs (their scores sum "
                 "to the correlations)\nmargin: a pair's score minus the best rival in its row and column",
                 fontsize=9)
    png = _save(fig, Path(path))
    out = {"png": png, "reference": int(ref),
           "groups": [{k_: v for k_, v in d.items() if k_ != "centroids"} for d in groups]}
    if keep_figure:
        out["figure"], out["axes"] = fig, axes
    return out


# ----------------------------------------------------------------------------- one run
def write_all(out: str | Path, *, X: np.ndarray | None, labels: np.ndarray, codes: np.ndarray, group_names=None,
              n_clusters: int | None = None, history: dict | None = None, teacher_labels: np.ndarray | None = None,
              matching: list[dict] | None = None, X_net: np.ndarray | None = None, stop_tol: float | None = None,
              final: dict | None = None, seed: int = 0) -> dict[str, Path]:
    """Every figure the inputs allow, in ``out``; returns name -> path of those written.

    ``composition.png`` always; ``gallery.png`` for images; ``curves.png`` with a
    ``history``; ``teacher_matching.png`` with ``matching`` records and ``teacher_labels``.
    Figures of these names already in ``out`` (an earlier run's) are removed first. A figure
    that fails is skipped with a warning: the run's results never depend on it.
    """
    out = Path(out)
    jobs = [("composition.png", lambda p: composition(p, labels, codes, group_names, n_clusters=n_clusters))]
    if is_images(X):
        jobs.append(("gallery.png", lambda p: gallery(p, X, labels, codes, group_names, n_clusters=n_clusters,
                                                      seed=seed)))
    if history:
        jobs.append(("curves.png", lambda p: curves(p, history, stop_tol=stop_tol, final=final)))
    if matching and teacher_labels is not None:
        jobs.append(("teacher_matching.png",
                     lambda p: teacher_matching(p, X if X_net is None else X_net, teacher_labels, codes, matching,
                                                group_names, n_clusters=n_clusters)))
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
    ``final``: the run's metrics record."""
    from .. import metrics

    codes = metrics.factorize(np.asarray(ds.sensitive))[1]
    n_groups = int(codes.max()) + 1
    names = list(ds.group_names) if len(ds.group_names) == n_groups else None
    X_net = None
    if np.ndim(ds.X) == 2 and callable(getattr(est, "_scale", None)):
        X_net = est._scale(ds.X)  # feature vectors as the networks (and the matching) saw them
    cfg = getattr(est, "config_", None) or {}
    return write_all(out, X=ds.X, labels=labels, codes=codes, group_names=names, n_clusters=n_clusters,
                     history=getattr(est, "history_", None), teacher_labels=getattr(est, "teacher_labels_", None),
                     matching=getattr(est, "matching_", None), X_net=X_net, stop_tol=cfg.get("stop_tol"),
                     final=final, seed=0 if seed is None else int(seed))
