"""``composition.png``: per cluster a stacked bar of its group shares, under a bar of the whole
data's shares (dashed lines carry those down); cluster sizes at the right. Several sensitive
attributes: such a panel per attribute, then one of their intersection."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import factorize
from .gallery import cluster_codes
from .style import figure, group_colors, group_labels, save_figure, short

FEW_GROUPS = 10  # up to here: a legend and reference lines; beyond: a colour bar of group indices


def composition(path: str | Path, labels: np.ndarray, codes: np.ndarray, group_names=None, *,
                n_clusters: int | None = None, attributes: Mapping[str, Any] | None = None,
                keep_figure: bool = False) -> dict:
    """``composition.png``: per cluster a stacked bar of its group shares against the data's.

    Returns ``shares`` (K x M: group g's share of cluster k, the bars' widths), ``sizes``
    (K) and ``overall`` (M: the data's shares, the reference bar).

    ``attributes`` (name -> one value per sample): with two or more sensitive attributes, one
    such panel per attribute (its groups: its sorted values), then the panel of ``codes`` (their
    intersection) below; the returned keys are the intersection's, and ``panels`` lists every
    panel's ``attribute, shares, sizes, overall, groups`` in drawing order. With one attribute
    or none: the single panel of ``codes``.
    """
    labels, k = cluster_codes(labels, n_clusters)
    codes = np.asarray(codes).reshape(-1).astype(np.int64)
    panels = []
    if attributes is not None and len(attributes) > 1:
        for name, values in attributes.items():
            uniq, col = factorize(np.asarray(values).reshape(-1))
            panels.append((str(name), col.astype(np.int64), [str(v) for v in uniq]))
        panels.append(("intersection", codes, group_names))
    else:
        panels.append((None, codes, group_names))
    panel_h = 1.3 + 0.32 * (k + 2)  # inches
    fig = figure(8.0, panel_h * len(panels))
    drawn, axes = [], []
    for i, (attribute, col, names) in enumerate(panels):
        bottom = panel_h * (len(panels) - 1 - i)  # the first panel on top
        ax, numbers = _panel(fig, bottom, panel_h, labels, k, col, names, attribute)
        drawn.append({"attribute": attribute, **numbers})
        axes.append(ax)
    png = save_figure(fig, Path(path))
    out = {"png": png, **{key: drawn[-1][key] for key in ("shares", "sizes", "overall", "groups")}}
    if len(panels) > 1:
        out["panels"] = drawn
    if keep_figure:
        out["figure"], out["axes"] = fig, axes
    return out


def _panel(fig, bottom: float, panel_h: float, labels: np.ndarray, k: int, codes: np.ndarray, group_names,
           attribute: str | None) -> tuple:
    """One panel of stacked bars, ``panel_h`` inches high with its lower edge ``bottom`` inches
    above the figure's; ``attribute``: its name (``None``: the only panel). Returns the axes and
    the numbers drawn."""
    m = int(codes.max()) + 1
    names = group_labels(group_names, m)
    counts = np.zeros((k, m), dtype=np.int64)
    np.add.at(counts, (labels, codes), 1)
    sizes = counts.sum(1)
    shares = counts / np.maximum(sizes, 1)[:, None]
    overall = np.bincount(codes, minlength=m) / len(codes)
    colors = group_colors(m)
    fig_h = fig.get_figheight()
    ax = fig.add_axes((0.15, (bottom + 0.75) / fig_h, 0.62 if m <= FEW_GROUPS else 0.68,
                       panel_h / fig_h - 1.25 / fig_h))
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
    what = "Group composition" if attribute is None else f"{attribute}: composition"
    ax.set_title(f"{what} per cluster (dashed: the data's shares)" if m <= FEW_GROUPS
                 else f"{what} per cluster ({m} groups)", fontsize=10)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    if m <= FEW_GROUPS:
        ax.legend(loc="upper left", bbox_to_anchor=(1.09, 1.0), fontsize=8, frameon=False,
                  title="group" if attribute is None else short(attribute, 16), title_fontsize=8)
    else:
        from matplotlib import colormaps
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        sm = ScalarMappable(norm=Normalize(0, m - 1), cmap=colormaps["viridis"])
        cax = fig.add_axes((0.90, (bottom + 0.75) / fig_h, 0.018, panel_h / fig_h - 1.25 / fig_h))
        fig.colorbar(sm, cax=cax, label="group index (sorted group ids)")
    return ax, {"shares": shares, "sizes": sizes, "overall": overall, "groups": names}


# ----------------------------------------------------------------------------- curves
