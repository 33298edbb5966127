"""What the commands share: argument groups, their validators, and reading them back.

Validators are argparse types: each turns one argument's text into its value or raises
:class:`argparse.ArgumentTypeError` (printed as ``error: argument --x: ...``). Where the
library checks the same rule (:func:`fairclust.utils.check_seed`,
:func:`fairclust.validation.check_delta`) the type wraps that check
(:func:`from_check`), so a rule and its message live in one place.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from .. import runner
from ..data import load_dataset
from ..errors import FairclustError
from ..methods import public_settings, takers
from ..paper_settings import paper_overrides
from ..settings import RECIPE_NAMES
from ..utils import check_seed
from ..validation import check_delta


# ----------------------------------------------------------------------------- validators
def from_check(check: Callable[..., Any], **kwargs: Any) -> Callable[[str], Any]:
    """An argparse type from a library check ``check(text, **kwargs)`` that raises FairclustError."""

    def parse(text: str) -> Any:
        try:
            return check(text, **kwargs)
        except FairclustError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = check.__name__
    return parse


def _integer(text: str, minimum: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
    return v


def positive_int(text: str) -> int:
    return _integer(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _integer(text, 0, "a non-negative integer")


seed = from_check(check_seed, name="the seed")
delta = from_check(check_delta, name="DELTA", example="--fair-labels 0.05")


# ----------------------------------------------------------------------------- data
def add_data_options(p: argparse.ArgumentParser) -> None:
    """How data sets are found and read (every command that loads one)."""
    p.add_argument("--data-dir", default=None, help="where the paper's data set files are")
    p.add_argument("--download", action="store_true", help="allow downloading missing data set files")
    p.add_argument("--limit", type=positive_int, default=None, help="at most N samples per group (seeded)")
    p.add_argument("--weights", default=None, help="ResNet-50 weights for image files (MTFL, Office-31, .csv): "
                   "IMAGENET1K_V1 (default, torchvision's cache), IMAGENET1K_V2, a .pth path, or random")
    p.add_argument("--image-size", type=positive_int, default=None,
                   help="for a .csv image folder: resize images to SxS for the conv encoder instead of ResNet-50")
    add_table_options(p)


def add_table_options(p: argparse.ArgumentParser) -> None:
    """Feature tables (.csv, .tsv, .parquet; :mod:`fairclust.data.tabular`)."""
    p.add_argument("--sensitive", default=None, metavar="COLUMN[,COLUMN...]",
                   help="for a table (.csv, .tsv, .parquet): the column of groups (required for a table); several "
                        "columns (sex,race) for several sensitive attributes (see --fairness)")
    p.add_argument("--label", default=None, metavar="COLUMN", help="for a table: the column of classes (optional)")
    p.add_argument("--one-hot", action="store_true",
                   help="for a table: encode non-numeric feature columns as 0/1 columns instead of refusing them")
    p.add_argument("--features", default=None, metavar="A,B,...",
                   help="for a table: the feature columns (default: every column but --sensitive and --label)")


def table_options(args: argparse.Namespace) -> dict:
    """The table options that were given (none: the keyword arguments of other data stay as they were)."""
    opts = {"sensitive": args.sensitive, "label": args.label, "one_hot": args.one_hot, "features": args.features}
    return {k: v for k, v in opts.items() if v not in (None, False)}


def add_data_args(p: argparse.ArgumentParser) -> None:
    """``--dataset`` and :func:`add_data_options`."""
    p.add_argument("--dataset", required=True, help="registered name (see `fairclust datasets`), a .npz path, a "
                   ".csv image-folder index, or a .csv/.tsv/.parquet table (with --sensitive)")
    add_data_options(p)


def load_data(args: argparse.Namespace, name: str | None = None):
    """The data set ``name`` (default ``--dataset``) as the data options say."""

    return load_dataset(args.dataset if name is None else name, data_dir=args.data_dir, download=args.download,
                        limit=args.limit, seed=args.seed, weights=args.weights, image_size=args.image_size,
                        verbose=not args.quiet, cache_dir=False if args.no_cache else args.cache_dir,
                        **table_options(args))


# ----------------------------------------------------------------------------- method
def _setting_type(s):
    """The argparse type of setting ``s`` (its range is checked by :meth:`fairclust.settings.Config.resolve`)."""
    if s.fraction:  # a fraction in [0, 1): its error names the flag and the default recipe's value
        return delta if s.name == "fair_labels" else from_check(
            check_delta, name=s.cli_flag, example=f"{s.cli_flag} {s.value_in('default')}", hint="")
    if s.kind is int:
        return positive_int if s.positive else non_negative_int
    return s.kind


def _group_title(methods: list[str]) -> str:
    if methods == ["dfc"]:
        return "DFC settings"
    if "dfc" in methods and "kmeans" in methods:
        return "settings of the shared encoder (DFC and the baselines on it)"
    return f"settings of {', '.join(methods)}"


def add_setting_flags(p: argparse.ArgumentParser, methods: dict[str, type] | None = None) -> None:
    """One flag per public setting of every method (of ``methods``, default all: :mod:`fairclust.config`;
    ``None``: the recipe's value), grouped by the methods that take it; booleans and settings that can
    be switched off also get ``--no-NAME``."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for s in public_settings(methods).values():
        taking = takers(s.name, methods)
        title = _group_title(taking)
        if title not in groups:
            groups[title] = p.add_argument_group(title + " (default: the recipe's; see `fairclust run --show-config`)")
        g = groups[title]
        shown = "" if len(taking) == 1 else f" [{', '.join(taking)}]"
        if s.kind is bool:
            g.add_argument(s.cli_flag, dest=s.name, action="store_true", default=None, help=s.help + shown)
            g.add_argument("--no-" + s.cli_flag[2:], dest=s.name, action="store_false", help=f"not {s.cli_flag}")
            continue
        metavar = s.metavar or ("DELTA" if s.fraction else None)
        g.add_argument(s.cli_flag, dest=s.name, type=_setting_type(s), default=None, metavar=metavar,
                       choices=s.choices or None, help=s.help + shown)
        if s.fraction and s.optional:
            g.add_argument("--no-" + s.cli_flag[2:], dest=s.name, action="store_const", const=False,
                           help=f"switch {s.name} off")


def add_method_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n-clusters", type=positive_int, default=None,
                   help="K (default: the number of classes when labels exist)")
    p.add_argument("--seed", type=seed, default=2019, help="random seed (default 2019, the authors')")
    p.add_argument("--recipe", default="default", choices=RECIPE_NAMES,
                   help="hyper-parameter recipe: default (CPU sizes + strong teachers, cross-group matching, teacher "
                        "targets, fair labels, epochs with early stopping), faithful (CPU sizes, the paper's method "
                        "exactly) or paper (SPEC 1.4 sizes; Office-31 with its own b and alpha_s)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    p.add_argument("--cache-dir", default=None, help="pretraining cache (default $FAIRCLUST_CACHE, else $XDG_CACHE_HOME/fairclust, else "
                   "~/.cache/fairclust)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the pretraining cache")
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_setting_flags(p)


def method_options(args: argparse.Namespace, dataset: str | None = None) -> dict:
    """The estimator arguments of :func:`add_method_args` (``None``: the recipe's value), as
    :func:`fairclust.methods.make_method` takes them.

    With ``--recipe paper``, the settings SPEC 1.4 gives ``dataset``
    (:func:`fairclust.paper_settings.paper_overrides`) go under ``extras``: they fill the
    arguments not set here, for the methods that take them (never an error for the others).
    """
    opts = {
        "recipe": args.recipe,
        "device": args.device,
        "cache_dir": False if args.no_cache else args.cache_dir,
        "verbose": not args.quiet,
        "checkpoint_every": getattr(args, "checkpoint_every", None),
        **{name: getattr(args, name) for name in public_settings()},
    }
    if args.recipe == "paper" and dataset is not None:
        opts["extras"] = {k: v for k, v in paper_overrides(dataset).items() if opts.get(k) is None}
    return opts


# ----------------------------------------------------------------------------- experiments
def add_experiment_args(p: argparse.ArgumentParser) -> None:
    """Data and DFC arguments of ``fairclust run`` (pretraining lengths included), ``--out``, ``--overwrite``."""
    add_data_args(p)
    add_method_args(p)
    p.add_argument("--out", required=True, help="output directory for the PNG, CSV and run files")
    p.add_argument("--overwrite", action="store_true", help="replace results already in --out")


def add_model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="a DFC model.pt fitted on the same data (e.g. from `figure tsne`) instead of training one")


def setup(args: argparse.Namespace) -> tuple[Any, Path]:
    """The data set and a fresh (or ``--overwrite``-able) output directory."""
    ds = load_data(args)
    return ds, runner.prepare_out_dir(args.out, overwrite=args.overwrite)


def add_seeds_arg(p: argparse.ArgumentParser, default: int, per: str) -> None:
    p.add_argument("--seeds", type=positive_int, default=default,
                   help=f"seeds per {per}: --seed, --seed+1, ... (default {default})")


def seed_list(args: argparse.Namespace) -> list[int]:
    """``--seed``, ``--seed + 1``, ... (``--seeds`` of them)."""
    return [args.seed + i for i in range(args.seeds)]
