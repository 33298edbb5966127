"""ScFC, scalable fairlet decomposition (Backurs, Indyk, Onak, Schieber, Vakilian, Wagner, ICML 2019).

Two groups ("red" and "blue") and a target balance ``1/q`` (``(p, q) = (1, q)``-fairlets):

1. A random shifted quadtree on the features. Each quadtree level halves a cube's side
   in every dimension; here those halvings are taken one dimension at a time (the same
   tree with intermediate nodes), so the tree stays useful in 64 dimensions, and only
   levels that at least double the number of cells are kept (a coarsening, not a change).
2. Bottom-up ``(1, q)``-balancing: in every node the still unmatched points of its subtree
   are split into a balanced part, cut into fairlets (one point of the smaller colour and
   at most ``q`` of the other, neighbours in the tree's order), and an excess of one colour
   passed up to the parent. Excess left at the root fills fairlets with spare capacity
   (always possible when ``q`` is at least the ratio of the group sizes).
3. Weighted k-median (Lloyd steps with Weiszfeld centre updates) on the fairlets' means;
   every point takes its fairlet's cluster.

Every cluster is a union of fairlets, so its balance is at least ``1/q`` exactly. Every
step is a sort or a bincount over the points: ``O(n log n)`` per kept level.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans

from ..config import ScFCConfig
from ..errors import FairclustError
from .base import store_params
from .shared_encoder import FeatureClusterMixin, sq_distances


def shifted_quadtree(Z: np.ndarray, rng: np.random.Generator, max_depth: int = 40) -> list[np.ndarray]:
    """Nested cell ids (coarse to fine, root excluded) of a randomly shifted quadtree.

    Ids at every level are ordered so that sorting by the finest ids is a depth-first order
    of the tree. Levels are recorded when the number of cells has at least doubled.
    """
    n, d = Z.shape
    lo = Z.min(0)
    span = float((Z.max(0) - lo).max()) or 1.0
    W = (Z - lo) + rng.uniform(0.0, span, size=d)  # in [0, 2 span): one root cube of side 2 span
    dims = np.argsort(-W.var(0), kind="stable")  # widest dimensions first within a level
    ids = np.zeros(n, dtype=np.int64)
    n_cells, recorded, levels = 1, 1, []
    for depth in range(1, max_depth + 1):
        width = 2.0 * span / 2.0 ** depth
        for j in dims:
            bit = np.floor(W[:, j] / width).astype(np.int64) & 1
            if bit.min() == bit.max():
                continue
            uniq, ids = np.unique(ids * 2 + bit, return_inverse=True)
            n_cells = len(uniq)
            if n_cells >= 2 * recorded or n_cells == n:
                levels.append(ids.astype(np.int32 if n < 2**31 else np.int64))
                recorded = n_cells
            if n_cells == n:
                return levels
    if not levels or recorded != n_cells:
        levels.append(ids.astype(np.int64))
    return levels


def _rank_within(keys: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Sort order by ``keys`` (last key primary, like lexsort) and each element's rank in its group.

    Groups are equal values of all keys but the first (the first key only orders).
    """
    order = np.lexsort(keys)
    group = np.stack([k[order] for k in keys[1:]])
    new = np.ones(len(order), dtype=bool)
    new[1:] = (group[:, 1:] != group[:, :-1]).any(0)
    start = np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - start
    return order, rank


def fairlet_decomposition(levels: list[np.ndarray], colour: np.ndarray, q: int) -> np.ndarray:
    """Bottom-up ``(1, q)``-fairlets over the tree ``levels``; the fairlet id of every point."""
    n = len(colour)
    leafpos = np.empty(n, dtype=np.int64)
    leafpos[np.lexsort((np.arange(n), levels[-1]) if levels else (np.arange(n),))] = np.arange(n)
    fairlet = np.full(n, -1, dtype=np.int64)
    n_f = 0
    active = np.arange(n)
    for level in list(reversed(levels)) + [np.zeros(n, dtype=np.int64)]:
        if len(active) == 0:
            break
        _, cell = np.unique(level[active], return_inverse=True)
        col = colour[active]
        red = np.bincount(cell, weights=(col == 0)).astype(np.int64)
        blue = np.bincount(cell, weights=(col == 1)).astype(np.int64)
        mn, mx = np.minimum(red, blue), np.maximum(red, blue)
        major = (blue >= red).astype(np.int64)  # on ties colour 1 plays the majority
        keep_maj = np.where(mn > 0, np.minimum(mx, q * mn), 0)
        _, rank = _rank_within((leafpos[active], col, cell))
        is_maj = col == major[cell]
        keep = rank < np.where(is_maj, keep_maj[cell], mn[cell])
        base = n_f + np.cumsum(mn) - mn
        safe = np.maximum(keep_maj[cell], 1)
        fid = base[cell] + np.where(is_maj, (rank * mn[cell]) // safe, rank)
        fairlet[active[keep]] = fid[keep]
        n_f += int(mn.sum())
        active = active[~keep]
    if len(active):
        _absorb(fairlet, active, colour, leafpos, q, n_f)
    return fairlet


def _absorb(fairlet: np.ndarray, left: np.ndarray, colour: np.ndarray, leafpos: np.ndarray, q: int, n_f: int) -> None:
    """Put the root's excess (one colour) into fairlets with room, near them in tree order."""
    c = colour[left[0]]
    placed = fairlet >= 0
    same = np.bincount(fairlet[placed], weights=(colour[placed] == c), minlength=n_f).astype(np.int64)
    other = np.bincount(fairlet[placed], weights=(colour[placed] != c), minlength=n_f).astype(np.int64)
    room = q * other - same
    first = np.full(n_f, np.iinfo(np.int64).max)
    np.minimum.at(first, fairlet[placed], leafpos[placed])
    slots = np.repeat(np.arange(n_f), np.maximum(room, 0))
    slots = slots[np.argsort(first[slots], kind="stable")]
    e, s = len(left), len(slots)
    if e > s:  # cannot happen when q >= larger group / smaller group
        raise FairclustError(f"no (1,{q})-fairlet decomposition exists; raise q")
    left = left[np.argsort(leafpos[left], kind="stable")]
    pos = np.searchsorted(first[slots], leafpos[left])
    pos = np.maximum.accumulate(pos - np.arange(e)) + np.arange(e)  # strictly increasing
    pos = np.minimum(pos, s - e + np.arange(e))  # and inside the slots
    fairlet[left] = slots[pos]


def weighted_kmedian(P: np.ndarray, w: np.ndarray, k: int, seed: int, n_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """k-median of weighted points: k-means start, then Lloyd steps with one Weiszfeld update each."""
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(P, sample_weight=w)
    C = km.cluster_centers_.astype(np.float64)
    lab = km.labels_
    for _ in range(n_iter):
        D = np.sqrt(sq_distances(P, C))
        lab = D.argmin(1)
        coef = w / np.maximum(D[np.arange(len(P)), lab], 1e-12)
        num = sparse.csr_matrix((coef, (lab, np.arange(len(P)))), shape=(k, len(P))) @ P
        den = np.bincount(lab, weights=coef, minlength=k)
        live = den > 0
        newC = C.copy()
        newC[live] = num[live] / den[live][:, None]
        if np.allclose(newC, C, rtol=0, atol=1e-9):
            break
        C = newC
    return C, np.sqrt(sq_distances(P, C)).argmin(1)


class ScalableFairletClustering(FeatureClusterMixin):
    """Scalable fairlet decomposition + k-median (ScFC), two groups.

    Parameters
    ----------
    n_clusters : int, default=10
    q : int, default=None
        Fairlets hold one point of one group and at most ``q`` of the other: the target
        balance is ``1/q``. ``None``: the smallest ``q`` the group sizes allow,
        ``ceil(larger / smaller)`` (1 for equal groups).
    feature_space : {"pretrained", "raw"}, default=None (recipe: "pretrained")
    random_state : int, default=None
        Seeds the quadtree's random shift and the k-median start.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    fairlets_ : ndarray of shape (n_samples,)
        The fairlet of every sample.
    target_balance_ : float
        ``1/q``; every cluster's balance is at least this.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        k-median centres of the fairlets' means.
    """

    Config = ScFCConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", q: int | None = None,
                 feature_space: str | None = None, latent_dim: int | None = None, pretrain_epochs: int | None = None,
                 pretrain_max_samples: int | None = None, device: str | None = None,
                 cache_dir: str | bool | None = None, random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "ScalableFairletClustering":
        cfg, X, codes, seed = self._start_fit(X, sensitive_features)
        if self.attributes_ is not None:
            raise FairclustError(f"scfc takes one sensitive attribute with two groups, got {len(self.attributes_['names'])}"
                                 " attributes; use dfc, fcmi or falg (several attributes), or pass one attribute")
        if len(self.groups_) != 2:
            raise FairclustError(f"scfc handles exactly two groups, got {len(self.groups_)}; use falg or fcc")
        sizes = np.bincount(codes)
        q_min = math.ceil(sizes.max() / sizes.min())
        q = q_min if cfg.q is None else cfg.q
        if q < q_min:
            raise FairclustError(f"q={q} is below the group-size ratio; use q >= {q_min}")
        Z = np.asarray(self._fit_features(cfg, X, codes, seed), dtype=np.float64)
        levels = shifted_quadtree(Z, np.random.default_rng(seed))
        fairlet = fairlet_decomposition(levels, codes, q)
        n_f = int(fairlet.max()) + 1
        if n_f < self.n_clusters:
            raise FairclustError(f"only {n_f} fairlets for n_clusters={self.n_clusters}; lower n_clusters or q")
        member = sparse.csr_matrix((np.ones(len(Z)), (fairlet, np.arange(len(Z)))), shape=(n_f, len(Z)))
        w = np.asarray(member.sum(1)).ravel()
        means = (member @ Z) / w[:, None]
        centers, flab = weighted_kmedian(means, w, self.n_clusters, seed)
        self.fairlets_ = fairlet
        self.n_fairlets_ = n_f
        self.target_balance_ = 1.0 / q
        self.q_ = q
        self.cluster_centers_ = centers.astype(np.float32)
        self.labels_ = flab[fairlet].astype(np.int64)
        return self
