"""``tradeoff.png``: what fairness costs, along the run's fairness curve
(:func:`fairclust.fair_lp.fairness_curve`): accuracy (or, without labels, the share of labels kept
from the argmax of ``q``) against Balance as a share of its maximum, one point per ``fair_labels``
delta from the fairest to the argmax; the run's own labels ringed. With several sensitive
attributes the Balance is the least of the attributes' (each as a share of its maximum)."""

from __future__ import annotations

from pathlib import Path

from .style import figure, save_figure


def tradeoff(path: str | Path, curve: list[dict] | None, chosen: float | None = None, *,
             keep_figure: bool = False) -> dict | None:
    """Draw ``curve`` (points with ``delta``, ``balance``, ``balance_max``, ``changed_share`` and maybe
    ``accuracy``) to ``path``; ``chosen``: the run's delta (None: the argmax). Returns the drawn
    coordinates (None, and no file, for an empty curve)."""
    if not curve:
        return None
    labelled = all(p.get("accuracy") is not None for p in curve)
    several = all(p.get("attributes") for p in curve)  # several sensitive attributes: the worst one's Balance
    xs = [_worst_share(p["attributes"].values()) if several else _worst_share([p]) for p in curve]
    ys = [p["accuracy"] if labelled else 1.0 - p["changed_share"] for p in curve]
    fig = figure(6.0, 4.4)
    ax = fig.add_axes((0.12, 0.12, 0.84, 0.78))
    ax.plot(xs, ys, "-o", color="tab:blue", markersize=5)
    for p, x, y in zip(curve, xs, ys):
        ax.annotate("argmax" if p["delta"] is None else f"{p['delta']:g}", (x, y), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
        if p["delta"] == chosen:
            ax.plot([x], [y], "o", markersize=13, markerfacecolor="none", markeredgecolor="tab:red",
                    label="this run's labels")
    ax.set_xlabel("Balance, share of its maximum" + (" (the least of the attributes')" if several else ""))
    ax.set_ylabel("accuracy" if labelled else "labels kept from the argmax of q")
    ax.set_title("Fairness against accuracy: fair_labels delta from 0 to the argmax", fontsize=10)
    ax.grid(alpha=0.3)
    if chosen in [p["delta"] for p in curve]:
        ax.legend(loc="lower left", fontsize=8)
    save_figure(fig, path)
    out = {"x": xs, "y": ys, "labelled": labelled}
    if keep_figure:
        out["figure"] = fig
    return out


def _worst_share(points) -> float:
    """The least Balance as a share of its maximum among ``points`` (dicts with balance, balance_max)."""
    return min(p["balance"] / p["balance_max"] if p["balance_max"] else 0.0 for p in points)
