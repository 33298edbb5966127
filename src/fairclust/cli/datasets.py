"""``fairclust datasets``: the paper's Table 1 for every data set found (:mod:`fairclust.data.summary`)."""

from __future__ import annotations

import argparse
import json

from ..data.summary import format_table, table1
from .args import seed


def register(subparsers) -> None:
    p = subparsers.add_parser("datasets", help="print the paper's Table 1 for every data set found")
    p.add_argument("--data-dir", default=None, help="where the paper's data set files are (default $FAIRCLUST_DATA "
                                                    "or ./data)")
    p.add_argument("--seed", type=seed, default=2019, help="seed of MTFL's sample (default 2019)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    p.set_defaults(func=cmd_datasets)


def cmd_datasets(args: argparse.Namespace) -> int:
    rows, missing = table1(args.data_dir, seed=args.seed)
    if args.json:
        print(json.dumps({"datasets": rows, "not_found": missing}, indent=2))
        return 0
    print(format_table(rows))
    for name, why in missing.items():
        print(f"{name}: not found ({why})")
    return 0
