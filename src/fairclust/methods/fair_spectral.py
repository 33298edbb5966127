"""SpFC, fair spectral clustering (Kleindessner, Samadi, Awasthi, Morgenstern, ICML 2019).

Unnormalised fair spectral clustering (their Algorithm 2) on a sparse k-nearest-neighbour
graph (optionally with each point's nearest neighbours in every group, see :func:`knn_laplacian`):
with the Laplacian ``L = D - W`` and the group matrix ``F_il = 1[i in l] - |l|/n``
(groups ``l = 1..M-1``), the ``k`` smallest eigenvectors of ``Z^T L Z``, ``Z`` an
orthonormal basis of ``null(F^T)``, mapped back by ``Z``, are the ``k`` smallest
eigenvectors of ``L`` restricted to the complement of ``span(F)``. LOBPCG computes exactly
those, with ``F``'s orthonormalised columns as its constraint block ``Y`` and a Jacobi
preconditioner, so neither ``Z`` (n x n-M+1) nor any dense ``n x n`` matrix is formed:
memory is ``O(n (k + n_neighbors))``. k-means on the rows of the eigenvectors gives the labels.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import lobpcg
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors, kneighbors_graph

from ..config import SpFCConfig
from ..errors import FairclustError
from .base import store_params
from .shared_encoder import FeatureClusterMixin


def knn_laplacian(Z: np.ndarray, n_neighbors: int, codes: np.ndarray | None = None) -> sparse.csr_matrix:
    """``D - W`` of a symmetrised (``max(W, W^T)``) 0/1 k-nearest-neighbour graph.

    With ``codes``, every point is linked to its ``n_neighbors`` nearest points *of every
    group* (its own included): the sparse stand-in for the dense similarity graph of the
    paper, which always links the groups. A plain kNN graph often leaves the groups in
    separate components, and then no fairness constraint can match clusters across them.
    """
    n = Z.shape[0]
    if codes is None:
        W = kneighbors_graph(Z, n_neighbors, mode="connectivity", include_self=False)
    else:
        rows, cols = [], []
        for l in range(int(codes.max()) + 1):
            members = np.flatnonzero(codes == l)
            kk = min(n_neighbors + 1, len(members))
            _, idx = NearestNeighbors(n_neighbors=kk).fit(Z[members]).kneighbors(Z)
            rows.append(np.repeat(np.arange(n), kk))
            cols.append(members[idx.ravel()])
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        keep = rows != cols
        W = sparse.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(n, n))
        W.data[:] = 1.0  # duplicates summed: back to 0/1
    W = W.maximum(W.T).tocsr()
    return (sparse.diags(np.asarray(W.sum(1)).ravel()) - W).tocsr()


def group_constraints(codes: np.ndarray) -> np.ndarray:
    """Orthonormal basis of ``span(F)``, ``F_il = 1[i in l] - |l|/n`` for groups ``l = 1..M-1``."""
    m = int(codes.max()) + 1
    F = np.stack([(codes == l) - np.mean(codes == l) for l in range(1, m)], axis=1).astype(np.float64)
    Q, _ = np.linalg.qr(F)
    return Q


def fair_spectral_embedding(L: sparse.csr_matrix, codes: np.ndarray, k: int, seed: int, tol: float = 1e-4,
                            maxiter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest eigenpairs of ``L`` orthogonal to ``span(F)``: ``(values, n x k vectors)``."""
    n = L.shape[0]
    Y = group_constraints(codes)
    rng = np.random.default_rng(seed)
    X0 = rng.standard_normal((n, k))
    X0 -= Y @ (Y.T @ X0)
    X0[:, 0] = 1.0  # the constant vector is fair (F's columns sum to 0) and has eigenvalue 0
    diag = L.diagonal()
    precond = sparse.diags(1.0 / np.where(diag > 0, diag, 1.0))
    with warnings.catch_warnings():  # tolerance not reached: the vectors are still used, as sklearn does
        warnings.simplefilter("ignore", UserWarning)
        vals, vecs = lobpcg(L, X0, M=precond, Y=Y, tol=tol, maxiter=maxiter, largest=False)
    order = np.argsort(vals)
    return vals[order], vecs[:, order]


class FairSpectralClustering(FeatureClusterMixin):
    """Unnormalised fair spectral clustering on a sparse kNN graph, any number of groups.

    Parameters
    ----------
    n_clusters : int, default=10
    n_neighbors : int, default=15
        Neighbours per point in the kNN graph (symmetrised, 0/1 weights).
    graph : {"knn", "groups"}, default="knn"
        ``"knn"``: a plain kNN graph over all points. ``"groups"``: every point is also
        linked to its ``n_neighbors`` nearest points of each other group, so the groups stay
        connected as in the paper's dense graph. When the groups lie apart in feature
        space a plain kNN graph splits into per-group components and the fair constraint
        cannot match clusters across them (Balance 0); "groups" helps there, but its
        cross-group hubs can also blur the clusters, so it is not the default.
    feature_space : {"pretrained", "raw"}, default="pretrained"
    tol, maxiter : float, int, default=1e-4, 1000
        LOBPCG's tolerance and iteration limit.

    Every argument left at ``None`` takes its recipe value (:class:`fairclust.config.SpFCConfig`:
    the defaults above).
    random_state : int, default=None
        Seeds LOBPCG's start block and the final k-means.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    embedding_ : ndarray of shape (n_samples, n_clusters)
        The fair spectral embedding ``Z Y`` (rows clustered by k-means).
    eigenvalues_ : ndarray of shape (n_clusters,)

    Spectral clustering is transductive: there is no ``predict``.
    """

    Config = SpFCConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", n_neighbors: int | None = None,
                 graph: str | None = None, feature_space: str | None = None, tol: float | None = None,
                 maxiter: int | None = None, latent_dim: int | None = None, pretrain_epochs: int | None = None,
                 pretrain_max_samples: int | None = None, device: str | None = None,
                 cache_dir: str | bool | None = None, random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "FairSpectralClustering":
        cfg, X, codes, seed = self._start_fit(X, sensitive_features)
        n = X.shape[0]
        if not cfg.n_neighbors < n:
            raise FairclustError(f"n_neighbors={cfg.n_neighbors} must be in [1, n_samples); e.g. 15")
        if 5 * self.n_clusters + len(self.groups_) >= n:
            raise FairclustError(f"spfc needs more than 5 x n_clusters samples, got {n}; lower n_clusters")
        Z = np.asarray(self._fit_features(cfg, X, codes, seed), dtype=np.float64)
        L = knn_laplacian(Z, cfg.n_neighbors, codes if cfg.graph == "groups" else None)
        self.eigenvalues_, H = fair_spectral_embedding(L, codes, self.n_clusters, seed, cfg.tol, cfg.maxiter)
        self.embedding_ = H
        self.labels_ = KMeans(self.n_clusters, n_init=10, random_state=seed).fit_predict(H).astype(np.int64)
        return self

    def predict(self, X: Any) -> np.ndarray:
        raise AttributeError("fair spectral clustering is transductive: use labels_ of fit, not predict")
