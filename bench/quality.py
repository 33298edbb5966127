"""DFC's quality, stage by stage, on the embedded data sets (docs/results.md, "Default recipe").

For every data set x seed x variant: one cold-cache DFC fit (a fresh cache folder), then
Accuracy / NMI / Balance of ``labels_`` (fair labels where the recipe has them) and of the
argmax, each teacher's accuracy within its own group, the fraction of teacher clusters
matched to the right partner (each cluster's majority class; labels used only to score),
the aligned teachers' accuracy, per group the final labels' and the argmax's accuracy, the share of
samples the fair labels moved, iterations run and stage seconds. One JSON line per run to
``--out`` (appended; ``--resume`` skips runs already there), a markdown table at the end.

    python bench/quality.py --datasets digits-reverse,reverse-mnist5k,mnist-digits,mnist-usps-mini \
        --seeds 0,1,2 --variants default --out runs/quality.jsonl
    python bench/quality.py --datasets digits-reverse --seeds 0 \
        --variants default,teacher=umap,teacher=dec,matching=fused,matching=structure,recipe=faithful

A variant is ``default`` or comma-free ``key=value`` pairs joined by ``+`` (estimator
arguments, e.g. ``teacher=dec+matching=structure``, or recipe-only settings of
:class:`fairclust.config.DFCConfig`, e.g. ``teacher_restarts=3``).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from fairclust import DeepFairClustering, metrics
from fairclust.config import DFCConfig
from fairclust.data import load_dataset


def default_pretrainer(ds, seed: int, cache_dir: str, n_clusters: int | None = None):
    """The default recipe's estimator, settings, group codes and :class:`~fairclust.pretrain.Pretrainer` for the data
    set ``ds``, built as ``DeepFairClustering.fit`` builds them (standardised input, its scale), on the pretraining
    cache ``cache_dir``: for the bench scripts that look at one stage on a run's cached teachers."""
    import torch

    from fairclust.cache import StageCache
    from fairclust.pretrain import Pretrainer

    est = DeepFairClustering(n_clusters or ds.n_classes, random_state=seed, cache_dir=cache_dir)
    cfg = est._config()
    X, codes = est._validate_fit(ds.X, ds.sensitive, cfg.fairness)
    Xt = torch.from_numpy(est._fit_scaler(X, cfg.input_side))
    pre = Pretrainer(est._teachers_input(X, Xt), codes, cfg, seed, torch.device("cpu"),
                     StageCache(cache_dir), input_scale=est.scaler_scale_, net_X=Xt)
    return est, cfg, codes, pre


def parse_variant(text: str) -> dict:
    if text == "default":
        return {}
    out = {}
    for part in text.split("+"):
        key, _, value = part.partition("=")
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        out[key] = {"False": False, "True": True}.get(value, value) if isinstance(value, str) else value
    return out


def right_matches(y: np.ndarray, teacher: np.ndarray, g: np.ndarray, k: int) -> float:
    """Fraction of clusters whose majority class is the same in every group."""
    maj = []
    for h in np.unique(g):
        m = g == h
        maj.append(np.array([np.bincount(y[m][teacher[m] == c], minlength=y.max() + 1).argmax()
                             if (teacher[m] == c).any() else -1 for c in range(k)]))
    return float(np.mean([all(mj[c] == maj[0][c] for mj in maj) for c in range(k)]))


def make_model(k: int, seed: int, cache: str, params: dict) -> DeepFairClustering:
    """DFC with ``params``: estimator arguments, and recipe-only settings laid over the recipe's."""
    public = set(inspect.signature(DeepFairClustering).parameters)
    settings = {key: params.pop(key) for key in list(params) if key not in public}
    unknown = set(settings) - set(DFCConfig.__dataclass_fields__)
    if unknown:
        raise SystemExit(f"unknown setting(s) in the variant: {', '.join(sorted(unknown))}")

    class Tuned(DeepFairClustering):
        def _config(self):
            return super()._config().replace(**settings)

    return (Tuned if settings else DeepFairClustering)(k, random_state=seed, cache_dir=cache, **params)


def one_run(ds, seed: int, variant: str, threads: int | None, warm_cache: str | None = None,
            curves: bool = False) -> dict:
    import contextlib

    import torch

    if threads:
        torch.set_num_threads(threads)
    k = ds.n_classes
    with (contextlib.nullcontext(warm_cache) if warm_cache else tempfile.TemporaryDirectory()) as cache:
        t0 = time.perf_counter()
        model = make_model(k, seed, cache, parse_variant(variant))
        # y (with --curves) only scores DFC's evaluations in history_; it never influences training
        model.fit(ds.X, ds.y if curves else None, sensitive_features=ds.sensitive)
        seconds = time.perf_counter() - t0
    g = np.asarray(ds.sensitive)
    argmax = model.predict(ds.X)
    rep = metrics.report(model.labels_, sensitive_features=g, labels_true=ds.y, n_clusters=k)
    arg = metrics.report(argmax, sensitive_features=g, labels_true=ds.y, n_clusters=k)
    groups = np.unique(g)
    within = [metrics.accuracy(ds.y[g == h], model.teacher_labels_[g == h]) for h in groups]
    moved = (model.fair_labels_info_ or {}).get("changed", 0) / len(g)
    return {
        "dataset": ds.name, "n": len(ds.X), "seed": seed, "variant": variant,
        "accuracy": rep["accuracy"], "nmi": rep["nmi"], "balance": rep["balance"], "balance_max": rep["balance_max"],
        "argmax_accuracy": arg["accuracy"], "argmax_nmi": arg["nmi"], "argmax_balance": arg["balance"],
        "argmax_mnce": arg["mnce"], "moved_share": moved,
        "final_within": [metrics.accuracy(ds.y[g == h], model.labels_[g == h]) for h in groups],
        "argmax_within": [metrics.accuracy(ds.y[g == h], argmax[g == h]) for h in groups],
        "teacher_within": within, "teacher_kinds": [c["kind"] for c in (model.teacher_choice_ or [])],
        "teacher_refit": model.teacher_refit_,
        "teachers_aligned_accuracy": metrics.accuracy(ds.y, model.teacher_labels_),
        "right_matches": right_matches(ds.y, model.teacher_labels_, g, k),
        "iterations_run": model.history_.get("iterations_run"), "n_iters": model.schedule_.n_iters,
        "cache": "warm" if warm_cache else "cold",
        "seconds": seconds, "timings": model.timings_,
        **({"evals": [{key: e.get(key) for key in ("iteration", "accuracy", "balance", "changed")}
                      for e in model.history_.get("evals", [])]} if curves else {}),
    }


def table(rows: list[dict]) -> str:
    head = ("| data set | variant | seeds | Acc | NMI | Balance (of max) | argmax Acc / Bal | teachers within groups "
            "| right matches | iters | seconds |\n|" + " --- |" * 11)
    lines = [head]
    keys = sorted({(r["dataset"], r["variant"]) for r in rows}, key=lambda t: (t[0], t[1] != "default", t[1]))
    for name, variant in keys:
        rs = [r for r in rows if r["dataset"] == name and r["variant"] == variant]

        def ms(f, nd=3):
            v = np.array([f(r) for r in rs], dtype=float)
            return f"{v.mean():.{nd}f}" + (f" ± {v.std():.{nd}f}" if len(v) > 1 else "")

        within = np.mean([r["teacher_within"] for r in rs], axis=0)
        lines.append(
            f"| {name} | {variant} | {len(rs)} | {ms(lambda r: r['accuracy'])} | {ms(lambda r: r['nmi'])} "
            f"| {ms(lambda r: r['balance'])} ({np.mean([r['balance'] / r['balance_max'] for r in rs]):.0%}) "
            f"| {ms(lambda r: r['argmax_accuracy'])} / {ms(lambda r: r['argmax_balance'])} "
            f"| {' / '.join(f'{w:.3f}' for w in within)} | {ms(lambda r: r['right_matches'])} "
            f"| {ms(lambda r: r['iterations_run'] or r['n_iters'], 0)} | {ms(lambda r: r['seconds'], 0)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="digits-reverse,reverse-mnist5k,mnist-digits,mnist-usps-mini")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--variants", default="default")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default="runs/quality.jsonl")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--warm-cache", default=None,
                    help="a pretraining cache to reuse (seconds then count only what was not cached)")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--curves", action="store_true",
                    help="score DFC's evaluations with the true labels (history_: iteration, accuracy, balance, "
                         "labels changed) and keep them in the rows as evals (labels never influence training)")
    ap.add_argument("--flatten", action="store_true",
                    help="images as N x D feature vectors (the vector path on the same data; rows say vectors)")
    ap.add_argument("--limit", type=int, default=None,
                    help="at most this many samples a group (data sets that take ``limit``, e.g. fashion-mnist-reverse)")
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not args.table_only:
        done = {(r["dataset"], r["seed"], r["variant"]) for r in rows} if args.resume else set()
        for name in args.datasets.split(","):
            ds = load_dataset(name, limit=args.limit)
            if args.flatten:
                ds = dataclasses.replace(ds, X=ds.X.reshape(len(ds.X), -1), name=f"{ds.name} (vectors)")
            for seed in (int(s) for s in args.seeds.split(",")):
                for variant in args.variants.split(","):
                    if (ds.name, seed, variant) in done:
                        continue
                    row = one_run(ds, seed, variant, args.threads, args.warm_cache, args.curves)
                    rows.append(row)
                    with out.open("a") as fh:
                        fh.write(json.dumps(row) + "\n")
                    print(f"{ds.name} seed {seed} {variant}: acc {row['accuracy']:.3f} nmi {row['nmi']:.3f} "
                          f"bal {row['balance']:.3f}/{row['balance_max']:.3f} teachers {row['teacher_within']} "
                          f"right {row['right_matches']:.2f} {row['seconds']:.0f}s", flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
