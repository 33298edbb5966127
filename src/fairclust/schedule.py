"""A DFC fit's length: not a setting but a :class:`Schedule`, computed once from the config and
the group sizes (:func:`make_schedule`) before training and never changed afterwards."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Schedule:
    """The length of one DFC fit, computed once before training (:func:`make_schedule`).

    ``n_iters`` is T (learning-rate decay and the GRL ramp read it); the labels are checked
    every ``eval_every`` iterations, and training stops early once fewer than ``stop_tol``
    of them changed since the previous check, or (``stop_patience`` > 0) once that share has
    not reached a new low for ``stop_patience`` checks in a row (:meth:`stops`).
    """

    n_iters: int
    eval_every: int
    batch_size: int  # per group, at most the largest group
    iters_per_epoch: int  # passes of the largest group
    epochs: float  # 0: a fixed n_iters
    stop_tol: float
    capped: bool = False  # T set by max_samples instead of the epochs
    stop_patience: int = 0

    def stops(self, changed: list[float | None]) -> bool:
        """Whether training stops after the evaluations whose shares of labels changed (since the evaluation before;
        None for the first) are ``changed``, in order: the last is below ``stop_tol`` (DEC's rule), or with
        ``stop_patience`` > 0 the last ``stop_patience`` were all at or above the lowest before them (the labels
        stopped settling). A function of the history alone, so a resumed run stops where an unbroken one does."""
        seen = [c for c in changed if c is not None]
        if self.stop_tol <= 0 or not seen:
            return False
        if seen[-1] < self.stop_tol:
            return True
        p = self.stop_patience
        return 0 < p < len(seen) and min(seen[-p:]) >= min(seen[:-p])

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
    patience = cfg.stop_patience
    largest = int(max(sizes))
    b = min(cfg.batch_size, largest)
    per_epoch = max(1, math.ceil(largest / b))
    if cfg.epochs > 0:
        T = max(1, math.ceil(cfg.epochs * per_epoch))
        T_cap = math.ceil(cfg.max_samples / (b * len(sizes))) if cfg.max_samples else T
        if T_cap < T:
            T = max(1, T_cap)
            return Schedule(T, max(1, math.ceil(T / cfg.epochs)), b, per_epoch, cfg.epochs, cfg.stop_tol, True,
                            patience)
        return Schedule(T, per_epoch, b, per_epoch, cfg.epochs, cfg.stop_tol, stop_patience=patience)
    return Schedule(cfg.n_iters, cfg.eval_every, b, per_epoch, 0.0, cfg.stop_tol, stop_patience=patience)


