"""``fairclust figure tsne | matching | params``: the paper's Figures 4, 5 and 6."""

from __future__ import annotations

from . import matching, params, tsne
from .common import add_common_args

FIGURES = {
    "tsne": (tsne, "Figure 4: t-SNE of the embedding during DFC training, coloured by group"),
    "matching": (matching, "Figure 5: DFC vs best / worst matching of per-group clusterings"),
    "params": (params, "Figure 6: alpha_f vs Balance (alpha_s = 0), alpha_s vs NMI (alpha_f = 1)"),
}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("figure", help="the paper's Figures 4-6 (PNG + CSV)")
    sub = p.add_subparsers(dest="figure", required=True)
    for name, (module, help_text) in FIGURES.items():
        q = sub.add_parser(name, help=help_text, description=module.__doc__.split("\n\n")[0])
        add_common_args(q)
        module.add_args(q)
