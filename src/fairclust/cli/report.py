"""``fairclust report DIR``: one self-contained HTML page of a run directory (:mod:`fairclust.experiments.report`)."""

from __future__ import annotations

import argparse

from ..experiments.report import write


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="one self-contained HTML page of a run directory's metrics and figures")
    p.add_argument("dir", help="a directory written by fairclust run / figure / table")
    p.add_argument("--out", default=None, help="HTML file to write (default DIR/report.html)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:

    path = write(args.dir, args.out)
    print(f"report written to {path} ({path.stat().st_size / 1024:.0f} KiB, self-contained)")
    return 0
