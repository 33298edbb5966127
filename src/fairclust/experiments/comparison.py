"""``fairclust table``: the paper's Tables 2-3, every method on every data set, several seeds.

Each cell (data set x method x seed) is one :func:`fairclust.runner.run_method` call, so
the pretraining cache is shared: a data set's shared VAE is trained once per seed and
reused by every method. A cell that fails is recorded (its error is shown in the table)
and the grid goes on. Every finished cell is appended to ``DIR/cells.jsonl`` at once, so
``--resume`` skips the cells already done after an interruption.

Outputs: ``table.md`` (one block per data set, the paper's layout: Acc, NMI, Balance,
Entropy per group; mean +- std over seeds; best in bold, second best underlined; seconds
per method), ``table.csv`` (one row per data set and method) and ``table.png`` (accuracy
against Balance, one panel per data set).

The command is ``fairclust table --datasets A,B --methods all|m1,m2 --seeds N --out DIR``
(:mod:`fairclust.cli.table`, which also holds the other tables, e.g. ``fairclust table probe``).
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from .. import runner
from ..data import load_dataset
from ..errors import FairclustError
from ..figures.style import new_figure, save_figure
from ..files import atomic_write_bytes
from ..methods import METHODS

# the paper's row order (Tables 2-3): deep / classic unfair methods, fair baselines, DFC
PAPER_ORDER = ("kmeans", "dec", "dac", "clustergan", "scfc", "falg", "fcc", "spfc", "dfc")
ROW_NAMES = {"kmeans": "AE (k-means)", "dec": "DEC", "dac": "DAC", "clustergan": "ClusterGAN", "scfc": "ScFC",
             "falg": "FAlg", "fcc": "FCC", "spfc": "SpFC", "fcmi": "FCMI", "dfc": "DFC"}
CELLS = "cells.jsonl"
SCORES = ("accuracy", "nmi", "balance")


def parse_methods(text: str) -> list[str]:

    if text.strip() == "all":
        return [m for m in PAPER_ORDER if m in METHODS] + sorted(set(METHODS) - set(PAPER_ORDER))
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        raise FairclustError(f"unknown method(s) {', '.join(unknown) or text!r}; choose 'all' or from "
                             f"{', '.join(sorted(METHODS))}")
    return names


def run_grid(datasets: Iterable[str], methods: list[str], seeds: list[int], out: Path, *,
             options: dict[str, Any] | Callable[[str], dict[str, Any]] | None = None, n_clusters: int | None = None,
             load: Any = None, echo: Any = print) -> list[dict]:
    """Run every cell not yet in ``out/cells.jsonl``; return all cells' records (old and new).

    ``options``: the methods' options, or a function of the data set's name giving them.
    """
    load = load or load_dataset
    done = read_cells(out / CELLS)
    have = {(c["dataset"], c["method"], c["seed"]) for c in done}
    for name in datasets:
        ds = None
        for method in methods:
            for seed in seeds:
                if (name, method, seed) in have:
                    continue
                t0 = time.perf_counter()
                try:
                    ds = ds if ds is not None else load(name)
                    opts = options(name) if callable(options) else options
                    rec = runner.public(runner.run_method(ds, method, n_clusters=n_clusters, seed=seed,
                                                          options=opts, save_model=False))
                    rec.pop("information", None)
                    rec["dataset"] = name
                except Exception as exc:  # one failed cell is reported, not fatal
                    msg = (str(exc).splitlines() or [type(exc).__name__])[0]
                    rec = {"dataset": name, "method": method, "seed": seed, "error": f"{type(exc).__name__}: {msg}",
                           "seconds": time.perf_counter() - t0}
                done.append(rec)
                with open(out / CELLS, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec) + "\n")
                echo(_cell_line(rec))
    return done


def read_cells(path: Path) -> list[dict]:
    if not path.exists():
        return []
    cells = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            cells.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by an interruption
            continue
    return cells


def _cell_line(rec: dict) -> str:
    head = f"{rec['dataset']} / {rec['method']} / seed {rec['seed']}:"
    if "error" in rec:
        return f"{head} FAILED ({rec['error']})"
    acc = "-" if rec.get("accuracy") is None else f"{rec['accuracy']:.3f}"
    nmi = "-" if rec.get("nmi") is None else f"{rec['nmi']:.3f}"
    return f"{head} Acc {acc} NMI {nmi} Balance {rec['balance']:.3f} ({rec['seconds']:.1f} s)"


# ----------------------------------------------------------------------------- summary
def summarise(cells: list[dict]) -> list[dict]:
    """One row per (data set, method), in the grid's order: means, stds, failures."""
    rows: dict[tuple[str, str], dict] = {}
    for c in cells:
        row = rows.setdefault((c["dataset"], c["method"]), {"dataset": c["dataset"], "method": c["method"],
                                                            "ok": [], "errors": []})
        (row["errors"] if "error" in c else row["ok"]).append(c)
    out = []
    for row in rows.values():
        ok = row.pop("ok")
        row["n_seeds"], row["n_failed"] = len(ok), len(row["errors"])
        row["error"] = row.pop("errors")[0]["error"] if row["n_failed"] else ""
        for key in SCORES + ("seconds",):
            vals = [c[key] for c in ok if c.get(key) is not None]
            row[key] = _mean_std(vals)
        row["balance_max"] = ok[0]["balance_max"] if ok else None
        groups = ok[0]["group_names"] or ok[0]["groups"] if ok else []
        row["groups"] = [str(g) for g in groups]
        row["entropy"] = [_mean_std([c["entropy"][g] for c in ok]) for g in range(len(groups))]
        row["entropy_max"] = ok[0]["entropy_max"] if ok else None
        out.append(row)
    order = {m: i for i, m in enumerate(PAPER_ORDER)}
    ds_order = {d: i for i, d in enumerate(dict.fromkeys(r["dataset"] for r in out))}
    return sorted(out, key=lambda r: (ds_order[r["dataset"]], order.get(r["method"], len(order))))


def _mean_std(vals: list[float]) -> tuple[float, float] | None:
    if not vals:
        return None
    return float(np.mean(vals)), float(np.std(vals))


def _ranks(values: list[float | None]) -> list[int]:
    """0 for the best (highest), 1 for the second best, 2 otherwise (ties share a rank)."""
    distinct = sorted({round(v, 3) for v in values if v is not None}, reverse=True)
    return [2 if v is None else min(distinct.index(round(v, 3)), 2) for v in values]


def _cell(ms: tuple[float, float] | None, rank: int = 2, nd: int = 3) -> str:
    if ms is None:
        return "-"
    text = f"{ms[0]:.{nd}f} ± {ms[1]:.{nd}f}"
    return f"**{text}**" if rank == 0 else f"<u>{text}</u>" if rank == 1 else text


def markdown(rows: list[dict], seeds: list[int] | None = None) -> str:
    """The paper's layout, one block per data set; best in bold, second best underlined."""
    blocks = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        part = [r for r in rows if r["dataset"] == name]
        groups = next((r["groups"] for r in part if r["groups"]), [])
        bmax = next((r["balance_max"] for r in part if r["balance_max"] is not None), None)
        emax = next((r["entropy_max"] for r in part if r["entropy_max"] is not None), None)
        head = ["Method", "Acc", "NMI", f"Balance (max {bmax:.3f})" if bmax is not None else "Balance"]
        head += [f"Entropy {g}" + (f" (max {emax:.3f})" if emax is not None else "") for g in groups]
        head += ["seconds", "seeds"]
        cols = [[r[k][0] if r[k] else None for r in part] for k in SCORES]
        cols += [[r["entropy"][g][0] if r["entropy"] else None for r in part] for g in range(len(groups))]
        ranks = [_ranks(c) for c in cols]
        lines = [f"### {name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for i, r in enumerate(part):
            vals = [r[k] for k in SCORES] + (r["entropy"] or [None] * len(groups))
            cells = [_cell(v, ranks[j][i]) for j, v in enumerate(vals)]
            secs = "-" if r["seconds"] is None else f"{r['seconds'][0]:.1f}"
            seeds_txt = f"{r['n_seeds']}" + (f" ({r['n_failed']} failed: {r['error']})" if r["n_failed"] else "")
            lines.append(f"| {ROW_NAMES.get(r['method'], r['method'])} | " + " | ".join(cells)
                         + f" | {secs} | {seeds_txt} |")
        blocks.append("\n".join(lines))
    note = ("Mean ± std over seeds" + (f" {', '.join(map(str, seeds))}" if seeds else "")
            + "; **best**, <u>second best</u> per column; NMI with arithmetic normalisation; seconds per run "
            "(pretraining included when it was not cached).")
    return "\n\n".join(blocks) + "\n\n" + note + "\n"


def to_csv(rows: list[dict]) -> str:
    n_groups = max((len(r["groups"]) for r in rows), default=0)
    head = ["dataset", "method", "n_seeds", "n_failed"]
    for k in SCORES:
        head += [f"{k}_mean", f"{k}_std"]
    head += ["balance_max"]
    for g in range(n_groups):
        head += [f"group{g}", f"entropy{g}_mean", f"entropy{g}_std"]
    head += ["entropy_max", "seconds_mean", "error"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    for r in rows:
        line: list[Any] = [r["dataset"], r["method"], r["n_seeds"], r["n_failed"]]
        for k in SCORES:
            line += list(r[k]) if r[k] else ["", ""]
        line.append("" if r["balance_max"] is None else r["balance_max"])
        for g in range(n_groups):
            name = r["groups"][g] if g < len(r["groups"]) else ""
            line += [name] + (list(r["entropy"][g]) if g < len(r["entropy"]) else ["", ""])
        line += ["" if r["entropy_max"] is None else r["entropy_max"],
                 "" if r["seconds"] is None else r["seconds"][0], r["error"]]
        w.writerow(line)
    return buf.getvalue()


FAIR_METHODS = ("scfc", "falg", "fcc", "spfc", "dfc", "fcmi")


def figure(rows: list[dict], path: Path) -> Path | None:
    """``table.png``: accuracy against Balance, one panel per data set, one point per method
    (mean, with the std over seeds as error bars); the trade-off the table states in numbers.
    ``None`` when no row has both scores (e.g. data without labels)."""
    names = [d for d in dict.fromkeys(r["dataset"] for r in rows)
             if any(r["accuracy"] and r["balance"] for r in rows if r["dataset"] == d)]
    if not names:
        return None
    fig, axes = new_figure(len(names), width=4.6, height=4.2)
    for ax, name in zip(axes[0], names):
        part = [r for r in rows if r["dataset"] == name and r["accuracy"] and r["balance"]]
        for r in part:
            (b, b_sd), (a, a_sd) = r["balance"], r["accuracy"]
            fair = r["method"] in FAIR_METHODS
            ax.errorbar(b, a, xerr=b_sd, yerr=a_sd, fmt="o" if fair else "s", ms=7 if r["method"] == "dfc" else 5,
                        color="C3" if r["method"] == "dfc" else ("C0" if fair else "0.45"), capsize=2, lw=0.8)
            ax.annotate(ROW_NAMES.get(r["method"], r["method"]), (b, a), textcoords="offset points", xytext=(4, 4),
                        fontsize=8)
        bmax = next((r["balance_max"] for r in part if r["balance_max"]), None)
        if bmax:
            ax.axvline(bmax, color="0.7", ls="--", lw=0.8)
        ax.set_xlim(-0.03, max(1.0, bmax or 0) + 0.05)
        ax.set_xlabel("Balance (dashed: attainable maximum)")
        ax.set_ylabel("Accuracy")
        ax.set_title(f"{Path(name).name} (up to {max(r['n_seeds'] for r in part)} seeds)", fontsize=10)
        ax.grid(alpha=0.3)
    fig.suptitle("circles: fair, squares: unfair (DFC red); bars: std", fontsize=9)
    return save_figure(fig, path)


def write_table(cells: list[dict], out: Path, seeds: list[int] | None = None) -> str:
    """``table.md``, ``table.csv`` and ``table.png`` in ``out``; returns the markdown."""
    rows = summarise(cells)
    md = markdown(rows, seeds)
    atomic_write_bytes(out / "table.md", md.encode("utf-8"))
    atomic_write_bytes(out / "table.csv", to_csv(rows).encode("utf-8"))
    figure(rows, out / "table.png")
    return md
