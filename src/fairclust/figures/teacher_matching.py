"""``teacher_matching.png``: the evidence for DFC's matching of the per-group teachers' clusters
across groups (``align_groups``; :mod:`fairclust.align`): per group, the score of every
reference cluster against every cluster of the group, the chosen pairs boxed, and how clear
each pair is (its margin over the best alternative in its row and column)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import align
from .gallery import cluster_codes, is_images, thumbnails
from .style import figure, group_labels, save_figure, short


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
    names = group_labels(group_names, m)
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
                       "sign": r.get("sign"), "via": r.get("via"), "structure_corr": r.get("structure"),
                       "features_corr": r.get("features"), **ps})
    if not groups:
        return None
    groups.sort(key=lambda d: (d["clear"], d["min_margin"]))
    shown = groups[:max_panels]
    images = is_images(X)
    summary = len(groups) > max_panels
    ncols = len(shown) + summary
    fig = figure(max(5.4 * len(shown) + 3.0 * summary, 6.0), 7.4 if images else 5.4)
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
        ax.set_yticks(np.arange(len(order)), [short(d["name"]) for d in order], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of clear pairs")
        ax.set_title(f"Every group vs {short(names[ref])}", fontsize=10)
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
        ax.set_ylabel(f"{short(names[ref], 24)} (reference) cluster")
        ax.set_xlabel(f"{short(d['name'], 24)} teacher's cluster (its own number)")
        sign = "" if d["sign"] is None else (", contrast flipped" if d["sign"] < 0 else "")
        if d["via"] is not None and d["via"] != ref:  # paired along the spanning tree (fairclust.align)
            sign += f", via {short(names[d['via']], 16)}"
        corr = []
        if d["structure_corr"] is not None:
            corr.append(f"structure {d['structure_corr']:.2f}")
        if d["features_corr"] is not None:
            corr.append(f"features {d['features_corr']:.2f}")
        ax.set_title(f"{short(d['name'], 24)} vs {short(names[ref], 24)}: matching '{d['kind']}'{sign}\n"
                     f"correlation {', '.join(corr) or '-'}\n"
                     f"clear pairs {d['clear']}/{k}, smallest margin {d['min_margin']:+.3f}", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8, label="pair score")
        axes.append(ax)
        if images:
            ax2 = fig.add_subplot(grid[1, col])
            C_ref, C_g = d["centroids"]
            shape = X.shape[1:] if X.ndim == 4 else (1, *X.shape[1:])
            tiles = thumbnails(np.concatenate([C_ref, C_g]).reshape(2 * k, *shape), np.arange(2 * k))
            th, tw = tiles.shape[1:3]
            mosaic = np.ones((2 * (th + 1) + 1, k * (tw + 1) + 1, 3), dtype=np.float32)
            for j in range(2 * k):
                r, c = divmod(j, k)
                mosaic[1 + r * (th + 1):1 + r * (th + 1) + th, 1 + c * (tw + 1):1 + c * (tw + 1) + tw] = tiles[j]
            ax2.imshow(mosaic, interpolation="nearest")
            ax2.set_xticks([(tw + 1) * c + 1 + tw / 2 for c in range(k)], [str(c) for c in range(k)], fontsize=7)
            ax2.set_yticks([1 + th / 2, th + 2 + th / 2], [short(names[ref], 12), short(d["name"], 12)], fontsize=8)
            ax2.set_title("cluster means, matched (column = reference cluster)", fontsize=8)
            axes.append(ax2)
        col += 1
    fig.suptitle("Cross-group matching of the per-group teachers' clusters\nboxed: the chosen pairs (their scores sum "
                 "to the correlations)\nmargin: a pair's score minus the best rival in its row and column",
                 fontsize=9)
    png = save_figure(fig, Path(path))
    out = {"png": png, "reference": int(ref),
           "groups": [{k_: v for k_, v in d.items() if k_ != "centroids"} for d in groups]}
    if keep_figure:
        out["figure"], out["axes"] = fig, axes
    return out
