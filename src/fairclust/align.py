"""Unsupervised matching of the per-group teachers' clusters across groups (an extension).

DFC's structural loss compares affinities *within* each group, which are invariant to how
group g's teacher numbers its clusters; nothing in the method says which cluster of group
0 corresponds to which cluster of group 1. That choice is left to the shared encoder, and
where the groups look very different (inverted images, other domains) it is often wrong.

Here the correspondence is estimated from structure alone: the distance matrix between a
group's cluster centroids (in input space) is nearly the same for every group when the
groups differ by an isometry-like change (inverting an image preserves all pixel
distances) or keep their class geometry. Matching two such matrices is a quadratic
assignment problem (graph matching); with K <= 12 clusters a few hundred random restarts of
pairwise-swap local search find its optimum reliably. No labels are used.
"""

from __future__ import annotations

import numpy as np


def centroid_distances(X: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Distances between the soft-weighted centroids of ``P``'s clusters, scaled to mean 1."""
    Xf = X.reshape(X.shape[0], -1).astype(np.float64)
    W = P.astype(np.float64)
    C = (W.T @ Xf) / np.maximum(W.sum(0), 1e-12)[:, None]
    sq = (C ** 2).sum(1)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * C @ C.T, 0.0))
    return D / max(D.mean(), 1e-12)


def _objective(A: np.ndarray, B: np.ndarray, perm: np.ndarray) -> float:
    return float(np.sum((A - B[np.ix_(perm, perm)]) ** 2))


def match_structures(A: np.ndarray, B: np.ndarray, *, restarts: int = 200, seed: int = 0) -> np.ndarray:
    """Permutation ``perm`` minimising ``||A - B[perm][:, perm]||_F``: ``A``'s item i <-> ``B``'s ``perm[i]``.

    Random restarts of best-improvement pairwise-swap local search (2-opt), vectorised over
    all swaps of one step.
    """
    k = A.shape[0]
    if k < 2:
        return np.arange(k)
    rng = np.random.default_rng(seed)
    iu, ju = np.triu_indices(k, 1)
    best_perm, best_val = np.arange(k), np.inf
    for _ in range(restarts):
        perm = rng.permutation(k)
        val = _objective(A, B, perm)
        while True:
            # evaluate every swap (i, j) at once
            cand = np.repeat(perm[None], len(iu), axis=0)
            cand[np.arange(len(iu)), iu] = perm[ju]
            cand[np.arange(len(iu)), ju] = perm[iu]
            Bp = B[cand[:, :, None], cand[:, None, :]]
            vals = ((A[None] - Bp) ** 2).sum((1, 2))
            i = int(vals.argmin())
            if vals[i] >= val - 1e-12:
                break
            perm, val = cand[i], float(vals[i])
        if val < best_val - 1e-12:
            best_perm, best_val = perm.copy(), val
    return best_perm


def align_teachers(X: np.ndarray, P: np.ndarray, group_codes: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Permute each group's teacher columns so that cluster k means the same thing in every group.

    Group 0 is the reference. Returns a copy of ``P`` with group g's columns reordered.
    """
    n_groups = int(group_codes.max()) + 1
    ref = group_codes == 0
    A = centroid_distances(X[ref], P[ref])
    out = P.copy()
    for g in range(1, n_groups):
        m = group_codes == g
        perm = match_structures(A, centroid_distances(X[m], P[m]), seed=seed + g)
        out[m] = P[m][:, perm]
    return out
