"""Named recipes: complete sets of DFC hyper-parameters.

``paper``   SPEC section 1.4, the authors' code: b = 512 per group, T = 20,000 iterations,
            Adam lr 1e-2, weight decay 5e-4, critic lr x10, alpha_f = alpha_s = 1.
            Pretraining (never released by the authors) gets generous epochs.
``faithful`` The paper's method exactly, sized for a CPU and small data sets (a few
            thousand samples, 2 cores): b = 128 per group and far fewer iterations and
            pretraining epochs, so that ``digits-reverse`` runs end to end in a few
            minutes. Losses, reductions, schedule shape, critic, GRL ramp and teachers are
            the paper's; only sizes and lengths change.
``default`` DFC's losses, critic and learning-rate schedule, sized to the data (epochs over
            the largest group, stopped when fewer than 1% of labels change in an epoch)
            plus the extensions measured in docs/results.md: per-group UMAP + GMM
            teachers (:mod:`fairclust.teachers`, ``teacher="auto"``), their clusters
            matched across groups (:mod:`fairclust.align`) with L_s over the whole
            batch, the matched teachers as L_c's target, centres started at the
            teachers' means, an encoder that centres each image, and fair labels
            (``fair_labels=0.05``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .errors import FairclustError
from .pretrain import PretrainSettings
from .validation import check_delta


@dataclass
class DFCConfig:
    """Every DFC hyper-parameter. Field names match :class:`DeepFairClustering`'s arguments."""

    pretrain: PretrainSettings = field(default_factory=PretrainSettings)
    batch_size: int = 128  # per group
    n_iters: int = 1000
    lr: float = 1e-2
    weight_decay: float = 5e-4
    critic_lr_mult: float = 10.0
    alpha_f: float = 1.0
    alpha_s: float = 1.0
    t_alpha: float = 1.0  # Student's t degrees of freedom
    eval_every: int = 100
    align_groups: bool = False  # extension: match teachers' clusters across groups, cross-group L_s
    matching: str = "features"  # how align_groups matches clusters: features, structure or fused (fairclust.align)
    fair_labels: float | None = None  # extension: labels_ from the fair-assignment LP with slack delta
    epochs: float = 0.0  # > 0: T sized to the data, ``epochs`` passes over the largest group (n_iters ignored)
    stop_tol: float = 0.0  # > 0: stop when fewer than this fraction of labels changed in one epoch
    target: str = "self"  # L_c's target: "self" (the paper: DEC's sharpened q) or "teachers" (the aligned P)
    init_centers: str = "kmeans"  # "kmeans" on the shared embedding, or "teachers": the aligned teachers' means

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DFCConfig":
        d = dict(d)
        pre = PretrainSettings(**d.pop("pretrain", {}))
        return cls(pretrain=pre, **d)


RECIPES: dict[str, DFCConfig] = {
    "default": DFCConfig(
        pretrain=PretrainSettings(teacher="auto", center_input=True),
        align_groups=True, matching="features", fair_labels=0.05, epochs=15.0, stop_tol=0.01,
        init_centers="teachers", target="teachers",
    ),
    "faithful": DFCConfig(),
    "paper": DFCConfig(
        pretrain=PretrainSettings(epochs=50, batch_size=256, teacher_epochs=50, dec_iters=5000,
                                  dec_update_interval=500, dec_batch_size=512),
        batch_size=512,
        n_iters=20000,
        eval_every=1000,
    ),
}

# estimator argument -> (section, field)
OVERRIDES = {
    "batch_size": (None, "batch_size"),
    "n_iters": (None, "n_iters"),
    "lr": (None, "lr"),
    "alpha_f": (None, "alpha_f"),
    "alpha_s": (None, "alpha_s"),
    "pretrain_epochs": ("pretrain", "epochs"),
    "teacher_epochs": ("pretrain", "teacher_epochs"),
    "dec_iters": ("pretrain", "dec_iters"),
    "latent_dim": ("pretrain", "latent_dim"),
    "align_groups": (None, "align_groups"),
    "matching": (None, "matching"),
    "fair_labels": (None, "fair_labels"),
    "epochs": (None, "epochs"),
    "stop_tol": (None, "stop_tol"),
    "teacher": ("pretrain", "teacher"),
    "target": (None, "target"),
    "init_centers": (None, "init_centers"),
}

# string settings and their choices
CHOICES = {"matching": ("features", "fused", "structure"), "teacher": ("auto", "vae-umap", "umap", "dec"),
           "init_centers": ("kmeans", "teachers"),
           "target": ("self", "teachers")}


_ARGUMENT = {where: name for name, where in OVERRIDES.items()}  # (section, field) -> argument name


def _coerce(name: str, value, kind: type):
    """``value`` as ``kind`` (bool, int, float or str), or a one-line error naming the setting."""
    if name == "fair_labels":  # None or False: off; a number: the slack delta in [0, 1)
        if value is False or value is None:
            return None
        return check_delta(value, "fair_labels", "fair_labels=0.05")
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise FairclustError(f"{name} must be one of {', '.join(CHOICES[name])}; got {value!r}")
        return value
    if kind is bool:
        if isinstance(value, (bool, int)) and value in (0, 1):
            return bool(value)
        raise FairclustError(f"{name} must be True or False, got {value!r}")
    try:
        converted = kind(value)
    except (TypeError, ValueError):
        raise FairclustError(f"{name} must be a number ({kind.__name__}), got {value!r}") from None
    if kind is int and isinstance(value, float) and converted != value:
        raise FairclustError(f"{name} must be a whole number, got {value!r}")
    return converted


# settings that must be > 0, and settings that must be >= 0 (all finite)
_POSITIVE = ("batch_size", "n_iters", "lr", "critic_lr_mult", "t_alpha", "eval_every", "pretrain.latent_dim",
             "pretrain.batch_size", "pretrain.lr", "pretrain.dec_update_interval", "pretrain.dec_batch_size",
             "pretrain.dec_lr", "pretrain.kmeans_n_init")
_NON_NEGATIVE = ("weight_decay", "alpha_f", "alpha_s", "pretrain.epochs", "pretrain.teacher_epochs",
                 "pretrain.dec_iters", "pretrain.kl_weight", "epochs", "stop_tol")


def _validate(cfg: DFCConfig) -> None:
    """Raise a one-line error for the first setting outside its range (NaN and inf included)."""
    for names, ok, what in ((_POSITIVE, lambda v: v > 0, "positive"), (_NON_NEGATIVE, lambda v: v >= 0, ">= 0")):
        for name in names:
            section, _, attr = name.rpartition(".")
            value = getattr(cfg.pretrain if section else cfg, attr)
            if not (math.isfinite(value) and ok(value)):
                shown = _ARGUMENT.get((section or None, attr), name)
                raise FairclustError(f"{shown} must be finite and {what}, got {value}")


def resolve(recipe: str, **overrides) -> DFCConfig:
    """The recipe's config with the non-``None`` overrides applied."""
    if recipe not in RECIPES:
        raise FairclustError(f"unknown recipe {recipe!r}; choose one of: {', '.join(sorted(RECIPES))}")
    cfg = DFCConfig.from_dict(RECIPES[recipe].to_dict())
    for name, value in overrides.items():
        if value is None:
            continue
        if name not in OVERRIDES:
            raise FairclustError(f"unknown DFC setting {name!r}; choose from: {', '.join(sorted(OVERRIDES))}")
        section, attr = OVERRIDES[name]
        target = cfg.pretrain if section == "pretrain" else cfg
        setattr(target, attr, _coerce(name, value, type(getattr(target, attr))))
    if overrides.get("n_iters") is not None and overrides.get("epochs") is None:
        cfg.epochs = 0.0  # an explicit iteration count replaces the data-sized schedule
    _validate(cfg)
    return cfg
