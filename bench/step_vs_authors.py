"""Our DFC iteration against a plain restatement of the authors' one, side by side
(docs/benchmarks.md, "Ours against the authors' iteration").

The restatement (its teachers run at every step with autograd on, NCHW, per-group loss loops,
glibc's default allocator) is test reference code: tests/authors_step.py, which
tests/test_perf_equivalence.py checks computes the same losses and gradients.

Run (2 cores; CPU time of 1 thread is reported too, being robust on a shared machine)::

    python bench/step_vs_authors.py --batch-sizes 512 128 --repeats 10 --threads 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from fairclust.perf import tune_allocator
from fairclust.sampling import BalancedSampler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from authors_step import make_pair  # noqa: E402  (the reference iteration: test code)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[512, 128])
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    records = []
    for b in args.batch_sizes:
        ours, theirs, X, P, codes = make_pair(b)
        sampler = BalancedSampler(codes, b, 0)
        state = {"t": 0}

        def run_ours():
            idx = torch.from_numpy(sampler.next())
            ours.step(state["t"], X[idx], P[idx], torch.arange(2).repeat_interleave(b))
            state["t"] += 1

        def run_theirs():
            idx = torch.from_numpy(sampler.next())
            theirs.step(state["t"], list(X[idx].split(b)))
            state["t"] += 1

        # glibc's default behaviour for theirs, fairclust's tuned allocator for ours cannot
        # coexist in one process: mallopt is process-wide. Theirs runs first untuned,
        # then the allocator is tuned and both are timed interleaved.
        times: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []}
                                                   for k in ("ours", "authors", "authors_default_malloc")}

        def timed(name, fn):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name]["wall"].append(1e3 * (time.perf_counter() - w0))
            times[name]["cpu"].append(1e3 * (time.process_time() - c0))

        for _ in range(args.warmup):
            run_theirs()
        for _ in range(args.repeats):
            timed("authors_default_malloc", run_theirs)
        tune_allocator()
        for _ in range(args.warmup):
            run_ours()
            run_theirs()
        for _ in range(args.repeats):
            timed("ours", run_ours)
            timed("authors", run_theirs)
        med = {k: {m: statistics.median(v[m]) for m in v} for k, v in times.items()}
        rec = {"batch_size": b, "images_per_iter": 2 * b, "threads": torch.get_num_threads(),
               "repeats": args.repeats,
               "ms_per_iter": {k: v["wall"] for k, v in med.items()},
               "cpu_ms_per_iter": {k: v["cpu"] for k, v in med.items()},
               "speedup_wall": med["authors_default_malloc"]["wall"] / med["ours"]["wall"],
               "speedup_cpu": med["authors_default_malloc"]["cpu"] / med["ours"]["cpu"],
               "speedup_cpu_same_allocator": med["authors"]["cpu"] / med["ours"]["cpu"]}
        records.append(rec)
        print(f"B={b} per group ({2 * b} images/iter, {rec['threads']} threads): "
              f"ours {med['ours']['wall']:.0f} ms wall / {med['ours']['cpu']:.0f} ms CPU, "
              f"authors {med['authors_default_malloc']['wall']:.0f} ms wall / "
              f"{med['authors_default_malloc']['cpu']:.0f} ms CPU "
              f"(with our allocator setting {med['authors']['cpu']:.0f} ms CPU): "
              f"{rec['speedup_wall']:.2f}x wall, {rec['speedup_cpu']:.2f}x CPU time", flush=True)
    print(json.dumps(records))


if __name__ == "__main__":
    main()
