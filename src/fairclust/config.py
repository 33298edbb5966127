"""Named recipes: complete sets of DFC hyper-parameters.

``paper``   SPEC section 1.4, the authors' code: b = 512 per group, T = 20,000 iterations,
            Adam lr 1e-2, weight decay 5e-4, critic lr x10, alpha_f = alpha_s = 1.
            Pretraining (never released by the authors) gets generous epochs.
``faithful`` The paper's method exactly, sized for a CPU and small data sets (a few
            thousand samples, 2 cores): b = 128 per group and far fewer iterations and
            pretraining epochs, so that ``digits-reverse`` runs end to end in a few
            minutes. Losses, reductions, schedule shape, critic, GRL ramp and teachers are
            the paper's; only sizes and lengths change.
``default`` ``faithful`` plus the alignment extension (``align_groups``, see
            :mod:`fairclust.align`): the teachers' clusters are matched across groups by
            their structure and L_s also preserves the affinities across groups. Without
            it, DFC leaves the cross-group correspondence of clusters to chance (measured
            in docs/results.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .errors import FairclustError
from .pretrain import PretrainSettings


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

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DFCConfig":
        d = dict(d)
        pre = PretrainSettings(**d.pop("pretrain", {}))
        return cls(pretrain=pre, **d)


RECIPES: dict[str, DFCConfig] = {
    "default": DFCConfig(align_groups=True),
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
}


def resolve(recipe: str, **overrides) -> DFCConfig:
    """The recipe's config with the non-``None`` overrides applied."""
    if recipe not in RECIPES:
        raise FairclustError(f"unknown recipe {recipe!r}; choose one of: {', '.join(sorted(RECIPES))}")
    cfg = DFCConfig.from_dict(RECIPES[recipe].to_dict())
    for name, value in overrides.items():
        if value is None:
            continue
        section, attr = OVERRIDES[name]
        target = cfg.pretrain if section == "pretrain" else cfg
        setattr(target, attr, type(getattr(target, attr))(value))
    for name in ("batch_size", "n_iters"):
        if getattr(cfg, name) <= 0:
            raise FairclustError(f"{name} must be positive, got {getattr(cfg, name)}")
    return cfg
