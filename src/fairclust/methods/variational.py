"""FCC, variational fair clustering (Ziko, Granger, Yuan, Ben Ayed, AAAI 2021), SPEC section 4.

k-means energy plus ``lambda * sum_k KL(U || P_k)``, where ``U`` holds the groups' shares
and ``P_k`` the group proportions of soft cluster ``k``. Between centre updates the soft
assignment ``S`` follows the bound updates

    S_p <- normalise(S_p * exp(-(a_p + lambda b_p) / L)),
    b_pk = sum_j [u_j / 1^T S_k - u_j V_jp / V_j^T S_k],

with ``a_pk = ||x_p - c_k||^2``. Every step is a handful of ``n x K`` array operations, so
a million points take seconds. ``a`` is divided by its mean over all points and initial
centres (Ziko et al. L2-normalise the features to the same end) and the fairness term is weighted by ``lmbda * n``
(both terms are then per point), so one ``lmbda`` works across feature scales and sizes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.cluster import kmeans_plusplus

from ..config import FCCConfig
from ..embedding import kmeans
from .base import store_params
from .shared_encoder import FeatureClusterMixin, sq_distances


def fairness_term(S: np.ndarray, codes: np.ndarray, u: np.ndarray) -> float:
    """``sum_k KL(U || P_k)`` with ``P_jk = V_j^T S_k / 1^T S_k`` (clusters with no mass skipped)."""
    return _kl_from_mass(S.sum(0), np.asarray(_onehot(codes, len(u)) @ S), u)


def _kl_from_mass(col: np.ndarray, vs: np.ndarray, u: np.ndarray) -> float:
    live = col > 1e-12
    p = np.clip(vs[:, live] / col[live][None], 1e-300, None)
    return float((u[:, None] * (np.log(u[:, None]) - np.log(p))).sum())


def _onehot(codes: np.ndarray, m: int) -> sparse.csr_matrix:
    """``V^T``: the M x n group-membership matrix, so ``V^T S`` holds every ``V_j^T S_k``."""
    return sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(m, len(codes)))


def bound_update(a: np.ndarray, codes: np.ndarray, u: np.ndarray, lmbda: float, L: float, n_iter: int,
                 tol: float = 1e-5) -> tuple[np.ndarray, float]:
    """Ziko et al.'s bound iterations for fixed unary costs ``a`` (n x K), from ``S = softmax(-a)``.

    A step that raises the energy ``mean(S * a) + lmbda * sum_k KL(U || P_k)`` is undone
    and ``L`` doubled (a smaller step), so the iterations never oscillate. Returns ``S``
    and the ``L`` reached.
    """
    n, k = a.shape
    m = len(u)
    u_p = u[codes][:, None]
    V = _onehot(codes, m)
    S = np.exp(-(a - a.min(1, keepdims=True)))
    S /= S.sum(1, keepdims=True)

    def energy(S: np.ndarray, col: np.ndarray, vs: np.ndarray) -> float:
        return float((S * a).sum() / n) + lmbda * _kl_from_mass(col, vs, u)

    col, vs = S.sum(0), V @ S
    E = energy(S, col, vs)
    for _ in range(n_iter):
        b = n * (1.0 / (col[None] + 1e-12) - u_p / (vs[codes] + 1e-12))  # n x the gradient of sum_k KL (sum_j u_j = 1)
        logits = np.log(np.maximum(S, 1e-300)) - (a + lmbda * b) / L
        logits -= logits.max(1, keepdims=True)
        S_new = np.exp(logits)
        S_new /= S_new.sum(1, keepdims=True)
        col_new, vs_new = S_new.sum(0), V @ S_new
        E_new = energy(S_new, col_new, vs_new)
        if E_new > E + 1e-12 * abs(E):
            L *= 2.0
            continue
        change = float(np.abs(S_new - S).max())
        S, E, col, vs = S_new, E_new, col_new, vs_new
        if change < tol:
            break
    return S, L


class VariationalFairClustering(FeatureClusterMixin):
    """Variational fair k-means (FCC), any number of groups.

    Parameters
    ----------
    n_clusters : int, default=10
    lmbda : float, default=1.0
        Weight of the fairness term; 0 gives (soft) k-means.
    L : float, default=2.0
        Lipschitz constant of the bound (step size ``1/L``).
    max_iter : int, default=30
        Outer iterations (bound updates, then centre update).
    bound_iters : int, default=100
        Bound iterations per outer iteration.
    init : {"kmeans", "kmeans++"}, default="kmeans"
        Initial centres: k-means with ``n_init`` restarts, or one k-means++ seeding (fast).
    feature_space : {"pretrained", "raw"}, default="pretrained"
    random_state : int, default=None

    Every argument left at ``None`` takes its recipe value (:class:`fairclust.config.FCCConfig`:
    the defaults above).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        ``argmax_k S_pk`` of the final soft assignment.
    soft_labels_ : ndarray of shape (n_samples, n_clusters)
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    fairness_term_ : float
        ``sum_k KL(U || P_k)`` of the final hard assignment.
    """

    Config = FCCConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", lmbda: float | None = None,
                 L: float | None = None, max_iter: int | None = None, bound_iters: int | None = None,
                 init: str | None = None, n_init: int | None = None, feature_space: str | None = None,
                 latent_dim: int | None = None, pretrain_epochs: int | None = None,
                 pretrain_max_samples: int | None = None, device: str | None = None,
                 cache_dir: str | bool | None = None, random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "VariationalFairClustering":
        cfg, X, codes, seed = self._start_fit(X, sensitive_features)
        Z = np.asarray(self._fit_features(cfg, X, codes, seed), dtype=np.float64)
        k = self.n_clusters
        if cfg.init == "kmeans":
            centers = kmeans(Z, k, cfg.n_init, seed).cluster_centers_
        else:
            centers, _ = kmeans_plusplus(Z, k, random_state=seed)
        u = np.bincount(codes) / len(codes)
        a = sq_distances(Z, centers)
        scale = float(a.mean()) or 1.0
        labels = None
        for it in range(cfg.max_iter):
            S, _ = bound_update(a / scale, codes, u, cfg.lmbda, cfg.L, cfg.bound_iters)
            new = S.argmax(1)
            mass = S.sum(0)
            live = mass > 1e-9
            centers[live] = (S.T @ Z)[live] / mass[live][:, None]
            a = sq_distances(Z, centers)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
        self.n_iter_ = it + 1
        self.soft_labels_ = S
        self.labels_ = S.argmax(1).astype(np.int64)
        self.cluster_centers_ = centers.astype(np.float32)
        self.fairness_term_ = fairness_term(np.eye(k)[self.labels_], codes, u)
        self.soft_fairness_term_ = fairness_term(S, codes, u)
        return self
