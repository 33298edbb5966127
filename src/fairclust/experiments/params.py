"""Figure 6: parameter analysis of the two loss weights.

(a) ``alpha_f`` swept with ``alpha_s = 0`` (no structural preservation), plotted against
Balance: how much the adversarial fairness term buys. (b) ``alpha_s`` swept with
``alpha_f = 1``, plotted against NMI: how much structural preservation buys. Every point
is run with several seeds (mean +- std as error bars); pretraining is cached per seed, so
only the DFC stage runs for each point after the first. A run shared by both sweeps
(``alpha_f = 1, alpha_s = 0``) is trained once.

Files: ``params_runs.csv`` (one row per run, with the Section 4.3 quantities),
``params.csv`` (mean and std per point: the plotted numbers) and ``params.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..figures.style import new_figure, save_figure
from ..utils import progress
from .common import (
    fit_dfc,
    metric_columns,
    read_csv,
    write_csv,
)

# sweep -> (plotted metric, its name, panel title, a second metric drawn dashed for context)
SWEEPS = {"alpha_f": ("balance", "Balance", "(a) alpha_f swept, alpha_s = 0", ("mnce", "MNCE")),
          "alpha_s": ("nmi", "NMI", "(b) alpha_s swept, alpha_f = 1", ("accuracy", "Accuracy"))}
SUMMARY_METRICS = ("accuracy", "nmi", "balance", "mnce", "I_C_G")


def sweep_points(alpha_f_values: list[float], alpha_s_values: list[float]) -> list[tuple[str, float, float, float]]:
    """``(sweep, value, alpha_f, alpha_s)`` of every point of both sweeps."""
    return ([("alpha_f", v, v, 0.0) for v in alpha_f_values] +
            [("alpha_s", v, 1.0, v) for v in alpha_s_values])


def run(ds, opts: dict, out: Path, *, seeds: list[int], alpha_f_values: list[float], alpha_s_values: list[float],
        n_clusters: int | None = None, keep_figures: bool = False) -> dict:
    """Run both sweeps over ``seeds``; write the CSVs and ``params.png``."""
    points = sweep_points(alpha_f_values, alpha_s_values)
    todo = sorted({(af, a_s, s) for _, _, af, a_s in points for s in seeds})
    done: dict[tuple[float, float, int], dict] = {}
    bar = progress(todo, desc="params sweep", enabled=bool(opts.get("verbose")))
    for af, a_s, s in bar:
        bar.set_postfix(alpha_f=af, alpha_s=a_s, seed=s)
        rec = fit_dfc(ds, {**opts, "alpha_f": af, "alpha_s": a_s}, seed=s, n_clusters=n_clusters)
        model = rec["_estimator"]
        done[(af, a_s, s)] = {**metric_columns(ds, model.labels_, model.n_clusters), "seconds": rec["seconds"]}
    runs = [{"sweep": sw, "value": v, "alpha_f": af, "alpha_s": a_s, "seed": s, **done[(af, a_s, s)]}
            for sw, v, af, a_s in points for s in seeds]
    summary = []
    for sw, v, af, a_s in points:
        group = [r for r in runs if r["sweep"] == sw and r["value"] == v]
        row = {"sweep": sw, "value": v, "alpha_f": af, "alpha_s": a_s, "n_seeds": len(group),
               "balance_max": group[0]["balance_max"]}
        for m in SUMMARY_METRICS:
            vals = np.array([np.nan if r[m] is None else r[m] for r in group], dtype=float)
            row[f"{m}_mean"], row[f"{m}_std"] = float(np.mean(vals)), float(np.std(vals))
        summary.append(row)
    runs_path = write_csv(out / "params_runs.csv", runs)
    csv_path = write_csv(out / "params.csv", summary)
    return plot(csv_path, runs_path, out, dataset=ds.name, keep_figures=keep_figures)


def plot(csv_path: Path, runs_path: Path, out: Path, *, dataset: str, keep_figures: bool = False) -> dict:
    """Two panels from ``params.csv``: mean +- std of Balance (a) and NMI (b)."""
    rows = read_csv(csv_path)
    fig, axes = new_figure(2, width=4.8, height=4.2)
    for ax, (sweep, (metric, label, title, (other, other_label))) in zip(axes[0], SWEEPS.items()):
        pts = [r for r in rows if r["sweep"] == sweep]
        x = np.arange(len(pts))
        mean = np.array([r[f"{metric}_mean"] for r in pts], dtype=float)
        std = np.array([r[f"{metric}_std"] for r in pts], dtype=float)
        n = pts[0]["n_seeds"] if pts else 0
        ax.errorbar(x, mean, yerr=std, marker="o", capsize=4, color="tab:blue",
                    label=f"{label}, mean +- std ({n} seeds)")
        ax.errorbar(x, [r[f"{other}_mean"] for r in pts], yerr=[r[f"{other}_std"] for r in pts], marker="s",
                    capsize=3, color="tab:orange", linestyle="--", alpha=0.8, label=f"{other_label} (context)")
        if metric == "balance" and pts:
            ax.axhline(pts[0]["balance_max"], color="gray", linestyle=":", label="attainable maximum")
        ax.set_xticks(x, [f"{r['value']:g}" for r in pts])
        ax.set_xlabel(sweep)
        ax.set_ylabel(label)
        ax.set_ylim(0, 1.15)
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"{dataset}: parameter analysis (DFC)")
    png = save_figure(fig, out / "params.png")
    result = {"csv": [csv_path, runs_path], "png": [png], "rows": rows}
    if keep_figures:
        result["figures"] = [fig]
    return result
