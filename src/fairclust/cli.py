"""The ``fairclust`` command line.

``fairclust run --dataset NAME|PATH.npz [--method dfc] [--n-clusters K] [--seed S] [--out DIR]``
(``fit`` is the same command). Bad input prints one line (``error: ...``) and exits 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from .errors import FairclustError

EXIT_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's one-line errors: ``error: ...`` on stderr, exit 2, no usage dump."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"error: {message} (see `{self.prog} --help`)\n")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _unit_interval(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {v}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed must be a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"the seed must be a non-negative integer, got {v}")
    return v


def add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, help="registered name (see `fairclust datasets`) or a .npz path")
    p.add_argument("--data-dir", default=None, help="where the paper's data set files are")
    p.add_argument("--download", action="store_true", help="allow downloading missing data set files")
    p.add_argument("--limit", type=_positive_int, default=None, help="at most N samples per group (seeded)")
    p.add_argument("--weights", default=None, help="ResNet-50 weights for image files (MTFL, Office-31, .csv): "
                   "IMAGENET1K_V1 (default, torchvision's cache), IMAGENET1K_V2, a .pth path, or random")
    p.add_argument("--image-size", type=_positive_int, default=None,
                   help="for a .csv image folder: resize images to SxS for the conv encoder instead of ResNet-50")


def add_method_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n-clusters", type=_positive_int, default=None,
                   help="K (default: the number of classes when labels exist)")
    p.add_argument("--seed", type=_seed, default=2019, help="random seed (default 2019, the authors')")
    p.add_argument("--recipe", default="default",
                   help="hyper-parameter recipe: default (CPU sizes + alignment extension), faithful (CPU sizes, "
                        "the paper's method exactly) or paper (SPEC 1.4 sizes)")
    p.add_argument("--align-groups", dest="align_groups", action="store_true", default=None,
                   help="use the alignment extension (match teachers across groups)")
    p.add_argument("--no-align-groups", dest="align_groups", action="store_false",
                   help="the paper's method exactly, whatever the recipe")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    p.add_argument("--cache-dir", default=None, help="pretraining cache (default $FAIRCLUST_CACHE or ~/.cache/fairclust)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the pretraining cache")
    p.add_argument("--alpha-f", type=float, default=None, help="weight of the fairness-adversarial loss")
    p.add_argument("--alpha-s", type=float, default=None, help="weight of the structural-preservation loss")
    p.add_argument("--iters", type=_positive_int, default=None, help="DFC iterations T")
    p.add_argument("--batch-size", type=_positive_int, default=None, help="samples per group per batch")
    p.add_argument("--pretrain-epochs", type=_positive_int, default=None, help="epochs of the shared VAE pretraining")
    p.add_argument("--teacher-epochs", type=_positive_int, default=None, help="epochs of each group's teacher VAE")
    p.add_argument("--dec-iters", type=_positive_int, default=None, help="DEC iterations of each group's teacher")
    p.add_argument("--fair-labels", type=_unit_interval, default=None, metavar="DELTA",
                   help="DFC: labels = the assignment closest to q that keeps every group's share of every "
                        "cluster within a factor 1-DELTA (fair-labels extension; e.g. 0.05)")
    p.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fairclust", description="Deep fair clustering and its baselines.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for input errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "fit"):
        p = sub.add_parser(name, help="cluster one data set with one method and print the results table")
        add_data_args(p)
        p.add_argument("--method", default="dfc", help="dfc (default) or a baseline, e.g. kmeans")
        add_method_args(p)
        p.add_argument("--out", default=None, help="output directory (default runs/DATASET-METHOD-seedS)")
        p.add_argument("--overwrite", action="store_true", help="replace results already in --out")
        p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
        p.add_argument("--checkpoint-every", type=_positive_int, default=None,
                       help="checkpoint DFC training every N iterations (default 100; always on Ctrl-C/SIGTERM)")
        p.add_argument("--deterministic", action="store_true",
                       help="deterministic GPU kernels only (bit-reproducible on one GPU; slower)")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        p.set_defaults(func=cmd_run)
    from .data.summary import add_parser as add_datasets_parser

    add_datasets_parser(sub)
    from .bench import add_parser as add_bench_parser

    add_bench_parser(sub)
    from .experiments.table import add_parser as add_table_parser

    table_modes = add_table_parser(sub)  # returns the `table` sub-modes (e.g. probe) for other tables to add to
    from .experiments import figures, probe, report

    probe.add_parser(table_modes)
    figures.add_parser(sub)
    report.add_parser(sub)
    return parser


def method_options(args: argparse.Namespace) -> dict:
    return {
        "recipe": args.recipe,
        "device": args.device,
        "cache_dir": False if args.no_cache else args.cache_dir,
        "alpha_f": args.alpha_f,
        "alpha_s": args.alpha_s,
        "n_iters": args.iters,
        "batch_size": args.batch_size,
        "pretrain_epochs": getattr(args, "pretrain_epochs", None),
        "teacher_epochs": getattr(args, "teacher_epochs", None),
        "dec_iters": getattr(args, "dec_iters", None),
        "align_groups": getattr(args, "align_groups", None),
        "fair_labels": getattr(args, "fair_labels", None),
        "verbose": not args.quiet,
        "checkpoint_every": getattr(args, "checkpoint_every", None),
    }


def load_data(args: argparse.Namespace):
    from .data import load_dataset

    extra = {"weights": args.weights, "image_size": args.image_size, "verbose": not getattr(args, "quiet", False),
             "cache_dir": False if getattr(args, "no_cache", False) else getattr(args, "cache_dir", None)}
    return load_dataset(args.dataset, data_dir=args.data_dir, download=args.download, limit=args.limit,
                        seed=args.seed, **extra)


def cmd_run(args: argparse.Namespace) -> int:
    from . import distributed, runner

    distributed.context(args.device)  # under torchrun: join the process group (rank 0 writes files)
    ds = load_data(args)
    name = Path(args.dataset).stem if args.dataset.endswith((".npz", ".csv")) else args.dataset
    out = Path(args.out) if args.out else Path("runs") / f"{name}-{args.method}-seed{args.seed}"
    if distributed.is_main():
        runner.prepare_out_dir(out, overwrite=args.overwrite, resume=args.resume)
    record = runner.run_method(ds, args.method, n_clusters=args.n_clusters, seed=args.seed, out=out,
                               options=method_options(args), resume=args.resume)
    if distributed.is_main():
        print(runner.results_table([record]))
        print(f"NMI uses arithmetic normalisation; Balance shown against its attainable maximum. Files in {out}/")
    distributed.shutdown()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # bad arguments (one line, exit 2) or --help (exit 0)
        return int(exc.code or 0)
    from .perf import tune_allocator

    tune_allocator()  # reuse freed activations instead of page-faulting them in again (~2x on CPU)
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    if getattr(args, "deterministic", False):
        from .utils import use_deterministic_algorithms

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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
