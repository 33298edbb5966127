"""``tradeoff.png``: what fairness costs, along the run's fairness curve
(:func:`fairclust.fair_lp.fairness_curve`): accuracy (or, without labels, the share of labels kept
from the argmax of ``q``) against Balance as a share of its maximum, one point per ``fair_labels``
delta from the fairest to the argmax; the run's own labels ringed; with labels, each group's accuracy
dashed beside the whole's (who pays for fairness; up to ``MAX_GROUP_LINES`` groups). With several
sensitive attributes the Balance is the least of the attributes' (each as a share of its maximum)."""

from __future__ import annotations

from pathlib import Path

from .style import figure, save_figure

MAX_GROUP_LINES = 8  # more groups than this: only the whole's accuracy is drawn


def tradeoff(path: str | Path, curve: list[dict] | None, chosen: float | None = None, *,
             group_names: list[str] | None = None, keep_figure: bool = False) -> dict | None:
    """Draw ``curve`` (points with ``delta``, ``balance``, ``balance_max``, ``changed_share`` and maybe
    ``accuracy`` and ``accuracy_per_group``) to ``path``; ``chosen``: the run's delta (None: the argmax);
    ``group_names``: the groups' names in the order of ``accuracy_per_group``. Returns the drawn coordinates
    (``per_group``: each group's accuracies, where drawn; None, and no file, for an empty curve)."""
    if not curve:
        return None
    labelled = all(p.get("accuracy") is not None for p in curve)
    several = all(p.get("attributes") for p in curve)  # several sensitive attributes: the worst one's Balance
    xs = [_worst_share(p["attributes"].values()) if several else _worst_share([p]) for p in curve]
    ys = [p["accuracy"] if labelled else 1.0 - p["changed_share"] for p in curve]
    fig = figure(6.0, 4.4)
    ax = fig.add_axes((0.12, 0.12, 0.84, 0.78))
    ax.plot(xs, ys, "-o", color="tab:blue", markersize=5, label="all samples" if labelled else None)
    per_group = None
    if labelled and all(p.get("accuracy_per_group") for p in curve):
        n_groups = len(curve[0]["accuracy_per_group"])
        if n_groups <= MAX_GROUP_LINES:
            per_group = [[p["accuracy_per_group"][i] for p in curve] for i in range(n_groups)]
            names = group_names if group_names and len(group_names) == n_groups else [str(i) for i in range(n_groups)]
            for i, (name, acc) in enumerate(zip(names, per_group)):  # colours after the whole's blue (C0)
                ax.plot(xs, acc, "--", marker=".", color=f"C{i % 9 + 1}", linewidth=1, alpha=0.8, label=f"group {name}")
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
    if chosen in [p["delta"] for p in curve] or per_group is not None:
        ax.legend(loc="lower left", fontsize=8)
    save_figure(fig, path)
    out = {"x": xs, "y": ys, "labelled": labelled, "per_group": per_group}
    if keep_figure:
        out["figure"] = fig
    return out


def _worst_share(points) -> float:
    """The least Balance as a share of its maximum among ``points`` (dicts with balance, balance_max)."""
    return min(p["balance"] / p["balance_max"] if p["balance_max"] else 0.0 for p in points)
