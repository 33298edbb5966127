"""``fairclust table``: the paper's tables.

* ``fairclust table --datasets A,B --methods all|m1,m2 --seeds N --out DIR``: Tables 2-3,
  every method on every data set for several seeds (:mod:`fairclust.experiments.comparison`).
* ``fairclust table probe --dataset NAME --out DIR``: Table 4, can a classifier recover the
  group from a representation? (:mod:`fairclust.experiments.probe`).
"""

from __future__ import annotations

import argparse

from .. import runner
from ..errors import FairclustError
from ..experiments import probe
from ..experiments.comparison import CELLS, parse_methods, run_grid, write_table
from .args import (
    add_data_options,
    add_experiment_args,
    add_method_args,
    add_model_arg,
    add_seeds_arg,
    load_data,
    method_options,
    positive_int,
    seed_list,
    setup,
)


def register(subparsers) -> None:
    p = subparsers.add_parser("table", help="the paper's comparison table: methods x data sets x seeds",
                              description="Run every method on every data set for several seeds; write "
                                          "table.md and table.csv. Other tables: `fairclust table MODE --help`.")
    p.add_argument("--datasets", default=None, help="comma-separated data set names or .npz paths")
    p.add_argument("--methods", default="all", help="'all' (default) or comma-separated method names")
    add_seeds_arg(p, 3, "cell")
    p.add_argument("--out", default=None, help="output directory (table.md, table.csv, table.png, cells.jsonl)")
    p.add_argument("--overwrite", action="store_true", help="replace results already in --out")
    p.add_argument("--resume", action="store_true", help="keep the cells already in --out and run the rest")
    add_data_options(p)
    add_method_args(p)  # --pretrain-epochs, --teacher-epochs, --dec-iters included
    p.set_defaults(func=cmd_table)
    modes = p.add_subparsers(dest="table_mode", metavar="MODE", title="other tables")

    q = modes.add_parser("probe", help="Table 4: accuracy of classifiers predicting the group (unfair vs fair)",
                         description=probe.__doc__.split("\n\n")[0])
    add_experiment_args(q)
    q.add_argument("--probe-epochs", type=positive_int, default=5,
                   help="epochs of the supervised (unfair) group classifier (default 5)")
    q.add_argument("--test-size", type=float, default=0.3, help="held-out share (default 0.3)")
    add_model_arg(q)
    q.set_defaults(func=cmd_probe)


def cmd_table(args: argparse.Namespace) -> int:
    from threadpoolctl import threadpool_limits


    if not args.datasets or not args.out:
        raise FairclustError("fairclust table needs --datasets A,B and --out DIR")
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    methods = parse_methods(args.methods)
    seeds = seed_list(args)
    out = runner.prepare_out_dir(args.out, overwrite=args.overwrite, resume=args.resume)
    if args.overwrite and not args.resume:
        (out / CELLS).unlink(missing_ok=True)
    with threadpool_limits(args.threads):  # --threads bounds BLAS (numpy, scikit-learn) as well as torch
        cells = run_grid(datasets, methods, seeds, out, options=lambda name: method_options(args, name),
                         n_clusters=args.n_clusters, load=lambda name: load_data(args, name))
    wanted = set(datasets) & {c["dataset"] for c in cells}
    print(write_table([c for c in cells if c["dataset"] in wanted and c["method"] in methods], out, seeds))
    print(f"Files in {out}/ (table.md, table.csv, table.png, cells.jsonl)")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    ds, out = setup(args)
    res = probe.run(ds, method_options(args, args.dataset), out, seed=args.seed, n_clusters=args.n_clusters,
                    epochs=args.probe_epochs, test_size=args.test_size, model_path=args.model)
    print(res["markdown"])
    print(f"files: {res['md']}, {res['csv'][0]}")
    return 0
