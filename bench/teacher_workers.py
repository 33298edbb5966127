"""The teachers' UMAP + GMM fits one after another vs in forked workers, in the same run (docs/benchmarks.md, "The
teachers' UMAP fits in two processes").

On one data set and seed: the shared VAE and the SimCLR encoder are trained once (the default recipe, as ``fit``
builds it: ``bench/quality.py``'s ``default_pretrainer``); then the teachers' stage (every group's candidates, the
choice, the refit of the kept ones) is computed ``--rounds`` times each way, alternating, each on a fresh cache:
``serial`` (the items of :func:`fairclust.utils.fork_map` computed in this process, as before) and ``forked``
(``fork_map`` with ``--threads`` workers). Prints each time, the median ratio, and whether both ways gave the same
teachers to the bit (they must: the workers keep the caller's BLAS threads).

    python bench/teacher_workers.py --dataset digits-reverse --threads 2
    python bench/teacher_workers.py --dataset fashion-mnist-reverse --limit 10000 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import fairclust.pretrain as pretrain
from fairclust.data import load_dataset
from fairclust.teachers import load_umap_kernels
from fairclust.utils import fork_map

sys.path.insert(0, str(Path(__file__).parent))
from quality import default_pretrainer  # noqa: E402


def one_after_another(fn, items, workers):
    return fork_map(fn, items, 1)  # one worker: the items in this process, as before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="digits-reverse")
    ap.add_argument("--limit", type=int, default=None, help="at most this many samples a group")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ds = load_dataset(args.dataset, limit=args.limit)
    _, _, _, pre = default_pretrainer(ds, args.seed, tempfile.mkdtemp())
    encoder, key = pre.shared_encoder()
    pre.contrastive_space(ds.n_classes)  # trained once, kept in memory: the rounds time the UMAP + GMM fits only
    load_umap_kernels()  # numba's kernels loaded before either way is timed
    seconds, results = {"serial": [], "forked": []}, {}
    for _ in range(args.rounds):
        for way, mapper in (("serial", one_after_another), ("forked", fork_map)):
            pretrain.fork_map = mapper
            pre.cache.root = Path(tempfile.mkdtemp())
            start = time.perf_counter()
            P = pre.teacher_assignments(ds.n_classes, encoder, key)
            seconds[way].append(time.perf_counter() - start)
            results[way] = (P, pre.teachers_first, pre.teacher_choice)
            print(f"{way}: {seconds[way][-1]:.1f} s, kinds {[c['kind'] for c in pre.teacher_choice]}", flush=True)
    pretrain.fork_map = fork_map
    (a, fa, _), (b, fb, _) = results["serial"], results["forked"]
    same = np.array_equal(a, b) and (fa is None) == (fb is None) and (fa is None or np.array_equal(fa, fb))
    serial, forked = statistics.median(seconds["serial"]), statistics.median(seconds["forked"])
    print(f"{args.dataset} seed {args.seed}, {args.threads} threads: serial {serial:.1f} s, forked {forked:.1f} s, "
          f"ratio {forked / serial:.2f}; the same teachers: {same}")


if __name__ == "__main__":
    main()
