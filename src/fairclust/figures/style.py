"""The look every fairclust figure shares: resolution, group colours, figures made with
matplotlib's object API (``matplotlib.figure.Figure``, rendered by Agg: no pyplot state, no
display needed) and PNGs written atomically. The run's figures (:mod:`fairclust.figures`)
and the paper's experiments (:mod:`fairclust.experiments`) both draw with these."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..files import atomic_write_bytes

DPI = 100
GROUP_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:gray",
                "tab:olive", "tab:cyan")


def figure(width: float, height: float):
    """An empty figure of ``width x height`` inches (not attached to pyplot)."""
    from matplotlib.figure import (
        Figure,  # matplotlib costs ~0.5 s to import: only when a figure is drawn
    )

    return Figure(figsize=(width, height), dpi=DPI)


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 5.0, height: float = 4.5):
    """A figure and its axes array (constrained layout), ``width x height`` inches per panel."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, path: str | Path) -> Path:
    """PNG at :data:`DPI` (at least 300 px a side for the sizes used here), written atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)


def group_colors(n_groups: int) -> list:
    """One colour per group: named colours up to ten groups, then a sequential colour map."""
    if n_groups <= len(GROUP_COLORS):
        return list(GROUP_COLORS[:n_groups])
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(n_groups - 1, 1)) for i in range(n_groups)]


def short(name: Any, n: int = 16) -> str:
    """``name`` as text of at most ``n`` characters."""
    s = str(name)
    return s if len(s) <= n else s[:n - 1] + "…"


def group_labels(group_names, n_groups: int) -> list[str]:
    """The groups' names when there is one per group, else their indices."""
    names = [str(g) for g in (group_names or [])]
    return names if len(names) == n_groups else [str(g) for g in range(n_groups)]
