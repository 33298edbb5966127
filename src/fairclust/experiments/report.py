"""``fairclust report DIR``: one self-contained HTML page of a run directory.

It gathers every ``metrics.json`` (as one table, a row per run; runs on several sensitive
attributes add a table of each attribute's and the intersection's Balance and MNCE), every PNG (embedded as
base64, so the page works offline and can be mailed as one file), every CSV (as a table;
long ones cut, with the row count), every Markdown file (as text) and the run's
``config.json``, from ``DIR`` and its sub-directories. A run's own figures
(:mod:`fairclust.figures`: gallery, composition, curves, teacher matching) come first in each
directory, each with a one-line caption.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from .. import figures
from ..errors import FairclustError
from ..files import atomic_write_bytes
from .common import read_csv

MAX_ROWS = 60
STYLE = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 7px}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;border:1px solid #eee}
figure{margin:1em 0 2em}figcaption{color:#555;font-size:13px}pre{background:#f7f7f7;padding:.7em;overflow-x:auto}"""
ATTRIBUTE_COLUMNS = ("groups", "balance", "balance_max", "mnce", "entropy")  # per sensitive attribute
METRIC_COLUMNS = ("dataset", "method", "seed", "n_samples", "n_clusters", "accuracy", "nmi", "balance", "balance_max",
                  "entropy", "entropy_max", "mnce", "fbeta", "seconds")


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f'<td class="n">{v:.4g}</td>'
    if isinstance(v, int) and not isinstance(v, bool):
        return f'<td class="n">{v}</td>'
    if isinstance(v, list):
        return "<td>" + " / ".join(f"{x:.3f}" if isinstance(x, float) else html.escape(str(x)) for x in v) + "</td>"
    return "<td>" + html.escape("" if v is None else str(v)) + "</td>"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _files(directory: Path, pattern: str) -> list[Path]:
    return sorted(p for p in directory.rglob(pattern)
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts))


def metrics_section(directory: Path) -> str:
    records = []
    for p in _files(directory, "metrics.json"):
        try:
            rec = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise FairclustError(f"{p} is not valid JSON ({exc}); re-run the command that wrote it") from None
        records.append((p, rec))
    if not records:
        return ""
    header = ["run"] + list(METRIC_COLUMNS)
    rows = [[str(p.parent.relative_to(directory)) or "."] + [r.get(c) for c in METRIC_COLUMNS] for p, r in records]
    info_keys = sorted({k for _, r in records for k in (r.get("information") or {})})
    out = "<h2>Metrics</h2>" + _table(header, rows)
    per_attribute = []  # runs on several sensitive attributes: a row per attribute, then the intersection
    for p, r in records:
        entries = list((r.get("attributes") or {}).items())
        if entries and r.get("intersection"):
            entries.append(("intersection", r["intersection"]))
        per_attribute += [[str(p.parent.relative_to(directory)) or ".", name] + [e.get(c) for c in ATTRIBUTE_COLUMNS]
                          for name, e in entries]
    if per_attribute:
        out += ("<h3>Per sensitive attribute (the intersection: every combination of their values)</h3>" +
                _table(["run", "attribute"] + list(ATTRIBUTE_COLUMNS), per_attribute))
    if info_keys:
        out += ("<h3>Section 4.3 quantities (nats)</h3>" +
                _table(["run"] + info_keys, [[str(p.parent.relative_to(directory)) or "."] +
                                             [(r.get("information") or {}).get(k) for k in info_keys]
                                             for p, r in records]))
    return out


def _figure_order(p: Path) -> tuple:
    """A run's own figures first, in :data:`fairclust.figures.FIGURE_NAMES` order, then the others by name."""
    names = figures.FIGURE_NAMES
    return (p.parent, names.index(p.name) if p.name in names else len(names), p.name)


def figures_section(directory: Path) -> str:
    parts = []
    for p in sorted(_files(directory, "*.png"), key=_figure_order):
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        rel = html.escape(str(p.relative_to(directory)))
        caption = figures.CAPTIONS.get(p.name)
        text = f"<b>{rel}</b>: {html.escape(caption)}" if caption else rel
        parts.append(f'<figure><img alt="{rel}" src="data:image/png;base64,{data}"><figcaption>{text}</figcaption>'
                     "</figure>")
    return "<h2>Figures</h2>" + "".join(parts) if parts else ""


def tables_section(directory: Path) -> str:
    parts = []
    for p in _files(directory, "*.md"):
        parts.append(f"<h3>{html.escape(str(p.relative_to(directory)))}</h3><pre>{html.escape(p.read_text())}</pre>")
    for p in _files(directory, "*.csv"):
        rows = read_csv(p)
        header = list(rows[0]) if rows else []
        note = f" (first {MAX_ROWS} of {len(rows)} rows)" if len(rows) > MAX_ROWS else f" ({len(rows)} rows)"
        parts.append(f"<h3>{html.escape(str(p.relative_to(directory)))}{note}</h3>" +
                     _table(header, [[r[h] for h in header] for r in rows[:MAX_ROWS]]))
    return "<h2>Tables</h2>" + "".join(parts) if parts else ""


def config_section(directory: Path) -> str:
    parts = [f"<details><summary>{html.escape(str(p.relative_to(directory)))}</summary>"
             f"<pre>{html.escape(p.read_text())}</pre></details>" for p in _files(directory, "config.json")]
    return "<h2>Configuration</h2>" + "".join(parts) if parts else ""


def build(directory: str | Path) -> str:
    """The HTML page for ``directory`` (raises when it holds nothing to report)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FairclustError(f"{str(directory)!r} is not a directory; pass the --out directory of a fairclust command")
    sections = [metrics_section(directory), figures_section(directory), tables_section(directory)]
    if not any(sections):
        raise FairclustError(f"{str(directory)!r} holds no metrics.json, PNG or CSV file; pass the --out directory "
                             "of a fairclust command")
    title = html.escape(f"fairclust report: {directory.resolve().name}")
    body = "".join(sections) + config_section(directory)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
            "<p>NMI uses arithmetic normalisation; Balance is shown beside its attainable maximum; "
            "entropies are per group (nats, maximum ln K).</p>"
            f"{body}</body></html>\n")


def write(directory: str | Path, out: str | Path | None = None) -> Path:
    """Write the page (default ``DIR/report.html``) and return its path."""
    page = build(directory)
    path = Path(out) if out else Path(directory) / "report.html"
    atomic_write_bytes(path, page.encode("utf-8"))
    return path
