"""``composition.png``: per cluster a stacked bar of its group shares, under a bar of the whole
data's shares (dashed lines carry those down); cluster sizes at the right."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .gallery import cluster_codes
from .style import figure, group_colors, group_labels, save_figure, short

FEW_GROUPS = 10  # up to here: a legend and reference lines; beyond: a colour bar of group indices

def composition(path: str | Path, labels: np.ndarray, codes: np.ndarray, group_names=None, *,
                n_clusters: int | None = None, keep_figure: bool = False) -> dict:
    """``composition.png``: per cluster a stacked bar of its group shares against the data's.

    Returns ``shares`` (K x M: group g's share of cluster k, the bars' widths), ``sizes``
    (K) and ``overall`` (M: the data's shares, the reference bar).
    """
    labels, k = cluster_codes(labels, n_clusters)
    codes = np.asarray(codes).reshape(-1).astype(np.int64)
    m = int(codes.max()) + 1
    names = group_labels(group_names, m)
    counts = np.zeros((k, m), dtype=np.int64)
    np.add.at(counts, (labels, codes), 1)
    sizes = counts.sum(1)
    shares = counts / np.maximum(sizes, 1)[:, None]
    overall = np.bincount(codes, minlength=m) / len(codes)
    colors = group_colors(m)
    fig = figure(8.0, 1.3 + 0.32 * (k + 2))
    ax = fig.add_axes((0.15, 0.75 / fig.get_figheight(), 0.62 if m <= FEW_GROUPS else 0.68,
                       1 - 1.25 / fig.get_figheight()))
    ys = np.concatenate([[-1.5], np.arange(k)])  # the reference bar on top, a gap, then the clusters
    rows = np.vstack([overall[None], shares])
    left = np.zeros(k + 1)
    for g in range(m):
        ax.barh(ys, rows[:, g], left=left, height=0.78, color=colors[g], edgecolor="white", linewidth=0.4,
                label=short(names[g], 24))
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
    png = save_figure(fig, Path(path))
    out = {"png": png, "shares": shares, "sizes": sizes, "overall": overall, "groups": names}
    if keep_figure:
        out["figure"], out["axes"] = fig, [ax]
    return out


# ----------------------------------------------------------------------------- curves
