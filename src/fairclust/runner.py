"""One run: a method on a data set, its metrics, and its files. Shared by the CLI commands."""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from . import distributed, figures, metrics
from .data import Dataset
from .errors import FairclustError
from .files import atomic_save, write_json
from .methods import make_method
from .perf import Stages, peak_rss_mb

RESULT_FILES = ("metrics.json", "labels.npy", "config.json")
CHECKPOINT = "checkpoint.pt"  # the training loop's checkpoint inside --out (see fairclust.checkpoint)


def prepare_out_dir(out: str | Path, *, overwrite: bool = False, resume: bool = False) -> Path:
    """An output directory that is new, empty, or explicitly allowed to be reused."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FairclustError(f"--out {str(out)!r} is a file; pass a directory")
    if out.is_dir() and any(out.iterdir()) and not (overwrite or resume):
        raise FairclustError(
            f"output directory {str(out)!r} already holds results; pass --overwrite to replace them, "
            "--resume to continue, or choose another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    if overwrite and not resume:
        (out / CHECKPOINT).unlink(missing_ok=True)
    return out


def evaluate(ds: Dataset, labels: np.ndarray, n_clusters: int) -> dict:
    """The paper's metrics (+ MNCE, F-beta, Section 4.3 quantities) of one labelling.

    A data set with several sensitive attributes (``ds.attributes``) adds ``attributes`` (each
    attribute's Balance, entropies, MNCE ...) and ``intersection`` (the same on ``ds.sensitive``,
    their intersection): :func:`fairclust.metrics.attribute_report`.
    """
    rep = metrics.report(labels, sensitive_features=ds.sensitive, labels_true=ds.y, n_clusters=n_clusters)
    if ds.attributes is not None:
        rep.update(metrics.attribute_report(labels, ds.attributes, n_clusters=n_clusters,
                                            intersection=ds.sensitive))
    return rep


def run_method(ds: Dataset, method: str, *, n_clusters: int | None = None, seed: int | None = 2019,
               out: str | Path | None = None, options: dict[str, Any] | None = None,
               save_model: bool = True, resume: bool = False, fit_params: dict[str, Any] | None = None,
               strict: bool = False, figures: bool = True, curve: bool = True) -> dict:
    """Fit ``method`` on ``ds``; return the metrics record (and write files when ``out`` is set).

    With ``out``, methods that checkpoint their training (DFC) write ``out/checkpoint.pt``;
    ``resume`` continues from it. ``metrics.json`` is written last of the results: it marks a
    finished run. With ``figures`` the run's PNGs follow it
    (:mod:`fairclust.figures`); a figure that fails only warns.
    ``strict``: refuse settings the method does not take (:func:`fairclust.methods.make_method`).
    ``curve``: for a method with fair labels (DFC), score its labels from the fairest to the argmax
    (``record["fairness_curve"]``, :func:`score_curve`).
    """
    options = dict(options or {})
    if n_clusters is None:
        if ds.y is None:
            raise FairclustError(f"dataset {ds.name!r} has no labels; pass --n-clusters K")
        n_clusters = ds.n_classes
    run_opts = {} if out is None else {"checkpoint_path": str(Path(out) / CHECKPOINT), "resume": resume}
    est = make_method(method, n_clusters, seed, strict=strict, **options, **run_opts)
    load_mb = peak_rss_mb()  # the data as loaded (and whatever ran before in this process)
    t0 = time.perf_counter()
    est.fit(ds.X, ds.y, sensitive_features=ds.fit_sensitive, **(fit_params or {}))  # e.g. DFC's callbacks
    seconds = time.perf_counter() - t0
    fit_mb = peak_rss_mb()  # a method that does not measure its stages: its peak (with the load's)
    seed = getattr(est, "seed_", seed)  # the seed used: drawn by the estimator when ``seed`` is None
    labels = np.asarray(est.labels_, dtype=np.int64)
    metering = Stages()
    with metering.measure("metrics"):
        rep = evaluate(ds, labels, n_clusters)
    t_metrics = metering.seconds["metrics"]
    record: dict[str, Any] = {
        "dataset": ds.name,
        "method": method,
        "n_samples": ds.n_samples,
        "n_clusters": int(n_clusters),
        "seed": None if seed is None else int(seed),
        "accuracy": rep.get("accuracy"),
        "nmi": rep.get("nmi"),
        "nmi_normalisation": "arithmetic",
        "balance": rep["balance"],
        "balance_max": rep["balance_max"],
        "entropy": rep["entropy"],
        "entropy_max": rep["entropy_max"],
        "mnce": rep["mnce"],
        "fbeta": rep.get("fbeta"),
        "accuracy_per_group": rep.get("accuracy_per_group"),  # in the order of "groups": who pays for fairness
        "groups": [str(g) for g in rep["groups"]],
        "group_names": list(ds.group_names),
        "group_sizes": rep["group_sizes"],
        "information": rep["information"],
        **{key: rep[key] for key in ("attributes", "intersection") if key in rep},  # several sensitive attributes
        "seconds": seconds,
        "timings": getattr(est, "timings_", {}),
        "stage_seconds": stage_seconds(getattr(est, "timings_", {}), seconds, t_metrics),
        "peak_rss_mb": stage_memory(getattr(est, "memory_", {}), load_mb, fit_mb, metering.peak_mb["metrics"]),
    }
    if getattr(est, "fair_labels_info_", None) is not None:  # DFC with the fair-labels extension
        record["fair_labels"] = est.fair_labels_info_
    if curve and callable(getattr(est, "fairness_curve", None)):
        with metering.measure("fairness_curve"):
            record["fairness_curve"] = score_curve(ds, est.fairness_curve(ds.X, ds.fit_sensitive), n_clusters)
        record["stage_seconds"]["fairness_curve"] = metering.seconds["fairness_curve"]
        record["stage_seconds"]["total"] += metering.seconds["fairness_curve"]
    if getattr(est, "matching_", None) is not None:  # DFC's cross-group matching of the teachers' clusters
        record["matching"] = est.matching_
    if getattr(est, "teacher_refit_", None) is not None:  # refitted teachers or the first fits, by their pairing
        record["teacher_refit"] = est.teacher_refit_
    if hasattr(est, "history_") and "iterations_run" in est.history_:
        record["iterations_run"] = est.history_["iterations_run"]
        if "collapse_retry" in est.history_:  # DFC's collapse guard fired
            record["collapse_retry"] = est.history_["collapse_retry"]
    if getattr(est, "schedule_", None) is not None:
        record["n_iters"] = est.schedule_.n_iters
    if out is not None and distributed.is_main():  # under torchrun only rank 0 writes
        out = Path(out)
        config = {"dataset": ds.name, "method": method, "n_clusters": int(n_clusters), "seed": record["seed"],
                  "options": options, "estimator": est.get_params(), "resolved": getattr(est, "config_", None)}
        if getattr(est, "schedule_", None) is not None:
            config["schedule"] = est.schedule_.to_dict()
        write_json(out / "config.json", config)
        atomic_save(out / "labels.npy", lambda fh: np.save(fh, labels))
        if hasattr(est, "history_"):
            write_json(out / "history.json", est.history_)
        if save_model and hasattr(est, "save"):
            est.save(out / "model.pt")
        write_json(out / "metrics.json", record)
        if figures:
            write_figures(out, ds, est, labels, int(n_clusters), record)
    record["_estimator"] = est
    return record


def score_curve(ds: Dataset, points: list[dict], n_clusters: int) -> list[dict]:
    """Each point of a fairness curve (:func:`fairclust.fair_lp.fairness_curve`) with its metrics: Balance,
    MNCE, the share of labels moved from the argmax and, where the data set has labels, accuracy, NMI and each
    group's accuracy."""
    out = []
    for p in points:
        rep = evaluate(ds, p["labels"], n_clusters)
        point = {"delta": p["delta"], "changed": int(p["changed"]), "changed_share": p["changed"] / ds.n_samples,
                 **{k: rep.get(k) for k in ("accuracy", "nmi", "accuracy_per_group", "balance", "balance_max",
                                            "mnce")}}
        if "attributes" in rep:  # several sensitive attributes: each one's Balance along the curve
            point["attributes"] = {name: {k: a[k] for k in ("balance", "balance_max", "mnce")}
                                   for name, a in rep["attributes"].items()}
        out.append(point)
    return out


def write_figures(out: Path, ds: Dataset, est: Any, labels: np.ndarray, n_clusters: int, record: dict) -> None:
    """The run's figures beside its results; any failure (even importing matplotlib) only warns."""
    try:
        figures.for_run(out, ds, est, labels, n_clusters, seed=record["seed"], final=record)
    except Exception as exc:  # noqa: BLE001 - the results are written; a picture must not lose them
        warnings.warn(f"the run's figures were not written ({type(exc).__name__}: {exc}); its results are complete",
                      RuntimeWarning, stacklevel=2)


def stage_seconds(timings: dict, fit_seconds: float, metrics_seconds: float) -> dict:
    """Wall seconds per stage: pretraining (shared encoder, initial centres), teachers,
    training (DFC's loop, or the method's own fit), evaluation (final labels + metrics).

    Cached pretraining stages count the time to load them.
    """
    pre = {k[len("pretrain_"):]: v for k, v in timings.items() if k.startswith("pretrain_")}
    teachers = sum(pre.pop(k) for k in list(pre) if k.startswith("teachers") or k == "matching")
    pretraining = sum(pre.values())
    final_labels = timings.get("evaluation", 0.0)
    training = timings.get("dfc", fit_seconds - pretraining - teachers - final_labels)
    return {"pretraining": pretraining, "teachers": teachers, "training": max(training, 0.0),
            "evaluation": final_labels + metrics_seconds, "total": fit_seconds + metrics_seconds}


def stage_memory(memory: dict, load_mb: float, fit_mb: float, metrics_mb: float) -> dict:
    """Peak resident memory (MiB) per stage, grouped as :func:`stage_seconds` groups the seconds.

    ``load``: the process's peak before the fit (the data loaded); ``run``: the largest of all.
    A method that does not measure its stages (the baselines) has one ``training`` peak: its
    whole fit's (which includes the load's).
    """
    pre = {k[len("pretrain_"):]: v for k, v in memory.items() if k.startswith("pretrain_")}
    out = {"load": load_mb}
    if memory:
        teachers = [pre.pop(k) for k in list(pre) if k.startswith("teachers") or k == "matching"]
        out.update(pretraining=max(pre.values(), default=0.0), teachers=max(teachers, default=0.0),
                   training=memory.get("dfc", 0.0), evaluation=max(memory.get("evaluation", 0.0), metrics_mb))
    else:
        out.update(training=fit_mb, evaluation=metrics_mb)
    out["run"] = max(max(out.values()), peak_rss_mb())
    return out


def fmt(v: Any, nd: int = 3) -> str:
    """A metric with ``nd`` decimals; ``-`` for a missing one (None or NaN)."""
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{nd}f}"


def results_table(records: list[dict]) -> str:
    """The paper's columns (Acc, NMI, Balance of its maximum, Entropy per group) + MNCE, as Markdown.

    When a record has several sensitive attributes (``attributes``), a last column gives each
    one's Balance of its maximum and the intersection's; records of one attribute show ``-`` there.
    """
    several = any(r.get("attributes") for r in records)

    def per_attribute(r: dict) -> str:  # "source 0.95 of 1.00; ...; intersection 0.90 of 1.00", "-" for one
        parts = list((r.get("attributes") or {}).items())
        if parts and r.get("intersection"):
            parts.append(("intersection", r["intersection"]))
        return "; ".join(f"{name} {e['balance']:.2f} of {e['balance_max']:.2f}" for name, e in parts) or "-"

    head = "| dataset | method | Acc | NMI | Balance (of max) | Entropy per group (max) | MNCE | seconds |"
    lines = [head + (" Balance per attribute (of max) |" if several else ""), "|" + "---|" * (9 if several else 8)]
    for r in records:
        e = r["entropy"]  # many groups (HAR's 30 subjects): the least and the mean instead of every one
        ent = " / ".join(f"{v:.3f}" for v in e) if len(e) <= 6 else f"min {min(e):.3f}, mean {np.mean(e):.3f}"
        lines.append(
            f"| {r['dataset']} | {r['method']} | {fmt(r['accuracy'])} | {fmt(r['nmi'])} | "
            f"{r['balance']:.3f} of {r['balance_max']:.3f} | {ent} ({r['entropy_max']:.3f}) | "
            f"{r['mnce']:.3f} | {r['seconds']:.1f} |" + (f" {per_attribute(r)} |" if several else "")
        )
    return "\n".join(lines)


def public(record: dict) -> dict:
    """The record without private (non-JSON) entries."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def dumps(record: dict) -> str:
    return json.dumps(public(record), indent=2)
