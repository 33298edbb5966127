"""The teachers' pairing across groups at size, with and without the cap on the transfer classifiers' updates
(``TRANSFER_MAX_STEPS``; docs/benchmarks.md, "140,000 images ... (issue 28, 2026-12-07, second)").

The teachers come from a run's pretraining cache (run ``fairclust run --dataset D --seed S --cache-dir C`` first);
each cap then pairs them from scratch, one after the other in this process, and the table gives its seconds,
its ratio to the first cap's and whether its permutations are the first cap's.

    python bench/transfer_cap.py --dataset /tmp/rev140k.npz --seed 0 --cache-dir C --caps 0,1000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from fairclust import transfer
from fairclust.data import load_dataset
from quality import default_pretrainer  # bench/quality.py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-clusters", type=int, default=10)
    ap.add_argument("--cache-dir", required=True, help="the run's pretraining cache (its teachers are read from it)")
    ap.add_argument("--caps", default="0,1000", help="TRANSFER_MAX_STEPS values, 0: no cap")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ds = load_dataset(a.dataset)
    est, cfg, codes, pre = default_pretrainer(ds, a.seed, a.cache_dir, a.n_clusters)
    encoder, key = pre.shared_encoder()
    P = pre.teacher_assignments(a.n_clusters, encoder, key)
    if not all(pre.loaded_from_cache.values()):
        raise SystemExit(f"the teachers are not in {a.cache_dir}: run fairclust run with this cache first")
    space = pre.canonical()
    print("| cap | updates a direction | seconds | ratio | same pairing |\n| --- | --- | --- | --- | --- |")
    first = None
    sizes = np.bincount(codes)
    for cap in (int(c) for c in a.caps.split(",")):
        transfer.TRANSFER_MAX_STEPS = cap or 10**9
        steps = [transfer.transfer_steps(int(n)) for n in sizes]
        t = time.perf_counter()
        _, records, _ = est._align(space, P, None, codes, cfg, a.seed)
        seconds = time.perf_counter() - t
        perms = [r["perm"] for r in records]
        first = first or (seconds, perms)
        print(f"| {cap or 'none'} | {' / '.join(map(str, steps))} | {seconds:.1f} | {seconds / first[0]:.2f} | "
              f"{perms == first[1]} |", flush=True)


if __name__ == "__main__":
    main()
