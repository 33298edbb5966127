"""Unsupervised matching of the per-group teachers' clusters across groups (an extension).

DFC's structural loss compares affinities *within* each group, which are invariant to how
group g's teacher numbers its clusters; nothing in the method says which cluster of group
0 corresponds to which cluster of group 1. Here that correspondence is estimated from two
kinds of evidence, both computed from each group's soft-weighted cluster centroids in the
input space, and never from labels:

* **structure**: the matrix of distances between a group's centroids. Inverting an image
  preserves every pixel distance, and two sources of the same classes keep much of their
  class geometry, so these matrices agree up to the unknown permutation (graph matching,
  a quadratic assignment problem).
* **features**: the centroids themselves, each group centred on its own mean and scaled by
  its own spread, so that a shift of brightness or a change of contrast between groups is
  removed. Contrast may also flip sign (an inverted copy is ``1 - x``): both signs are tried
  (with three clusters or more; two clusters' centred centroids are collinear, so a flip cannot be
  told from a swap of the two and only the kept sign is tried).

``kind="fused"`` (the default) maximises the sum of the two as correlations, each in
[-1, 1]: ``corr(D_ref, D_g[perm][:, perm]) + <F_ref, s F_g[perm]>``, with no weight to
tune. It is one quadratic assignment solved by :func:`scipy.optimize.quadratic_assignment`
(FAQ from several starts, then 2-opt): the feature term enters as fixed anchor nodes, one
per feature direction. ``kind="structure"`` uses distances only, ``kind="features"`` the
centroids only (a linear assignment).

``kind="transfer"`` uses the samples, not the centroids: a small classifier trained on the
reference group's teacher labels predicts the other group, one trained on the other group
predicts the reference (:mod:`fairclust.transfer`), and the pairing is the linear assignment on
the log evidence (the geometric mean, over both directions, of the mean predicted probability
of cluster i over the members of cluster j), each classifier's bias towards some classes removed.
``kind="auto"`` (the default recipe's) is ``transfer`` for images and ``features`` for feature
vectors, where no augmentation is known to keep a sample's class. Measured in docs/results.md
(issue 19).

With three to ``SPANNING_MAX_GROUPS`` groups and a centroid kind (``fused``, ``structure``,
``features``: each pairing costs milliseconds; 30 groups' 435 pairings 3 s),
:func:`align_teachers` pairs every two groups and keeps the maximum spanning tree of the clearest
pairings (each pairing's confidence ``z``), composing the permutations from
the reference along it: a group that differs from the reference in two ways (another source *and*
inverted) is paired through one that differs in one. ``transfer`` (a classifier per direction and
pair) pairs every group with the reference. Measured in docs/results.md ("Several sensitive
attributes").
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment, quadratic_assignment

from .errors import FairclustError, FairclustWarning
from .transfer import transfer_evidence

KINDS = ("fused", "structure", "features", "transfer", "auto")


def centroids(X: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Soft-weighted centroids (``K x D``) of ``P``'s clusters over the rows of ``X``."""
    Xf = X.reshape(X.shape[0], -1).astype(np.float64)
    W = P.astype(np.float64)
    return (W.T @ Xf) / np.maximum(W.sum(0), 1e-12)[:, None]


def centroid_distances(X: np.ndarray, P: np.ndarray, C: np.ndarray | None = None) -> np.ndarray:
    """Distances between the soft-weighted centroids of ``P``'s clusters (``C`` when already
    computed), scaled to mean 1."""
    C = centroids(X, P) if C is None else C
    sq = (C ** 2).sum(1)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * C @ C.T, 0.0))
    return D / max(D.mean(), 1e-12)


def _unit(M: np.ndarray) -> np.ndarray:
    return M / max(float(np.linalg.norm(M)), 1e-12)


def structure_matrix(D: np.ndarray) -> np.ndarray:
    """Off-diagonal distances centred and scaled to unit norm: ``<S_a, S_b>`` is their correlation."""
    k = D.shape[0]
    off = ~np.eye(k, dtype=bool)
    S = np.zeros_like(D, dtype=np.float64)
    S[off] = D[off] - D[off].mean()
    return _unit(S)


def feature_matrix(X: np.ndarray, P: np.ndarray, C: np.ndarray | None = None) -> np.ndarray:
    """Centroids of the group (``C`` when already computed) centred on the group's mean and
    scaled to unit norm."""
    C = centroids(X, P) if C is None else C
    return _unit(C - X.reshape(X.shape[0], -1).mean(0))


def _qap(A: np.ndarray, B: np.ndarray, n_fixed: int, seed: int, restarts: int) -> tuple[np.ndarray, float]:
    """Maximise ``trace(A P B^T P^T)`` over permutations of the first ``len(A) - n_fixed`` nodes."""
    n = A.shape[0]
    k = n - n_fixed
    fixed = np.arange(k, n)
    partial = np.stack([fixed, fixed], 1) if n_fixed else None
    rng = np.random.default_rng(seed)
    best, best_val = np.arange(k), -np.inf
    for r in range(restarts):
        opts = {"maximize": True, "partial_match": partial, "rng": rng}
        if r:  # the first start is FAQ's barycentre, the others random doubly stochastic matrices
            opts["P0"] = "randomized"
        res = quadratic_assignment(A, B, method="faq", options=opts)
        guess = np.stack([np.arange(k), res.col_ind[:k]], 1)  # refine FAQ's answer by pairwise swaps
        res = quadratic_assignment(A, B, method="2opt",
                                   options={"maximize": True, "partial_match": partial, "rng": rng,
                                            "partial_guess": guess})
        if res.fun > best_val + 1e-12:
            best, best_val = res.col_ind[:k].copy(), float(res.fun)
    return best, best_val


def resolve_kind(kind: str, X: np.ndarray) -> str:
    """The matching ``kind`` names, ``auto`` resolved: images ``transfer`` (augmentations make it
    invariant to framing), feature vectors ``features``."""
    if kind not in KINDS:
        raise FairclustError(f"unknown matching {kind!r}; choose one of: {', '.join(KINDS)}")
    if kind == "auto":
        return "transfer" if np.ndim(X) == 4 else "features"
    return kind


def match(X_ref: np.ndarray, P_ref: np.ndarray, X_g: np.ndarray, P_g: np.ndarray, *, kind: str = "fused",
          seed: int = 0, restarts: int = 8) -> tuple[np.ndarray, dict]:
    """Permutation ``perm``: cluster ``i`` of the reference group <-> cluster ``perm[i]`` of group g.

    Returns the permutation and the evidence (``structure`` and ``features`` correlations
    of the chosen matching, the feature sign and ``kind``).
    """
    kind = resolve_kind(kind, X_ref)
    k = P_ref.shape[1]
    if k < 2:
        return np.arange(k), {"kind": kind, "structure": 1.0, "features": 1.0, "sign": 1.0, "k": k}
    C_ref, C_g = centroids(X_ref, P_ref), centroids(X_g, P_g)  # each group's centroids, once
    S_ref, S_g = (structure_matrix(centroid_distances(X_ref, P_ref, C_ref)),
                  structure_matrix(centroid_distances(X_g, P_g, C_g)))
    F_ref, F_g = feature_matrix(X_ref, P_ref, C_ref), feature_matrix(X_g, P_g, C_g)
    candidates = []
    if kind == "structure":
        candidates.append((_qap(S_ref, S_g, 0, seed, restarts)[0], 1.0))
    # two clusters' centred centroids are collinear (n_1 c_1 + n_2 c_2 = 0): a negated, swapped pairing then
    # outscores the right one wherever one group's larger cluster is the other's smaller, so a flip cannot be
    # told from a swap and only the kept sign is tried
    for sign in (1.0, -1.0) if k > 2 else (1.0,):
        if kind == "features":
            candidates.append((linear_sum_assignment(F_ref @ F_g.T * sign, maximize=True)[1], sign))
        elif kind == "fused":
            # project the centroids on their joint principal directions: at most 2K anchor nodes
            _, _, Vt = np.linalg.svd(np.vstack([F_ref, F_g]), full_matrices=False)
            a, b = F_ref @ Vt.T / np.sqrt(2), sign * F_g @ Vt.T / np.sqrt(2)
            d = a.shape[1]
            A = np.block([[S_ref, a], [a.T, np.zeros((d, d))]])
            B = np.block([[S_g, b], [b.T, np.zeros((d, d))]])
            candidates.append((_qap(A, B, d, seed, restarts)[0], sign))

    def score(perm: np.ndarray, sign: float) -> tuple[float, float]:
        return float((S_ref * S_g[np.ix_(perm, perm)]).sum()), float(sign * (F_ref * F_g[perm]).sum())

    if kind == "transfer":
        M = transfer_evidence(X_ref, P_ref, X_g, P_g, seed)
        L = np.log(M + 1e-6)
        L = L - L.mean(0, keepdims=True) - L.mean(1, keepdims=True) + L.mean()  # without the classifiers' biases
        perm = linear_sum_assignment(L, maximize=True)[1]
        s, f = score(perm, 1.0)  # the centroids' agreement under this pairing gives its contrast sign
        return np.asarray(perm), {"kind": kind, "structure": s, "features": abs(f), "sign": 1.0 if f >= 0 else -1.0,
                                  "k": k, "confidence": confidence(L, np.asarray(perm), seed)}

    scored = [(perm, sign, *score(perm, sign)) for perm, sign in candidates]
    weight = {"fused": (1, 1), "structure": (1, 0), "features": (0, 1)}[kind]
    perm, sign, s, f = max(scored, key=lambda c: weight[0] * c[2] + weight[1] * c[3])
    info = {"kind": kind, "structure": s, "features": f, "sign": sign, "k": k}
    if kind != "structure":  # the feature similarities are (part of) the evidence: how clearly do they decide?
        info["confidence"] = confidence(sign * F_ref @ F_g.T, np.asarray(perm), seed)
    return np.asarray(perm), info


def confidence(M: np.ndarray, perm: np.ndarray, seed: int, n_null: int = 200) -> dict:
    """How clearly the similarities ``M`` (reference cluster x group cluster) support ``perm``.

    ``clear_pairs``: pairs whose similarity beats every rival in their row and column
    (``min_margin``: the smallest such lead; negative when some pair is contested); ``z``: the
    chosen matching's total similarity against the best matchings of structureless evidence
    (each group cluster's similarities shuffled across the reference's clusters, then matched
    optimally), in standard deviations of those: near 0 or below means no better than chance.
    """
    k = len(perm)
    chosen = M[np.arange(k), perm]
    rivals = np.full(k, -np.inf)
    for i in range(k):
        row = np.delete(M[i], perm[i])
        col = np.delete(M[:, perm[i]], i)
        rivals[i] = max(row.max(initial=-np.inf), col.max(initial=-np.inf))
    margins = chosen - rivals
    rng = np.random.default_rng(seed)
    null = np.empty(n_null)
    for r in range(n_null):
        shuffled = np.take_along_axis(M, rng.permuted(np.tile(np.arange(k)[:, None], (1, k)), axis=0), axis=0)
        null[r] = shuffled[linear_sum_assignment(shuffled, maximize=True)].sum()
    z = float((chosen.sum() - null.mean()) / max(null.std(), 1e-12))
    return {"clear_pairs": int((margins > 0).sum()), "min_margin": float(margins.min()), "z": z}


NEAR_CHANCE_Z = 2.0  # below this many sd over optimised matchings of shuffled evidence, a matching is a guess


SPANNING_KINDS = ("fused", "structure", "features")  # cheap enough to pair every two groups
SPANNING_MAX_GROUPS = 32  # above, G (G - 1) / 2 pairings (each with its confidence) cost seconds: the star


def _clearness(info: dict) -> float:
    """How clearly a pairing's evidence decides it: its confidence ``z``, or (``structure``, which has
    none) its distance structures' correlation."""
    conf = info.get("confidence")
    return float(conf["z"]) if conf else float(info["structure"])


def pairing_clearness(records: list[dict]) -> float:
    """How clearly a matching's pairings are decided, over the non-reference groups of
    :func:`align_teachers`' records: the mean of each pairing's confidence ``z`` (or, for
    ``structure``, its distance structures' correlation)."""
    pairs = [r for r in records if not r.get("reference")]
    return float(np.mean([_clearness(r) for r in pairs])) if pairs else 0.0


def _spanning_tree(n_groups: int, weight: dict) -> list[tuple[int, int]]:
    """Kruskal's maximum spanning tree over the groups, edges ``(a, b)`` weighted by ``weight``."""
    root = list(range(n_groups))

    def find(a: int) -> int:
        while root[a] != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    tree = []
    for a, b in sorted(weight, key=lambda e: (-weight[e], e)):
        if find(a) != find(b):
            root[find(a)] = find(b)
            tree.append((a, b))
    return tree


def _pairings(X: np.ndarray, P: np.ndarray, group_codes: np.ndarray, ref: int, kind: str,
              seed: int) -> dict[int, tuple[int, np.ndarray, dict]]:
    """Every non-reference group's pairing: ``{g: (parent, perm, info)}``, ``perm[i]`` the group's
    cluster paired with the parent's cluster ``i``, each parent before its children. The parent is the reference (a star), or, for the
    centroid kinds with more than two groups, g's neighbour towards the reference in the maximum
    spanning tree of all pairings' clearness."""
    n_groups = int(group_codes.max()) + 1
    masks = [group_codes == g for g in range(n_groups)]
    sizes = [int(m.sum()) for m in masks]

    def pair(a: int, b: int) -> tuple[np.ndarray, dict]:  # a is the larger (the reference's side)
        return match(X[masks[a]], P[masks[a]], X[masks[b]], P[masks[b]], kind=kind, seed=seed + b)

    if n_groups <= 2 or n_groups > SPANNING_MAX_GROUPS or kind not in SPANNING_KINDS:
        return {g: (ref, *pair(ref, g)) for g in range(n_groups) if g != ref}
    first = {}  # (a, b), a the larger group (the reference before any other), -> (perm, info)
    for a in range(n_groups):
        for b in range(a + 1, n_groups):
            a_, b_ = sorted((a, b), key=lambda h: (h != ref, -sizes[h], h))
            first[(a_, b_)] = pair(a_, b_)
    tree = _spanning_tree(n_groups, {e: _clearness(info) for e, (_, info) in first.items()})
    out, frontier = {}, [ref]
    while frontier:
        u = frontier.pop(0)
        for a, b in tree:
            if u not in (a, b):
                continue
            v = b if u == a else a
            if v == ref or v in out:
                continue
            perm, info = first[(a, b)]
            out[v] = (u, perm if u == a else np.argsort(perm), info)  # the parent's cluster i <-> v's perm[i]
            frontier.append(v)
    return out


def align_teachers(X: np.ndarray, P: np.ndarray, group_codes: np.ndarray, *, kind: str = "fused",
                   seed: int = 0) -> tuple[np.ndarray, list[dict]]:
    """Permute each group's teacher columns so that cluster k means the same thing in every group.

    The largest group is the reference. Every other group is paired with the reference, or (more
    than two groups, a centroid kind) with its neighbour towards the reference in the maximum
    spanning tree of the clearest pairings, and the permutations compose along the tree. Returns a
    copy of ``P`` with each group's columns reordered, and one evidence record per group (``perm``:
    the reference's cluster i is the group's original cluster ``perm[i]``; ``via``: the group it was
    paired with; ``sign``: its contrast sign relative to the reference).
    """
    kind = resolve_kind(kind, X)
    n_groups = int(group_codes.max()) + 1
    ref = int(np.argmax(np.bincount(group_codes, minlength=n_groups)))
    pairings = _pairings(X, P, group_codes, ref, kind, seed)
    composed = {ref: (np.arange(P.shape[1]), 1.0)}  # g -> (the reference's cluster i <-> g's perm[i], sign)
    for g, (parent, perm, info) in pairings.items():  # parents first
        up, sign = composed[parent]
        composed[g] = (perm[up], sign * float(info.get("sign", 1.0)))

    out = P.copy()
    records = []
    for g in range(n_groups):
        if g == ref:
            records.append({"group": g, "reference": True, "perm": list(range(P.shape[1]))})
            continue
        m = group_codes == g
        parent, _, info = pairings[g]
        perm, sign = composed[g]
        out[m] = P[m][:, perm]
        conf = info.get("confidence")
        if conf and (conf["z"] < NEAR_CHANCE_Z or conf["clear_pairs"] < (P.shape[1] + 1) // 2):
            whose = "the reference group's" if parent == ref else f"group {parent}'s"
            warnings.warn(f"group {g}: the teachers' clusters were matched to {whose} on weak evidence "
                          f"({conf['clear_pairs']} of {P.shape[1]} pairs clear, {conf['z']:.1f} sd over random "
                          "matchings); some clusters may be paired wrongly: look at teacher_matching.png",
                          FairclustWarning, stacklevel=2)
        records.append({"group": g, "reference": False, **info, "perm": perm.tolist(), "via": parent,
                        "sign": sign})
    return out, records
