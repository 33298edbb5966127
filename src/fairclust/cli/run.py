"""``fairclust run --dataset NAME|PATH [--method dfc] [--n-clusters K] [--seed S] [--out DIR]`` (alias ``fit``).

One method on one data set: prints the results table and writes ``metrics.json``,
``labels.npy``, ``config.json`` (the seed and every setting used), ``history.json`` and
``model.pt`` to ``--out`` (default ``runs/DATASET-METHOD-seedS``), and the run's figures
(``composition.png``; ``gallery.png`` for images; DFC's ``curves.png`` and
``teacher_matching.png``; :mod:`fairclust.figures`) unless ``--no-figures``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import distributed, runner
from ..methods import METHODS, make_method
from .args import (
    add_data_args,
    add_method_args,
    load_data,
    method_options,
    non_negative_int,
)


def register(subparsers) -> None:

    p = subparsers.add_parser("run", aliases=["fit"],
                              help="cluster one data set with one method and print the results table")
    add_data_args(p)
    p.add_argument("--method", default="dfc", choices=sorted(METHODS), help="dfc (default) or a baseline, e.g. kmeans")
    add_method_args(p)
    p.add_argument("--out", default=None, help="output directory (default runs/DATASET-METHOD-seedS)")
    p.add_argument("--overwrite", action="store_true", help="replace results already in --out")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--checkpoint-every", type=non_negative_int, default=None,
                   help="checkpoint DFC training every N iterations (default 100; 0: only on Ctrl-C/SIGTERM, "
                        "which always checkpoint)")
    p.add_argument("--no-figures", action="store_true",
                   help="write no PNG figures (gallery, composition, curves, teacher matching)")
    p.add_argument("--deterministic", action="store_true",
                   help="deterministic GPU kernels only (bit-reproducible on one GPU; slower)")
    p.add_argument("--show-config", action="store_true",
                   help="print every setting's value of --method for this recipe and these flags (JSON), then exit "
                        "without loading data")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:


    options = method_options(args, args.dataset)
    # settings or run options a method does not take, and an incoherent combination, fail here, before the data loads
    est = make_method(args.method, args.n_clusters or 2, args.seed, strict=True, resume=args.resume, **options)
    shown = est.recipe_params()
    if args.show_config:
        print(json.dumps(shown, indent=2, default=str))
        return 0

    distributed.context(args.device)  # under torchrun: join the process group (rank 0 writes files)
    ds = load_data(args)
    name = Path(args.dataset).stem if args.dataset.lower().endswith((".npz", ".csv", ".tsv", ".parquet", ".pq")) \
        else args.dataset
    out = Path(args.out) if args.out else Path("runs") / f"{name}-{args.method}-seed{args.seed}"
    if distributed.is_main():
        runner.prepare_out_dir(out, overwrite=args.overwrite, resume=args.resume)
    record = runner.run_method(ds, args.method, n_clusters=args.n_clusters, seed=args.seed, out=out,
                               options=options, resume=args.resume, strict=True,
                               figures=not args.no_figures)
    if distributed.is_main():
        print(runner.results_table([record]))
        print(f"NMI uses arithmetic normalisation; Balance shown against its attainable maximum. Files in {out}/")
    distributed.shutdown()
    return 0
