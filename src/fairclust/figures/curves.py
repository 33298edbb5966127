"""``curves.png``: DFC's training losses per iteration (smoothed) and, per evaluation, the
fraction of labels that changed and accuracy / NMI / Balance."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .style import figure, save_figure

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
    fig = figure(width, height)
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
    png = save_figure(fig, Path(path))
    out = {"png": png, "panels": panels, "terms": terms, "changed": changed, "scores": scores}
    if keep_figure:
        out["figure"], out["axes"] = fig, list(axes)
    return out


# ----------------------------------------------------------------------------- teacher matching
