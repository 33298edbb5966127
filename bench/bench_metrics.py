"""Time ``fairclust.metrics.report`` on millions of samples (target: 10,000,000 in < 3 s).

Compared in the same run with scikit-learn's ``normalized_mutual_info_score`` on the same
labels (one metric of the several that ``report`` returns), as a reference point.

    python bench/bench_metrics.py --n 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from fairclust import metrics


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--groups", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    y = rng.integers(0, args.k, args.n)
    pred = np.where(rng.random(args.n) < 0.8, y, rng.integers(0, args.k, args.n))
    g = rng.integers(0, args.groups, args.n)
    t_report, rep = timed(lambda: metrics.report(pred, sensitive_features=g, labels_true=y, n_clusters=args.k),
                          args.repeats)
    t_fair, _ = timed(lambda: metrics.report(pred, sensitive_features=g, n_clusters=args.k), args.repeats)
    gs = np.where(g == 0, "original", "reversed")
    t_str, _ = timed(lambda: metrics.report(pred, sensitive_features=gs, labels_true=y), 1)
    t_sk, nmi_sk = timed(lambda: normalized_mutual_info_score(y, pred), 1)
    assert abs(nmi_sk - rep["nmi"]) < 1e-9
    rec = {"n": args.n, "k": args.k, "groups": args.groups, "seconds_report": t_report,
           "seconds_report_no_labels": t_fair, "seconds_report_string_groups": t_str,
           "seconds_sklearn_nmi_only": t_sk, "ratio_sklearn_nmi_over_report": t_sk / t_report,
           "load_average": os.getloadavg()[0]}
    print(f"report() on {args.n:,} samples (K={args.k}, {args.groups} groups, with labels): {t_report:.2f} s "
          f"(median of {args.repeats}); without labels {t_fair:.2f} s; string groups {t_str:.2f} s; "
          f"scikit-learn NMI alone {t_sk:.2f} s ({t_sk / t_report:.1f}x report)")
    print(json.dumps(rec))


if __name__ == "__main__":
    main()
