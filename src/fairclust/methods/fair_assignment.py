"""FAlg, fair assignment (Bera, Chakrabarty, Flores, Negahbani, NeurIPS 2019), SPEC section 4:
vanilla k-means gives the centres, then the fair-assignment LP (:mod:`fairclust.fair_lp`)
reassigns the points to them, and rounding gives each split point its largest share.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..config import FAlgConfig
from ..embedding import kmeans
from ..fair_lp import constraint_violation, fair_assignment_lp
from .base import store_params
from .shared_encoder import FeatureClusterMixin, sq_distances


class FairAssignment(FeatureClusterMixin):
    """Fair assignment of points to vanilla k-means centres (Bera et al. 2019), any number of groups.

    Parameters
    ----------
    n_clusters : int, default=10
    delta : float, default=0.2
        Slack of the proportion bounds: each group's share of every cluster must lie in
        ``[r_l (1 - delta), r_l / (1 - delta)]``. Smaller is fairer; must be in [0, 1).
    feature_space : {"pretrained", "raw"}, default="pretrained"
        Cluster ``mu`` of the shared pretrained encoder (the paper) or the flattened input.
    n_init : int, default=10
        k-means restarts for the centres.

    Every argument left at ``None`` takes its recipe value (:class:`fairclust.config.FAlgConfig`).
    random_state : int, default=None

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        The rounded LP assignment.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The k-means centres (the LP does not move them).
    lp_assignment_ : ndarray of shape (n_samples, n_clusters)
        The LP's fractional solution ``x``.
    fractional_points_ : int
        Points split between centres by the LP; the bound on the rounded violation.
    lp_violation_, violation_ : float
        Largest constraint violation (in points) before and after rounding.
    """

    Config = FAlgConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", delta: float | None = None,
                 fairness: str | None = None, feature_space: str | None = None, n_init: int | None = None, latent_dim: int | None = None,
                 pretrain_epochs: int | None = None, pretrain_max_samples: int | None = None,
                 device: str | None = None, cache_dir: str | bool | None = None, random_state: int | None = None,
                 verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "FairAssignment":
        cfg, X, codes, seed = self._start_fit(X, sensitive_features)
        Z = self._fit_features(cfg, X, codes, seed)
        km = kmeans(Z, self.n_clusters, cfg.n_init, seed)
        self.cluster_centers_ = km.cluster_centers_.astype(np.float32)
        fair = self._fit_fairness_groups(codes, sensitive_features, cfg.fairness)  # several attributes: per attribute
        x, info = fair_assignment_lp(sq_distances(Z, km.cluster_centers_), fair, cfg.delta)
        self.lp_assignment_ = x
        self.lp_objective_ = info["objective"]
        self.labels_ = x.argmax(1).astype(np.int64)
        self.fractional_points_ = int(((x > 1e-9).sum(1) > 1).sum())
        self.lp_violation_ = constraint_violation(x, fair, info["alpha"], info["beta"])
        self.violation_ = constraint_violation(np.eye(self.n_clusters)[self.labels_], fair, info["alpha"],
                                               info["beta"])
        self.bounds_ = {"alpha": info["alpha"], "beta": info["beta"]}
        return self

    def predict(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """With ``sensitive_features``: the fair assignment LP of this batch to the fitted centres
        (as ``fit`` labels its data: on the training data exactly ``labels_``); without: the
        nearest centre, which needs no groups and is not forced to be fair."""
        if sensitive_features is None:
            return super().predict(X)
        check_is_fitted(self, "cluster_centers_")
        Z = self.transform(X)
        codes = self._fairness_groups(sensitive_features, Z.shape[0], self.config_.get("fairness", "marginal"))
        x, _ = fair_assignment_lp(sq_distances(Z, self.cluster_centers_), codes, self.config_["delta"])
        return x.argmax(1).astype(np.int64)
