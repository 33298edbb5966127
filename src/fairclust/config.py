"""Every DFC setting, declared once.

:data:`SETTINGS` is the one place a DFC hyper-parameter lives: its type and range, help
text, value in each recipe, which methods take it and which other settings it needs. From
it come

* :class:`DFCConfig`, the frozen config a fit reads (one field per setting, same name);
* :func:`resolve`: a recipe's values with the user's overrides, validated (one-line
  errors for a value out of range and for incoherent combinations);
* :class:`~fairclust.methods.dfc.DeepFairClustering`'s arguments (``public`` settings,
  ``None`` = the recipe's value; ``recipe_params()`` shows the values a fit will use);
* the command line's flags (:func:`fairclust.cli.args.add_method_args`) and the options
  each method accepts (:func:`fairclust.methods.make_method`);
* the README's recipe table (:func:`recipe_table`; a test keeps the README in step).

Recipes: ``faithful`` (each setting's ``default``) is the paper's method sized for a CPU and
a few thousand samples; ``paper`` is SPEC section 1.4, the authors' code; ``default`` adds
the extensions measured in docs/results.md (strong teachers, cross-group matching, teacher
targets, fair labels, a data-sized schedule). Adding a setting: README, "Adding a setting".

A fit's length is not a setting but a :class:`Schedule`, computed once from the config and
the group sizes (:func:`make_schedule`) and never changed afterwards.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .errors import FairclustError
from .validation import check_delta

RECIPE_NAMES = ("default", "faithful", "paper")
SHARED_ENCODER_METHODS = ("dfc", "kmeans", "dec", "dac", "scfc", "falg", "fcc", "spfc")


@dataclass(frozen=True)
class Follows:
    """A recipe value that depends on another setting's resolved value: ``values[other's value]``."""

    other: str
    values: Mapping[Any, Any]


@dataclass(frozen=True)
class Setting:
    """One hyper-parameter. ``default`` is its value in the ``faithful`` recipe; ``recipes``
    lists the other recipes' values where they differ (a :class:`Follows` for a value that
    depends on another setting)."""

    name: str  # estimator argument = config field = CLI flag --name-with-dashes (unless ``flag``)
    kind: type  # bool, int, float or str
    default: Any
    help: str
    stage: str = "train"  # "pretrain": a cached pretraining stage reads it; "train": DFC's loop; "labels"
    recipes: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple = ()
    minimum: float | None = None
    positive: bool = False  # > minimum (0) instead of >=
    optional: bool = False  # None / False switch it off (fair_labels)
    public: bool = True  # an estimator argument and a CLI flag; False: a recipe constant
    flag: str | None = None  # the CLI flag, when not --name-with-dashes
    only_if: tuple[str, Any] | None = None  # read only when setting ``only_if[0]`` equals ``only_if[1]``
    needs: Mapping[Any, tuple[str, Any]] = field(default_factory=dict)  # value -> (setting, value it needs)
    replaces: tuple[str, Any] | None = None  # setting it explicitly sets (setting, value) to, e.g. n_iters -> epochs 0
    methods: tuple[str, ...] = ("dfc",)  # methods that take it (the CLI refuses it for the others)
    metavar: str | None = None  # the CLI flag's value name, when not the default

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def value_in(self, recipe: str) -> Any:
        return self.recipes.get(recipe, self.default)


S = Setting
SETTINGS: tuple[Setting, ...] = (
    # --------------------------------------------------------------- pretraining (cached stages)
    S("latent_dim", int, 64, "embedding size of the encoders (FCMI: its representation's, default K)", "pretrain",
      minimum=0, positive=True, methods=SHARED_ENCODER_METHODS + ("fcmi",)),
    S("pretrain_epochs", int, 10, "epochs of the shared VAE pretraining", "pretrain", {"paper": 50}, minimum=0,
      methods=SHARED_ENCODER_METHODS),
    S("pretrain_max_samples", int, 0, "cap on the samples the shared VAE pretraining draws, all groups together "
      "(0: none); on large data the epochs stop there (the baselines on the shared encoder take their recipe's)",
      "pretrain", {"default": 200_000}, minimum=0),
    S("pretrain_batch_size", int, 128, "VAE pretraining samples per group per batch", "pretrain", {"paper": 256},
      minimum=0, positive=True, public=False),
    S("pretrain_lr", float, 1e-3, "VAE pretraining Adam learning rate", "pretrain", minimum=0, positive=True,
      public=False),
    S("kl_weight", float, 1.0, "weight of the VAE's KL term", "pretrain", minimum=0, public=False),
    S("center_input", bool, False, "conv encoders subtract each image's own mean (inverted copies enter as -x)",
      "pretrain", {"default": True}, public=False),
    S("teacher", str, "dec", "per-group teachers: UMAP + GMM on the shared embedding (vae-umap), on the input "
      "(umap) or on the canonical frame of images (canonical: each cropped to its ink, 16 x 16), auto (per group "
      "the best separated of these) or dec (the paper's VAE + DEC)", "pretrain",
      {"default": "auto"}, choices=("auto", "vae-umap", "umap", "canonical", "dec")),
    S("teacher_max_samples", int, 20000, "UMAP + GMM teachers are fitted on at most this many samples per group "
      "(seeded), the rest placed out of sample (UMAP.transform)", "pretrain", minimum=0, positive=True, public=False),
    S("teacher_epochs", int, 10, "epochs of each group's teacher VAE", "pretrain", {"paper": 50}, minimum=0,
      only_if=("teacher", "dec")),
    S("dec_iters", int, 500, "DEC iterations of each group's teacher (and of the DEC baseline)", "pretrain",
      {"paper": 5000}, minimum=0, only_if=("teacher", "dec"), methods=("dfc", "dec")),
    S("dec_update_interval", int, 100, "DEC iterations between target refreshes", "pretrain", {"paper": 500},
      minimum=0, positive=True, public=False),
    S("dec_batch_size", int, 256, "DEC batch size", "pretrain", {"paper": 512}, minimum=0, positive=True,
      public=False),
    S("dec_lr", float, 1e-4, "DEC Adam learning rate", "pretrain", minimum=0, positive=True, public=False),
    S("kmeans_n_init", int, 10, "k-means restarts for DEC's and DFC's initial centres", "pretrain", minimum=0,
      positive=True, public=False),
    # --------------------------------------------------------------- DFC's training loop
    S("batch_size", int, 128, "DFC: samples per group per batch (b); FCMI: samples per batch", recipes={"paper": 512},
      minimum=0, positive=True, methods=("dfc", "fcmi")),
    S("n_iters", int, 1000, "DFC iterations T (a fixed length; replaces the data-sized epochs)",
      recipes={"paper": 20000}, minimum=0, positive=True, flag="--iters", replaces=("epochs", 0.0)),
    S("epochs", float, 0.0, "DFC length in passes over the largest group (0: n_iters fixed iterations); FCMI: "
      "passes over all samples, warm-up included", recipes={"default": 15.0}, minimum=0, methods=("dfc", "fcmi")),
    S("max_samples", int, 0, "cap on the samples DFC's loop draws, all groups together (0: none); with epochs, "
      "on large data T stops there and the evaluations keep their number", recipes={"default": 300_000}, minimum=0),
    S("stop_tol", float, 0.0, "stop DFC when fewer than this fraction of labels changed since the last "
      "evaluation (DEC's rule; 0 never stops early)", recipes={"default": 0.01}, minimum=0,
      methods=("dfc", "fcmi")),
    S("eval_every", int, 100, "iterations between evaluations with a fixed T (with epochs: once per epoch)",
      recipes={"paper": 1000}, minimum=0, positive=True, public=False),
    S("eval_max_samples", int, 0, "the evaluations (stopping rule, history) read at most this many samples per "
      "group, drawn once with the seed (0: all); the labels are always of every sample", recipes={"default": 20000},
      minimum=0, public=False),
    S("lr", float, 1e-2, "Adam learning rate (DFC: decayed as (1 + 10 t/T)^-0.75)", minimum=0, positive=True,
      methods=("dfc", "fcmi")),
    S("collapse_retry", float, None, "when DFC's argmax ends with fewer non-empty clusters than the teachers' "
      "(a collapse, seen without labels), train once more from the same start with the learning rate times this "
      "factor and keep the run whose argmax agrees more with the teachers' labels (off: never)", recipes={"default": 0.3}, optional=True,
      positive=True, metavar="FACTOR"),
    S("weight_decay", float, 5e-4, "Adam weight decay", minimum=0, public=False),
    S("critic_lr_mult", float, 10.0, "the critic's learning rate over the encoder's", minimum=0, positive=True,
      public=False),
    S("alpha_f", float, 1.0, "weight of the fairness-adversarial loss L_f", minimum=0),
    S("alpha_s", float, 1.0, "weight of the structural-preservation loss L_s (default recipe: 0 when L_c's target "
      "is the matched teachers, whose minimiser L_s shares)", minimum=0,
      recipes={"default": Follows("target", {"teachers": 0.0, "self": 1.0})}),
    S("t_alpha", float, 1.0, "Student's t degrees of freedom of the soft assignment", minimum=0, positive=True,
      public=False),
    S("align_groups", bool, False, "match the teachers' clusters across groups and take L_s over the whole batch "
      "(the alignment extension)", recipes={"default": True}),
    S("matching", str, "features", "how the alignment extension matches clusters across groups (transfer: a classifier trained on each "
      "group's teacher labels predicts the other; auto: transfer for images, features for vectors)",
      recipes={"default": "auto"}, choices=("features", "fused", "structure", "transfer", "auto"),
      only_if=("align_groups", True)),
    S("match_space", str, "input", "where the alignment extension takes the teachers' cluster centroids: the input, "
      "each image in its canonical frame (its ink's bounding box, resized: fairclust.align.canonical_frame) or the "
      "shared VAE's embedding", recipes={"default": "canonical"}, choices=("input", "canonical", "embedding"),
      only_if=("align_groups", True)),
    S("target", str, "self", "L_c's target: self (the paper: DEC's sharpening of q) or teachers (the matched "
      "teachers)", recipes={"default": Follows("align_groups", {True: "teachers", False: "self"})},
      choices=("self", "teachers"), needs={"teachers": ("align_groups", True)}),
    S("init_centers", str, "kmeans", "DFC's starting centres: kmeans on the shared embedding or teachers (the "
      "matched teachers' cluster means)", recipes={"default": Follows("align_groups", {True: "teachers",
                                                                                        False: "kmeans"})},
      choices=("kmeans", "teachers"), needs={"teachers": ("align_groups", True)}),
    # --------------------------------------------------------------- labels
    S("fair_labels", float, None, "labels_ = the assignment closest to q in which every cluster holds each "
      "group's share within a factor 1 - DELTA (off: the argmax of q)", "labels", {"default": 0.05},
      optional=True),
    S("fair_labels_max_samples", int, 40000, "above this many samples the fair labels' LP is solved on a seeded "
      "sample of this size and its dual prices, corrected on all samples, label every sample (0: always the whole LP)",
      "labels", minimum=0, public=False),
)
del S

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def _config_class(settings: Iterable[Setting]) -> type:
    fields = [(s.name, s.kind if not s.optional else Any, dataclasses.field(default=s.default)) for s in settings]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Any:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise FairclustError(f"unknown DFC setting(s) {', '.join(unknown)} in a saved config; "
                                 "re-fit the model with this fairclust")
        return cls(**dict(d))

    cls = dataclasses.make_dataclass(
        "DFCConfig", fields, frozen=True,
        namespace={"to_dict": to_dict, "from_dict": from_dict, "replace": dataclasses.replace,
                   "__doc__": "Every DFC hyper-parameter (frozen): one field per :data:`SETTINGS` entry."})
    cls.__module__ = __name__
    return cls


DFCConfig = _config_class(SETTINGS)


# ----------------------------------------------------------------------------- validation
def _coerce(s: Setting, value: Any) -> Any:
    """``value`` as ``s`` takes it, or a one-line error naming the setting."""
    if s.optional:
        if value is None or value is False:
            return None
        example = f"{s.name}={s.value_in('default')}"
        value = check_delta(value, s.name, example, hint=" (smaller is fairer)" if s.name == "fair_labels" else "")
        if s.positive and value == 0:
            raise FairclustError(f"{s.name} must be in (0, 1), got 0; e.g. {example}, or None to switch it off")
        return value
    if s.choices:
        if value not in s.choices:
            raise FairclustError(f"{s.name} must be one of {', '.join(s.choices)}; got {value!r}")
        return value
    if s.kind is bool:
        if isinstance(value, (bool, int)) and value in (0, 1):
            return bool(value)
        raise FairclustError(f"{s.name} must be True or False, got {value!r}")
    if s.kind is str:
        return str(value)
    if isinstance(value, bool):
        raise FairclustError(f"{s.name} must be a number ({s.kind.__name__}), got {value!r}")
    try:
        converted = s.kind(value)
    except (TypeError, ValueError, OverflowError):
        raise FairclustError(f"{s.name} must be a number ({s.kind.__name__}), got {value!r}") from None
    if s.kind is int and isinstance(value, float) and converted != value:
        raise FairclustError(f"{s.name} must be a whole number, got {value!r}")
    if s.minimum is not None:
        ok = math.isfinite(converted) and (converted > s.minimum if s.positive else converted >= s.minimum)
        if not ok:
            what = "positive" if s.positive and s.minimum == 0 else (">" if s.positive else ">=") + f" {s.minimum:g}"
            raise FairclustError(f"{s.name} must be finite and {what}, got {value}")
    return converted


def resolve(recipe: str = "default", *, method: str = "dfc", settings: tuple[Setting, ...] = SETTINGS,
            **overrides: Any) -> Any:
    """The recipe's config with the non-``None`` ``overrides`` applied, checked as a whole.

    Errors (one line each): an unknown recipe or setting, a value out of range, an explicit
    value for a setting the run would not read (``only_if``, checked for ``method="dfc"``),
    two explicit settings that replace each other (``n_iters`` and ``epochs``), and a value
    that needs another setting it does not have (``target="teachers"`` without ``align_groups``).
    """
    if recipe not in RECIPE_NAMES:
        raise FairclustError(f"unknown recipe {recipe!r}; choose one of: {', '.join(sorted(RECIPE_NAMES))}")
    by_name = {s.name: s for s in settings}
    given = {k: v for k, v in overrides.items() if v is not None}
    for name in given:
        if name not in by_name:
            public = sorted(s.name for s in settings if s.public)
            raise FairclustError(f"unknown DFC setting {name!r}; choose from: {', '.join(public)}")
    values: dict[str, Any] = {}
    for s in settings:  # plain recipe values first, then the explicit ones
        v = s.value_in(recipe)
        values[s.name] = None if isinstance(v, Follows) else v
    for name, v in given.items():
        values[name] = _coerce(by_name[name], v)
    for name in given:
        s = by_name[name]
        if s.replaces is not None:
            other, to = s.replaces
            if other in given:
                raise FairclustError(f"pass either {name} or {other}, not both ({name} replaces {other} with "
                                     f"{to!r})")
            values[other] = to
    follows = {s.name: s.value_in(recipe) for s in settings
               if isinstance(s.value_in(recipe), Follows) and s.name not in given}
    while follows:  # recipe values that follow another setting (which may itself follow one)
        ready = [name for name, v in follows.items() if v.other not in follows]
        if not ready:
            raise ValueError(f"recipe values follow each other in a cycle: {sorted(follows)}")
        for name in ready:
            v = follows.pop(name)
            values[name] = v.values[values[v.other]]
    for s in settings:
        if s.name not in given:
            continue
        if method == "dfc" and s.only_if is not None and values[s.only_if[0]] != s.only_if[1]:
            other, want = s.only_if
            raise FairclustError(f"{s.name} is read only when {other}={want!r} (the {recipe} recipe has "
                                 f"{values[other]!r}); pass {other}={want!r} too or drop {s.name}")
        need = s.needs.get(values[s.name])
        if need is not None and values[need[0]] != need[1]:
            raise FairclustError(f"{s.name}={values[s.name]!r} needs {need[0]}={need[1]!r}; pass {need[0]}="
                                 f"{need[1]!r} or another {s.name}")
    return _config_class(settings)(**values) if settings is not SETTINGS else DFCConfig(**values)


# ----------------------------------------------------------------------------- schedule
@dataclass(frozen=True)
class Schedule:
    """The length of one DFC fit, computed once before training (:func:`make_schedule`).

    ``n_iters`` is T (learning-rate decay and the GRL ramp read it); the labels are checked
    every ``eval_every`` iterations, and training stops early once fewer than ``stop_tol``
    of them changed since the previous check.
    """

    n_iters: int
    eval_every: int
    batch_size: int  # per group, at most the largest group
    iters_per_epoch: int  # passes of the largest group
    epochs: float  # 0: a fixed n_iters
    stop_tol: float
    capped: bool = False  # T set by max_samples instead of the epochs

    def lr_factor(self, t: int) -> float:
        """The paper's decay ``(1 + 10 t / T)^-0.75``."""
        return (1.0 + 10.0 * t / self.n_iters) ** -0.75

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def make_schedule(cfg: Any, group_sizes: Iterable[int]) -> Schedule:
    """T, evaluation points and stopping rule of a fit on groups of ``group_sizes``.

    With ``cfg.epochs > 0``, T is that many passes over the largest group, evaluated once per
    epoch, unless that draws more than ``cfg.max_samples`` samples (all groups together): then
    T stops at the cap and the run is evaluated as often as it has epochs (every T / epochs
    iterations), so the stopping rule sees the same number of checks at any size.
    Otherwise ``cfg.n_iters`` iterations evaluated every ``cfg.eval_every``.
    """
    sizes = list(group_sizes)
    largest = int(max(sizes))
    b = min(cfg.batch_size, largest)
    per_epoch = max(1, math.ceil(largest / b))
    if cfg.epochs > 0:
        T = max(1, math.ceil(cfg.epochs * per_epoch))
        T_cap = math.ceil(cfg.max_samples / (b * len(sizes))) if cfg.max_samples else T
        if T_cap < T:
            T = max(1, T_cap)
            return Schedule(T, max(1, math.ceil(T / cfg.epochs)), b, per_epoch, cfg.epochs, cfg.stop_tol, True)
        return Schedule(T, per_epoch, b, per_epoch, cfg.epochs, cfg.stop_tol)
    return Schedule(cfg.n_iters, cfg.eval_every, b, per_epoch, 0.0, cfg.stop_tol)


# ----------------------------------------------------------------------------- tables
def _shown(v: Any) -> str:
    if isinstance(v, Follows):
        return " / ".join(f"{val} if {v.other}={key}" for key, val in v.values.items())
    if v is None:
        return "off"
    return f"{v:g}" if isinstance(v, float) else str(v)


def recipe_table(settings: tuple[Setting, ...] = SETTINGS) -> str:
    """Every setting's value in every recipe, as Markdown (the README's table is this text)."""
    lines = ["| setting | flag | default | faithful | paper | what |", "|---|---|---|---|---|---|"]
    for s in settings:
        flag = f"`{s.cli_flag}`" if s.public else "(recipe)"
        lines.append(f"| `{s.name}` | {flag} | " + " | ".join(_shown(s.value_in(r)) for r in RECIPE_NAMES) +
                     f" | {s.help} |")
    return "\n".join(lines)


def init_params(settings: Iterable[Setting], run_params: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """An estimator's keyword arguments and defaults: ``recipe``, one ``None`` per public setting, the run's."""
    return [("recipe", "default"), *((s.name, None) for s in settings if s.public), *run_params]


if __name__ == "__main__":  # python -m fairclust.config: the README's recipe table
    print(recipe_table())
