"""``fairclust bench step``: time one DFC training iteration (:func:`fairclust.step_benchmark.bench_step`).

Prints a summary, then one JSON line (the only line with ``--json``).
"""

from __future__ import annotations

import argparse
import json

from ..step_benchmark import bench_step
from .args import non_negative_int, positive_int


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="time parts of fairclust (bench step: one DFC training iteration)")
    sub = p.add_subparsers(dest="bench", required=True)
    s = sub.add_parser("step", help="time one DFC training iteration (3 warm-ups, median of 10)")
    s.add_argument("--batch-size", type=positive_int, default=512, help="images per group per batch (default 512)")
    s.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    s.add_argument("--groups", type=positive_int, default=2, help="number of groups M (default 2)")
    s.add_argument("--n-clusters", type=positive_int, default=10, help="K (default 10)")
    s.add_argument("--warmup", type=non_negative_int, default=3, help="untimed iterations (default 3)")
    s.add_argument("--repeats", type=positive_int, default=10, help="timed iterations, median reported (default 10)")
    s.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: all cores)")
    s.add_argument("--no-peak", action="store_true", help="skip the FLOP count and the sgemm peak measurement")
    s.add_argument("--json", action="store_true", help="print only the JSON record")
    s.set_defaults(func=cmd_bench_step)


def cmd_bench_step(args: argparse.Namespace) -> int:

    rec = bench_step(args.batch_size, args.device, n_groups=args.groups, n_clusters=args.n_clusters,
                     warmup=args.warmup, repeats=args.repeats, peak=not args.no_peak)
    if not args.json:
        print(f"DFC iteration, {rec['n_groups']} groups x {rec['batch_size']} images, K={rec['n_clusters']}, "
              f"{rec['device']} ({rec['threads']} threads): {rec['ms_per_iter']:.1f} ms/iter "
              f"(median of {rec['repeats']}), {rec['img_per_s']:.0f} img/s, "
              f"peak memory {rec['peak_memory_mb']:.0f} MiB ({rec['peak_memory_kind']})")
        if "sgemm_gflop_per_s" in rec:
            print(f"{rec['gflop_per_iter']:.1f} GFLOP/iter at {rec['achieved_gflop_per_s']:.1f} GFLOP/s = "
                  f"{100 * rec['fraction_of_sgemm_peak']:.0f}% of the measured sgemm rate "
                  f"({rec['sgemm_gflop_per_s']:.1f} GFLOP/s)")
        if "fraction_of_sgemm_peak_cpu" in rec:
            print(f"per CPU second: {rec['achieved_gflop_per_cpu_s']:.1f} of {rec['sgemm_gflop_per_cpu_s']:.1f} "
                  f"GFLOP/s = {100 * rec['fraction_of_sgemm_peak_cpu']:.0f}% (CPU time {rec['cpu_ms_per_iter']:.0f} ms/iter,"
                  f" load average {rec['load_average']:.1f})")
    print(json.dumps(rec))
    return 0
