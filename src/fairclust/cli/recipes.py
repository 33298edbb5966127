"""``fairclust recipes [--method M]``: every setting of a method and its value in each recipe
(the tables of docs/recipes.md, :func:`fairclust.config.doc_tables`)."""

from __future__ import annotations

import argparse

from ..config import doc_tables
from ..methods import METHODS


def register(subparsers) -> None:
    p = subparsers.add_parser("recipes", help="print every setting and its value in each recipe (Markdown)")
    p.add_argument("--method", default=None, choices=sorted(METHODS),
                   help="only this method's settings (default: every method's)")
    p.set_defaults(func=cmd_recipes)


def cmd_recipes(args: argparse.Namespace) -> int:
    for heading, table in doc_tables().items():
        if args.method is None or heading.lower() == args.method:
            print(f"## {heading}\n\n{table}\n")
    return 0
