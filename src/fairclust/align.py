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
  removed. Contrast may also flip sign (an inverted copy is ``1 - x``): both signs are tried.

``kind="fused"`` (the default) maximises the sum of the two as correlations, each in
[-1, 1]: ``corr(D_ref, D_g[perm][:, perm]) + <F_ref, s F_g[perm]>``, with no weight to
tune. It is one quadratic assignment solved by :func:`scipy.optimize.quadratic_assignment`
(FAQ from several starts, then 2-opt): the feature term enters as fixed anchor nodes, one
per feature direction. ``kind="structure"`` uses distances only, ``kind="features"`` the
centroids only (a linear assignment).

``kind="transfer"`` uses the samples, not the centroids: a small classifier trained on the
reference group's teacher labels predicts the other group, one trained on the other group
predicts the reference, and the pairing is the linear assignment on the log evidence (the
geometric mean, over both directions, of the mean predicted probability of cluster i over the
members of cluster j), each classifier's bias towards some classes removed. Images are
augmented in training (resolution, scale, rotation, shift, stroke width) and entered with
their ink positive, so framing, blur and contrast sign matter less than shape; feature vectors
are standardised per group and go through an MLP. ``kind="auto"`` (the default recipe's) is
``transfer`` for images and ``features`` for feature vectors, where no augmentation is known to
keep a sample's class. Measured in docs/results.md (issue 19).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment, quadratic_assignment

from .errors import FairclustError, FairclustWarning

KINDS = ("fused", "structure", "features", "transfer", "auto")


def _canonical_batch(X: np.ndarray, size: int, thresh: float) -> np.ndarray:
    import torch
    from torch.nn import functional as F

    n, c, h, w = X.shape
    border = np.concatenate([X[:, :, 0, :], X[:, :, -1, :], X[:, :, :, 0], X[:, :, :, -1]], axis=2)
    bg = np.median(border.reshape(n, -1), axis=1).astype(np.float32)[:, None, None, None]
    centred = X - bg
    dev = np.abs(centred).max(1)  # n x h x w
    ink = dev > thresh * np.maximum(dev.reshape(n, -1).max(1), 1e-6)[:, None, None]
    rows, cols = ink.any(2), ink.any(1)  # n x h, n x w
    has = rows.any(1)
    r0 = np.where(has, rows.argmax(1), 0)
    r1 = np.where(has, h - rows[:, ::-1].argmax(1), h)
    c0 = np.where(has, cols.argmax(1), 0)
    c1 = np.where(has, w - cols[:, ::-1].argmax(1), w)
    side = np.maximum(r1 - r0, c1 - c0).astype(np.float32)
    # the square's centre and half side in grid_sample's [-1, 1] coordinates (align_corners=False)
    cy, cx = (r0 + r1) / h - 1.0, (c0 + c1) / w - 1.0
    theta = np.zeros((n, 2, 3), dtype=np.float32)
    theta[:, 0, 0], theta[:, 0, 2] = side / w, cx
    theta[:, 1, 1], theta[:, 1, 2] = side / h, cy
    grid = F.affine_grid(torch.from_numpy(theta), [n, c, size, size], align_corners=False)
    return F.grid_sample(torch.from_numpy(centred), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False).numpy()


def canonical_frame(X: np.ndarray, size: int = 16, thresh: float = 0.25) -> np.ndarray:
    """Each image cropped to the square around its ink and resized to ``size x size``; the rest as it is.

    Ink: pixels farther than ``thresh`` (of the image's largest deviation) from the median of
    its border, the background. The crop is a square centred on the ink's bounding box (a 1
    stays thin), the background subtracted, then resized (bilinear). Sources that frame the
    same digits differently (scikit-learn's 8x8 digits fill the box, MNIST keeps a margin,
    USPS fills it) then have comparable centroids; an inverted copy keeps its sign (ink below
    the background), which the ``features`` matching's two signs handle. Feature vectors
    (``N x D``) are returned unchanged. Used only to compare clusters across groups.
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 4:
        return X
    n, c, h, w = X.shape
    out = np.empty((n, c, size, size), dtype=np.float32)
    for s in range(0, n, 4096):  # batched: memory stays bounded on large sets
        out[s:s + 4096] = _canonical_batch(X[s:s + 4096], size, thresh)
    return out


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


def match(X_ref: np.ndarray, P_ref: np.ndarray, X_g: np.ndarray, P_g: np.ndarray, *, kind: str = "fused",
          seed: int = 0, restarts: int = 8) -> tuple[np.ndarray, dict]:
    """Permutation ``perm``: cluster ``i`` of the reference group <-> cluster ``perm[i]`` of group g.

    Returns the permutation and the evidence (``structure`` and ``features`` correlations
    of the chosen matching, the feature sign and ``kind``).
    """
    if kind not in KINDS:
        raise FairclustError(f"unknown matching {kind!r}; choose one of: {', '.join(KINDS)}")
    if kind == "auto":  # images: transfer (augmentations make it invariant to framing); vectors: centroids
        kind = "transfer" if np.ndim(X_ref) == 4 else "features"
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
    for sign in (1.0, -1.0):
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


TRANSFER_EPOCHS = 5  # passes of each transfer classifier over its group's samples ...
TRANSFER_MIN_STEPS = 300  # ... and at least this many updates (small groups)


def _transfer_input(X: np.ndarray) -> np.ndarray:
    """Images: each with its ink positive and its largest deviation 1. Vectors: standardised (per group)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 4:
        flat = X.reshape(len(X), -1)
        peak = flat[np.arange(len(X)), np.abs(flat).argmax(1)]
        return (X / np.where(np.abs(peak) > 1e-6, peak, 1.0)[:, None, None, None]).astype(np.float32)
    return ((X - X.mean(0)) / (X.std(0) + 1e-6)).astype(np.float32)


def _augment(x, gen):
    import torch
    from torch.nn import functional as F

    if x.ndim != 4:  # vectors: feature dropout and noise
        return x * (torch.rand(x.shape, generator=gen) > 0.1) + 0.1 * torch.randn(x.shape, generator=gen)
    n, _, h, w = x.shape
    s = int(torch.randint(max(4, h // 3), h + 1, (1,), generator=gen))
    if s < h:  # a random resolution: down and back up
        x = F.interpolate(F.interpolate(x, size=(s, s * w // h or 1), mode="area"), size=(h, w), mode="bilinear",
                          align_corners=False)
    ang = (torch.rand(n, generator=gen) - 0.5) * 0.5
    sc = 1 + (torch.rand(n, generator=gen) - 0.5) * 0.3
    th = torch.zeros(n, 2, 3)
    th[:, 0, 0], th[:, 0, 1] = torch.cos(ang) * sc, -torch.sin(ang) * sc
    th[:, 1, 0], th[:, 1, 1] = torch.sin(ang) * sc, torch.cos(ang) * sc
    th[:, :, 2] = (torch.rand(n, 2, generator=gen) - 0.5) * 0.2
    x = F.grid_sample(x, F.affine_grid(th, list(x.shape), align_corners=False), align_corners=False)
    r = float(torch.rand(1, generator=gen))
    if r < 0.25:  # thicker or thinner strokes
        x = F.max_pool2d(x, 3, 1, 1)
    elif r < 0.5:
        x = -F.max_pool2d(-x, 3, 1, 1)
    return x


def _transfer_probs(X_train: np.ndarray, labels: np.ndarray, X_test: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Train a small classifier on ``(X_train, labels)``; its class probabilities on ``X_test``.

    Seeded, and the caller's global torch random state is left as it was.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        return _train_transfer(X_train, labels, X_test, k, seed)


def _train_transfer(X_train: np.ndarray, labels: np.ndarray, X_test: np.ndarray, k: int, seed: int) -> np.ndarray:
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    if X_train.ndim == 4:
        c = X_train.shape[1]
        net = nn.Sequential(nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                            nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, k))
    else:
        net = nn.Sequential(nn.Linear(X_train.shape[1], 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, k))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    Xt, yt = torch.from_numpy(X_train), torch.from_numpy(labels.astype(np.int64))
    per_epoch = -(-len(Xt) // 128)
    steps = max(TRANSFER_EPOCHS * per_epoch, TRANSFER_MIN_STEPS)
    for step in range(steps):
        if step % per_epoch == 0:
            order = torch.randperm(len(Xt), generator=gen)
        b = order[(step % per_epoch) * 128:(step % per_epoch + 1) * 128]
        loss = F.cross_entropy(net(_augment(Xt[b], gen)), yt[b], label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        return torch.cat([F.softmax(net(torch.from_numpy(X_test[i:i + 2048])), 1)
                          for i in range(0, len(X_test), 2048)]).numpy()


def transfer_evidence(X_ref: np.ndarray, P_ref: np.ndarray, X_g: np.ndarray, P_g: np.ndarray,
                      seed: int = 0) -> np.ndarray:
    """Evidence (reference cluster i x group cluster j, in [0, 1]) that the two clusters are one, by transfer.

    ``M1[i, j]``: mean probability of the reference's cluster i, by a classifier trained on the
    reference's teacher labels, over group g's cluster j (soft members); ``M2`` the other way;
    returns their geometric mean ``sqrt(M1 M2)``.
    """
    k = P_ref.shape[1]
    A, B = _transfer_input(X_ref), _transfer_input(X_g)
    on_g = _transfer_probs(A, P_ref.argmax(1), B, k, seed)
    on_ref = _transfer_probs(B, P_g.argmax(1), A, k, seed + 1)
    M1 = on_g.T @ (P_g / np.maximum(P_g.sum(0), 1e-12))
    M2 = (on_ref.T @ (P_ref / np.maximum(P_ref.sum(0), 1e-12))).T
    return np.sqrt(M1 * M2)


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


def align_teachers(X: np.ndarray, P: np.ndarray, group_codes: np.ndarray, *, kind: str = "fused",
                   seed: int = 0) -> tuple[np.ndarray, list[dict]]:
    """Permute each group's teacher columns so that cluster k means the same thing in every group.

    The largest group is the reference; every other group is matched to it. Returns a
    copy of ``P`` with each group's columns reordered, and one evidence record per group
    (``perm``: the reference's cluster i is the group's original cluster ``perm[i]``).
    """
    n_groups = int(group_codes.max()) + 1
    ref = int(np.argmax(np.bincount(group_codes, minlength=n_groups)))
    m_ref = group_codes == ref
    out = P.copy()
    records = []
    for g in range(n_groups):
        if g == ref:
            records.append({"group": g, "reference": True, "perm": list(range(P.shape[1]))})
            continue
        m = group_codes == g
        perm, info = match(X[m_ref], P[m_ref], X[m], P[m], kind=kind, seed=seed + g)
        out[m] = P[m][:, perm]
        conf = info.get("confidence")
        if conf and (conf["z"] < NEAR_CHANCE_Z or conf["clear_pairs"] < (P.shape[1] + 1) // 2):
            warnings.warn(f"group {g}: the teachers' clusters were matched to the reference group's on weak evidence "
                          f"({conf['clear_pairs']} of {P.shape[1]} pairs clear, {conf['z']:.1f} sd over random "
                          "matchings); some clusters may be paired wrongly: look at teacher_matching.png",
                          FairclustWarning, stacklevel=2)
        records.append({"group": g, "reference": False, "perm": perm.tolist(), **info})
    return out, records
