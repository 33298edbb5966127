"""The fair-assignment LP (Bera, Chakrabarty, Flores, Negahbani, NeurIPS 2019; SPEC section 4) and
DFC's fair labels built on it (:func:`fair_labels`).

Given costs ``d(j, i)`` of point ``j`` in cluster ``i``, a linear program assigns the points:

    min  sum_ij d(j, i)^2 x_ij
    s.t. sum_i x_ij = 1                                           (every point j)
         beta_l sum_j x_ij <= sum_{j in l} x_ij <= alpha_l sum_j x_ij   (every centre i, group l)
         0 <= x_ij <= 1

with ``alpha_l = r_l / (1 - delta)`` and ``beta_l = r_l (1 - delta)``, ``r_l`` the share of
group ``l``. scipy's HiGHS (dual simplex) solves it on a sparse constraint matrix and
returns a vertex, so at most ``2 K M`` points are split between centres; rounding gives
each split point its largest share. Every fairness constraint is then violated by at most
the number of split points (``fractional_points_``), an additive bound in points.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from .errors import FairclustError, FairclustWarning
from .attributes import parse
from .validation import check_delta


def group_sets(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Every sample's groups as rows of an ``N x A`` matrix of ids ``0..G-1`` (``G`` returned).

    ``codes``: ``N`` group codes (one attribute, ids unchanged) or ``N x A`` (several attributes,
    each column's codes ``0..M_a-1``; attribute ``a``'s groups numbered after those of the columns
    before it). Each id is one set of share bounds: with several columns every sample sits in one
    group per attribute, and the bounds hold attribute by attribute (marginal fairness).
    """
    codes = np.asarray(codes, dtype=np.int64)
    if codes.ndim == 1:
        return codes[:, None], int(codes.max()) + 1
    sizes = codes.max(0) + 1
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return codes + offsets[None, :], int(sizes.sum())


def _group_counts(x: np.ndarray, ids: np.ndarray, n_groups: int) -> np.ndarray:
    """``G x K``: the (fractional) points of every group in every cluster."""
    out = np.zeros((n_groups, x.shape[1]))
    for a in range(ids.shape[1]):
        for i in range(x.shape[1]):
            out[:, i] += np.bincount(ids[:, a], weights=x[:, i], minlength=n_groups)
    return out


def share_bounds(codes: np.ndarray, delta: float, n_groups: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each group's largest and smallest share of a cluster: ``r_l / (1 - delta)`` and ``r_l (1 - delta)``
    (``codes`` as in :func:`group_sets`; ``r_l``: the group's share of the data)."""
    ids, m = group_sets(codes)
    r = np.bincount(ids.ravel(), minlength=max(m, n_groups or 0)) / ids.shape[0]
    return r / (1.0 - delta), r * (1.0 - delta)


def fair_assignment_lp(D: np.ndarray, codes: np.ndarray, delta: float) -> tuple[np.ndarray, dict]:
    """Solve the fair-assignment LP for costs ``D`` (n x K); return ``x`` (n x K) and the bounds.

    ``codes``: one group per point, or ``N x A`` (one per attribute: the bounds hold for every
    attribute's groups, :func:`group_sets`). Variables are ordered point-major (``x[j, i]`` is
    variable ``j * K + i``). The bounds dict also holds ``prices`` (G x K): the LP's dual prices as a
    cost per (group, cluster), so that ``argmin_i D[j, i] + sum of prices[g, i] over j's groups g``
    is the LP's choice for every point it does not split (its reduced costs); :func:`fair_labels`
    labels points outside the LP with them.
    """
    n, k = D.shape
    ids, m = group_sets(codes)
    alpha, beta = share_bounds(codes, delta, m)
    var = np.arange(n * k).reshape(n, k)
    a_eq = sparse.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), var.ravel())), shape=(n, n * k))
    # rows (i, l): upper  sum_{j in l} x_ij - alpha_l sum_j x_ij <= 0
    #              lower  beta_l sum_j x_ij - sum_{j in l} x_ij <= 0
    rows, cols, vals = [], [], []
    for l in range(m):
        in_l = (ids == l).any(1).astype(np.float64)
        for i in range(k):
            up, lo = 2 * (l * k + i), 2 * (l * k + i) + 1
            rows += [np.full(n, up), np.full(n, lo)]
            cols += [var[:, i], var[:, i]]
            vals += [in_l - alpha[l], beta[l] - in_l]
    a_ub = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(2 * m * k, n * k))
    scale = float(D.mean()) or 1.0
    res = linprog(D.ravel() / scale, A_ub=a_ub, b_ub=np.zeros(2 * m * k), A_eq=a_eq, b_eq=np.ones(n),
                  bounds=(0.0, 1.0), method="highs-ds")
    if res.status != 0:
        raise FairclustError(f"the fair-assignment LP failed ({res.message}); raise delta (e.g. delta=0.2)")
    x = np.clip(res.x.reshape(n, k), 0.0, 1.0)
    z = res.ineqlin.marginals.reshape(m, k, 2) * scale  # <= 0; [..., 0] upper rows, [..., 1] lower rows
    shared = (z[:, :, 0] * alpha[:, None] - z[:, :, 1] * beta[:, None]).sum(0)  # every group's part, per cluster
    # a point sits in A groups (one per attribute): each carries 1/A of the shared part
    prices = shared[None, :] / ids.shape[1] - z[:, :, 0] + z[:, :, 1]
    return x, {"alpha": alpha, "beta": beta, "objective": float(res.fun) * scale, "prices": prices}


def constraint_violation(x: np.ndarray, codes: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> float:
    """Largest violation, in points, of the LP's fairness constraints by (fractional or 0/1) ``x``."""
    ids, _ = group_sets(codes)
    size = x.sum(0)
    per_group = _group_counts(x, ids, len(alpha))  # G x K
    over = per_group - alpha[:, None] * size[None]
    under = beta[:, None] * size[None] - per_group
    return float(max(over.max(), under.max(), 0.0))


def priced_labels(cost: np.ndarray, codes: np.ndarray, prices: np.ndarray, alpha: np.ndarray, beta: np.ndarray,
                  max_rounds: int = 200) -> tuple[np.ndarray, int]:
    """``argmin_i cost[j, i] + sum of prices[g, i] over j's groups g`` for every point, with the
    prices corrected until each cluster holds each group's share within ``[beta, alpha]`` up to one point.

    Each round takes the worst-violated (group, cluster) pair and moves its price just enough
    to move the excess points (those closest to their next choice) out of the cluster, or the
    missing ones in: a dual ascent on the fair-assignment LP's fairness constraints, started
    from an LP's prices. Returns the labels and the rounds used (``max_rounds``: stops there,
    ``fair_labels`` then reports the remaining violation).
    """
    prices = np.array(prices, dtype=np.float64)
    ids, _ = group_sets(codes)
    k = cost.shape[1]
    m = len(alpha)
    rounds = 0
    while True:
        adjusted = cost + prices[ids].sum(1)
        labels = adjusted.argmin(1)
        counts = sum(np.bincount(ids[:, a] * k + labels, minlength=m * k) for a in range(ids.shape[1]))
        counts = counts.reshape(m, k).astype(np.float64)
        size = np.bincount(labels, minlength=k).astype(np.float64)
        over = counts - alpha[:, None] * size  # > 0: group l has too many points in cluster i
        under = beta[:, None] * size - counts
        worst = np.maximum(over, under)
        l, i = np.unravel_index(worst.argmax(), worst.shape)
        if worst[l, i] <= 1.0 or rounds >= max_rounds:  # within one point: what rounding a vertex costs
            return labels.astype(np.int64), rounds
        rounds += 1
        in_l = (ids == l).any(1)
        if over[l, i] >= under[l, i]:  # raise the price of (l, i) past the gap of the points to move out
            need = int(np.ceil(over[l, i] / max(1.0 - alpha[l], 1e-12)))
            who = np.flatnonzero(in_l & (labels == i))
            rest = np.delete(adjusted[who], i, axis=1)
            gaps = np.sort(rest.min(1) - adjusted[who, i])
            prices[l, i] += gaps[min(need, len(gaps)) - 1] + 1e-9
        else:  # lower it past the gap of the points to move in
            need = int(np.ceil(under[l, i] / max(1.0 - beta[l], 1e-12)))
            who = np.flatnonzero(in_l & (labels != i))
            gaps = np.sort(adjusted[who, i] - adjusted[who].min(1))
            prices[l, i] -= gaps[min(need, len(gaps)) - 1] + 1e-9


def fair_labels(q: np.ndarray, groups: Any, delta: float, *, max_samples: int = 0,
                seed: int = 0, notion: str = "marginal") -> tuple[np.ndarray, dict]:
    """Hard labels as close to ``q`` as fairness allows (the ``fair_labels`` extension).

    ``groups``: one group per row of ``q``, any values (ints, strings ...; codes ``0..M-1``
    pass through unchanged); or several attributes (``N x A``, a DataFrame, a dict of columns:
    :mod:`fairclust.attributes`), whose bounds hold attribute by attribute (``notion="marginal"``)
    or for every combination of their values (``"intersection"``). Returns ``(labels, info)``.

    Minimises ``sum_i -log q[i, label_i]`` subject to every cluster holding each group ``l``
    in the share ``[r_l (1 - delta), r_l / (1 - delta)]`` (``r_l``: the group's share of the
    data): FAlg's fair-assignment LP (:func:`fair_assignment_lp`) with
    DFC's soft assignments as costs, then each point split by the LP goes to its largest
    share. The LP's vertex splits at most ``2 K M`` points, which bounds the violation after
    rounding (in points). ``info``: ``delta``, ``changed`` (labels that differ from the
    argmax), ``fractional_points`` and the largest violation, in points, of the LP's solution
    and of the labels.

    ``max_samples`` (0: no limit): with more samples, the LP is solved on a uniform sample of
    that many (drawn with ``seed``) and its dual prices label every sample
    (:func:`priced_labels`, which corrects the prices until the whole data set meets the
    bounds): the cost no longer grows faster than N. ``info["violation"]`` is measured on all
    samples; ``lp_violation`` and ``fractional_points`` are then the sample's LP's.
    """
    q = np.asarray(q)
    if q.ndim != 2:
        raise FairclustError(f"q has shape {q.shape}; pass the N x K soft assignment (e.g. model.predict_proba(X))")
    codes = parse(groups, q.shape[0]).columns(notion)
    codes = codes.reshape(-1) if codes.shape[1] == 1 else codes
    check_delta(delta, "delta")
    cost = -np.log(np.clip(q, 1e-12, None))
    n = q.shape[0]
    info: dict = {"delta": float(delta)}
    if max_samples and n > max_samples:
        sub = np.sort(np.random.default_rng(seed).choice(n, int(max_samples), replace=False))
        x, lp = fair_assignment_lp(cost[sub], codes[sub], delta)
        alpha, beta = share_bounds(codes, delta)
        labels, rounds = priced_labels(cost, codes, lp["prices"], alpha, beta)
        info.update(lp_samples=int(max_samples), price_rounds=rounds,
                    lp_violation=constraint_violation(x, codes[sub], lp["alpha"], lp["beta"]))
    else:
        x, lp = fair_assignment_lp(cost, codes, delta)
        labels = x.argmax(1).astype(np.int64)
        alpha, beta = lp["alpha"], lp["beta"]
        info["lp_violation"] = constraint_violation(x, codes, alpha, beta)
    onehot = np.zeros((n, q.shape[1]))
    onehot[np.arange(n), labels] = 1.0
    info.update(changed=int((labels != q.argmax(1)).sum()), fractional_points=int(((x > 1e-9).sum(1) > 1).sum()),
                violation=constraint_violation(onehot, codes, alpha, beta))
    if "price_rounds" in info and info["violation"] > 1.0:
        warnings.warn(f"the fair labels miss a share bound by {info['violation']:.0f} points after "
                      f"{info['price_rounds']} price corrections; pass a larger delta", FairclustWarning, stacklevel=2)
    return labels, info


def fair_prior_shift(P: np.ndarray, codes: np.ndarray, *, iters: int = 200, tol: float = 1e-8) -> np.ndarray:
    """Soft assignments ``P`` (rows sum to 1) re-weighted per group so that every group spreads over the
    clusters alike: group g's rows become ``P[i, k] w[g, k] / sum_k' P[i, k'] w[g, k']`` with the weights
    chosen (Sinkhorn's scaling) so that each group's mean assignment equals the whole data's
    ``pi = P.mean(0)``.

    This is the entropic optimal transport of each group's samples onto the common cluster shares with
    costs ``-log P`` (a change of each group's cluster prior, Bayes' rule): the mass it moves is that of
    the samples ``P`` is least sure of, and a sample ``P`` is sure of keeps its cluster. DFC takes it
    as L_c's target with ``fair_targets=True`` (an ablation: on the embedded sets it left the argmax of
    ``q`` as unfair as the plain teachers, docs/results.md, so no recipe turns it on).
    """
    P = np.asarray(P, dtype=np.float64)
    pi = P.mean(0)
    out = np.empty_like(P)
    for g in np.unique(codes):
        rows = P[codes == g] + 1e-12
        w = np.ones(P.shape[1])
        for _ in range(iters):
            Q = rows * w
            Q /= Q.sum(1, keepdims=True)
            mean = Q.mean(0)
            if np.abs(mean - pi).max() < tol:
                break
            w *= pi / np.maximum(mean, 1e-300)
        out[codes == g] = Q
    return out.astype(np.float32)


CURVE_DELTAS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)  # fair_labels' delta along the trade-off curve


def fairness_curve(q: np.ndarray, groups: Any, deltas: tuple[float, ...] = CURVE_DELTAS, *, max_samples: int = 0,
                   seed: int = 0, notion: str = "marginal") -> list[dict]:
    """The labels of ``q`` from the fairest to the argmax: :func:`fair_labels` at every ``delta`` (each
    cluster holds each group's share within a factor ``1 - delta``), then the argmax (``delta`` None).

    Each point: ``delta``, ``labels`` and ``changed`` (labels that differ from the argmax). A user reads
    what fairness costs along it (``metrics.json["fairness_curve"]``, ``tradeoff.png``) and picks a
    delta knowingly.
    """
    q = np.asarray(q)
    argmax = q.argmax(1)
    out = []
    for delta in deltas:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FairclustWarning)  # a missed bound is measured, not warned, here
            labels, info = fair_labels(q, groups, delta, max_samples=max_samples, seed=seed, notion=notion)
        out.append({"delta": float(delta), "labels": labels, "changed": info["changed"]})
    out.append({"delta": None, "labels": argmax, "changed": 0})
    return out
