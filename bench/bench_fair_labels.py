"""Fair labels at scale: the fair-assignment LP on N samples x K clusters (issue 11: 120,000 in < 1 min).

    python bench/bench_fair_labels.py --n 120000 --k 10 --groups 2

q is a sharpened random soft assignment whose argmax is tilted by group (so the LP has
real work to do). Prints seconds, the changed labels and the Balance before/after, and the
ratio to a reference measured in the same run (a 2000 x 2000 float64 matrix product,
repeated 20 times: the machine's speed right now).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fairclust import metrics
from fairclust.fair_lp import fair_labels


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=120_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--groups", type=int, default=2)
    ap.add_argument("--delta", type=float, default=0.05)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    g = rng.integers(0, args.groups, args.n)
    logits = rng.normal(size=(args.n, args.k)) * 3
    logits[np.arange(args.n), (g * 3) % args.k] += 2.0  # each group leans to its own cluster
    q = np.exp(logits - logits.max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    a = rng.normal(size=(2000, 2000))
    t = time.perf_counter()
    for _ in range(20):
        a @ a
    ref = time.perf_counter() - t
    t = time.perf_counter()
    labels, info = fair_labels(q, g, args.delta)
    sec = time.perf_counter() - t
    print(f"N={args.n} K={args.k} M={args.groups}: {sec:.1f} s, changed {info['changed']}, "
          f"Balance {metrics.balance(q.argmax(1), sensitive_features=g):.3f} -> "
          f"{metrics.balance(labels, sensitive_features=g):.3f} (max {metrics.balance_max(g):.3f}), "
          f"violation {info['violation']:.1f} points; reference {ref:.2f} s, ratio {sec / ref:.1f}")


if __name__ == "__main__":
    main()
