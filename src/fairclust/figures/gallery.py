"""``gallery.png``: one row per cluster; within it, for each group, a few samples of that group
assigned to the cluster, the groups side by side (image data only). A cluster whose groups
show different things (a wrong pairing) stands out."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .style import figure, group_colors, group_labels, save_figure, short


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


def thumbnails(X: np.ndarray, idx: np.ndarray, max_side: int = 64) -> np.ndarray:
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
    names = group_labels(group_names, m)
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
    tiles = thumbnails(X, flat)
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
    fig = figure(fig_w, fig_h)
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
                    ax.text(x, -mosaic_h * 0.1, short(names[g]), ha="center", va="bottom", fontsize=7, rotation=90,
                            color=colors[g])
        axes.append(ax)
    how = "most confident" if confidence is not None else f"random (seed {seed})"
    fig.suptitle(f"Samples per cluster: up to {per} per group, {how}", y=1 - 0.12 / fig_h, va="top", fontsize=10)
    png = save_figure(fig, Path(path))
    out = {"png": png, "rows": k, "per_group": per, "indices": indices,
           "counts": [[int(np.sum((labels == c) & (codes == g))) for g in range(m)] for c in range(k)]}
    if keep_figure:
        out["figure"], out["axes"] = fig, axes
    return out


# ----------------------------------------------------------------------------- composition
