"""The ``fairclust`` command line; :func:`main` is the entry point (``fairclust`` and ``python -m fairclust``).

One module per command, each with ``register(subparsers)``:

* :mod:`.run`       ``fairclust run`` (alias ``fit``): one method on one data set
* :mod:`.datasets`  ``fairclust datasets``: the paper's Table 1
* :mod:`.recipes`   ``fairclust recipes``: every setting and its value per recipe
* :mod:`.bench`     ``fairclust bench step``: time one DFC iteration
* :mod:`.table`     ``fairclust table`` (Tables 2-3) and ``fairclust table probe`` (Table 4)
* :mod:`.figure`    ``fairclust figure tsne | matching | params`` (Figures 4-6)
* :mod:`.report`    ``fairclust report DIR``: one HTML page of a run directory

Commands share arguments and validators through :mod:`.args` and nothing else of this
package; nothing but ``fairclust.__main__`` imports this module. Bad input prints one
line (``error: ...``) and exits 2; ``--debug`` (before or after the command) shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import torch

from ..errors import FairclustError
from ..perf import tune_allocator
from ..utils import use_deterministic_algorithms
from . import bench, datasets, figure, recipes, report, run, table

EXIT_INPUT = 2
COMMANDS = (run, datasets, recipes, bench, table, figure, report)


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's one-line errors: ``error: ...`` on stderr, exit 2, no usage dump."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"error: {message} (see `{self.prog} --help`)\n")


def _accept_debug_everywhere(parser: argparse.ArgumentParser, seen: set[int]) -> None:
    """``--debug`` is declared on the top parser; every command's parser accepts it too,
    hidden, without overriding a ``--debug`` given before the command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if id(sub) not in seen:  # an alias maps to the same parser
                    seen.add(id(sub))
                    sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
                    _accept_debug_everywhere(sub, seen)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fairclust", description="Deep fair clustering and its baselines.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for input errors")
    sub = parser.add_subparsers(dest="command", required=True)  # sub-parsers are _Parser too
    for command in COMMANDS:
        command.register(sub)
    _accept_debug_everywhere(parser, set())
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # bad arguments (one line, exit 2) or --help (exit 0)
        return int(exc.code or 0)

    tune_allocator()  # reuse freed activations instead of page-faulting them in again (~2x on CPU)
    if getattr(args, "threads", None):

        torch.set_num_threads(args.threads)
    if getattr(args, "deterministic", False):

        use_deterministic_algorithms()
    try:
        return int(args.func(args) or 0)
    except (FairclustError, FileNotFoundError) as exc:
        if args.debug:
            raise
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {msg}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:  # TrainingInterrupted says where its checkpoint is
        print(str(exc) or "interrupted before any checkpoint; finished pretraining stages are cached, so the "
              "same command (with --resume if --out holds files) continues from there", file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
