"""``fairclust figure tsne | matching | params``: the paper's Figures 4, 5 and 6.

The work is done by :mod:`fairclust.experiments.tsne`, :mod:`~fairclust.experiments.label_matching`
and :mod:`~fairclust.experiments.params`; each command here parses its arguments, loads the
data, runs it and prints where the files are.
"""

from __future__ import annotations

import argparse

from ..errors import FairclustError
from ..experiments import label_matching, params, tsne
from ..experiments.common import fmt
from ..methods import METHODS
from .args import (
    add_experiment_args,
    add_model_arg,
    add_seeds_arg,
    method_options,
    positive_int,
    seed_list,
    setup,
)


def _numbers(kind: type, what: str):
    """An argparse type for a comma-separated list of ``kind`` (non-negative)."""

    def parse(text: str) -> list:
        try:
            vals = [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be comma-separated {what}, got {text!r}") from None
        if not vals or min(vals) < 0:
            raise argparse.ArgumentTypeError(f"must list non-negative {what}, got {text!r}")
        return vals

    return parse


def register(subparsers) -> None:
    p = subparsers.add_parser("figure", help="the paper's Figures 4-6 (PNG + CSV)")
    sub = p.add_subparsers(dest="figure", required=True)

    def figure(name: str, module, help_text: str, func) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help_text, description=module.__doc__.split("\n\n")[0])
        add_experiment_args(q)
        q.set_defaults(func=func)
        return q

    q = figure("tsne", tsne, "Figure 4: t-SNE of the embedding during DFC training, coloured by group", cmd_tsne)
    q.add_argument("--points", type=positive_int, default=1000,
                   help="samples shown (group-stratified, seeded; default 1000)")
    q.add_argument("--snapshots", type=_numbers(int, "iterations"), default=None,
                   help="comma-separated iterations to show (default: 0, T/3, 2T/3, T); 0 = before training")

    q = figure("matching", label_matching, "Figure 5: DFC vs best / worst matching of per-group clusterings", cmd_matching)
    q.add_argument("--compare", default="", help="more methods shown beside DFC, e.g. scfc,spfc (default none)")
    add_model_arg(q)

    q = figure("params", params, "Figure 6: alpha_f vs Balance (alpha_s = 0), alpha_s vs NMI (alpha_f = 1)",
               cmd_params)
    q.add_argument("--alpha-f-values", type=_numbers(float, "numbers"), default="0,0.1,1,10",
                   help="alpha_f values, alpha_s = 0 (default 0,0.1,1,10)")
    q.add_argument("--alpha-s-values", type=_numbers(float, "numbers"), default="0,0.1,1,10",
                   help="alpha_s values, alpha_f = 1 (default 0,0.1,1,10)")
    add_seeds_arg(q, 2, "point")


def _print_files(res: dict) -> None:
    print(f"files: {', '.join(str(p) for p in res['csv'] + res['png'])}")


def cmd_tsne(args: argparse.Namespace) -> int:
    ds, out = setup(args)
    res = tsne.run(ds, method_options(args, args.dataset), out, seed=args.seed, n_clusters=args.n_clusters,
                   n_points=args.points, snapshots=args.snapshots)
    print(f"t-SNE at iterations {', '.join(map(str, res['iterations']))}: " + ", ".join(p.name for p in res["png"]))
    print(f"coordinates in {res['csv'][0]}, metrics per snapshot in {res['csv'][1]}")
    return 0


def cmd_matching(args: argparse.Namespace) -> int:

    compare = tuple(m.strip() for m in args.compare.split(",") if m.strip())
    unknown = [m for m in compare if m not in METHODS]
    if unknown:
        raise FairclustError(f"--compare: unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    ds, out = setup(args)
    res = label_matching.run(ds, method_options(args, args.dataset), out, seed=args.seed, n_clusters=args.n_clusters,
                       compare=compare, model_path=args.model)
    for r in res["rows"]:
        print(f"{r['method']:<36} Acc {fmt(r['accuracy'])}  NMI {fmt(r['nmi'])}  Balance {fmt(r['balance'])}")
    _print_files(res)
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    ds, out = setup(args)
    res = params.run(ds, method_options(args, args.dataset), out, seeds=seed_list(args),
                     alpha_f_values=args.alpha_f_values, alpha_s_values=args.alpha_s_values,
                     n_clusters=args.n_clusters)
    for r in res["rows"]:
        print(f"{r['sweep']} = {r['value']:<6g} Acc {fmt(r['accuracy_mean'])} NMI {fmt(r['nmi_mean'])} "
              f"+- {fmt(r['nmi_std'])}  Balance {fmt(r['balance_mean'])} +- {fmt(r['balance_std'])}")
    _print_files(res)
    return 0
