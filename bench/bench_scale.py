"""Scale of the fair baselines: seconds and peak memory, against k-means on the same points.

    python bench/bench_scale.py                 # the issue's sizes (about 10-20 minutes on 2 shared cores)
    python bench/bench_scale.py --scale 0.1     # a tenth of every size

Sizes (issue 4): ``fcc`` and ``scfc`` on 1,000,000 points, ``spfc`` on 50,000, ``falg``
on 20,000; 64-d, 2 groups, K = 10 (ten Gaussian classes, each group shifted). Every
method runs in its own subprocess, so its peak resident memory (``ru_maxrss``) is its
own; "extra" is that peak minus the process's peak right after the data were made. BLAS
runs one thread unless ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` say otherwise. The
reference is scikit-learn's ``KMeans(n_init=1)`` (k-means++ and Lloyd) on the very same
points, measured in the same run; the ratio is method seconds / reference seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

SIZES = {"fcc": 1_000_000, "scfc": 1_000_000, "spfc": 50_000, "falg": 20_000}
DIM, K = 64, 10


def make_points(n: int, seed: int = 0, with_classes: bool = False) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 3.0, (K, DIM)).astype(np.float32)
    shift = rng.normal(0.0, 3.0, DIM).astype(np.float32)
    y = rng.integers(0, K, n)
    g = rng.permutation(np.arange(n) % 2)  # two equal groups: attainable Balance 1
    X = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, 100_000):  # in chunks: the generator's temporaries stay small
        e = min(n, s + 100_000)
        X[s:e] = centers[y[s:e]] + g[s:e, None] * shift + rng.standard_normal((e - s, DIM), dtype=np.float32)
    return (X, g, y) if with_classes else (X, g)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def estimator(name: str):
    from sklearn.cluster import KMeans

    from fairclust.methods import (
        FairAssignment,
        FairSpectralClustering,
        ScalableFairletClustering,
        VariationalFairClustering,
    )

    if name == "kmeans":
        return KMeans(K, n_init=1, random_state=0)
    if name == "fcc":  # k-means++ start (a k-means start would be the reference itself)
        return VariationalFairClustering(K, feature_space="raw", init="kmeans++", max_iter=10, bound_iters=20,
                                         random_state=0)
    cls = {"scfc": ScalableFairletClustering, "spfc": FairSpectralClustering, "falg": FairAssignment}[name]
    return cls(K, feature_space="raw", random_state=0)


def one(name: str, n: int) -> dict:
    """Run one method on n points in this process; its seconds, peak memory and Balance."""
    from fairclust import metrics

    X, g = make_points(n)
    base = peak_mb()
    est = estimator(name)
    t0 = time.perf_counter()
    if name == "kmeans":
        labels = est.fit(X).labels_
    else:
        labels = est.fit(X, sensitive_features=g).labels_
    seconds = time.perf_counter() - t0
    return {"method": name, "n": n, "seconds": seconds, "peak_mb": peak_mb(), "extra_mb": peak_mb() - base,
            "data_mb": X.nbytes / 2**20, "balance": metrics.balance(labels, sensitive_features=g)}


def run(name: str, n: int) -> dict:
    env = {**os.environ}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # on a shared machine idle BLAS threads spin and distort timings
    out = subprocess.run([sys.executable, __file__, "--one", name, "--n", str(n)], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every size by this")
    ap.add_argument("--methods", default="falg,spfc,scfc,fcc")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.n)))
        return
    rows = []
    refs: dict[int, dict] = {}
    for name in args.methods.split(","):
        n = max(1000, int(SIZES[name] * args.scale))
        if n not in refs:
            refs[n] = run("kmeans", n)
        r = run(name, n)
        r["ratio"] = r["seconds"] / refs[n]["seconds"]
        r["ref_seconds"] = refs[n]["seconds"]
        r["ref_extra_mb"] = refs[n]["extra_mb"]
        rows.append(r)
        print(json.dumps(r), flush=True)
    print("\n| method | n | seconds | KMeans(n_init=1) s | ratio | peak RSS MB | extra MB (KMeans) | data MB | Balance |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['n']:,} | {r['seconds']:.1f} | {r['ref_seconds']:.1f} | {r['ratio']:.2f} | "
              f"{r['peak_mb']:.0f} | {r['extra_mb']:.0f} ({r['ref_extra_mb']:.0f}) | {r['data_mb']:.0f} | "
              f"{r['balance']:.3f} |")


if __name__ == "__main__":
    main()
