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
from .validation import check_delta, check_sensitive


def share_bounds(codes: np.ndarray, delta: float, n_groups: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each group's largest and smallest share of a cluster: ``r_l / (1 - delta)`` and ``r_l (1 - delta)``."""
    r = np.bincount(codes, minlength=n_groups or 0) / len(codes)
    return r / (1.0 - delta), r * (1.0 - delta)


def fair_assignment_lp(D: np.ndarray, codes: np.ndarray, delta: float) -> tuple[np.ndarray, dict]:
    """Solve the fair-assignment LP for costs ``D`` (n x K); return ``x`` (n x K) and the bounds.

    Variables are ordered point-major (``x[j, i]`` is variable ``j * K + i``). The bounds dict
    also holds ``prices`` (M x K): the LP's dual prices as a cost per (group, cluster), so that
    ``argmin_i D[j, i] + prices[g(j), i]`` is the LP's choice for every point it does not split
    (its reduced costs); :func:`fair_labels` labels points outside the LP with them.
    """
    n, k = D.shape
    m = int(codes.max()) + 1
    alpha, beta = share_bounds(codes, delta, m)
    var = np.arange(n * k).reshape(n, k)
    a_eq = sparse.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), var.ravel())), shape=(n, n * k))
    # rows (i, l): upper  sum_{j in l} x_ij - alpha_l sum_j x_ij <= 0
    #              lower  beta_l sum_j x_ij - sum_{j in l} x_ij <= 0
    rows, cols, vals = [], [], []
    for l in range(m):
        in_l = (codes == l).astype(np.float64)
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
    prices = shared[None, :] - z[:, :, 0] + z[:, :, 1]
    return x, {"alpha": alpha, "beta": beta, "objective": float(res.fun) * scale, "prices": prices}


def constraint_violation(x: np.ndarray, codes: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> float:
    """Largest violation, in points, of the LP's fairness constraints by (fractional or 0/1) ``x``."""
    m = len(alpha)
    size = x.sum(0)
    per_group = np.stack([x[codes == l].sum(0) for l in range(m)])  # M x K
    over = per_group - alpha[:, None] * size[None]
    under = beta[:, None] * size[None] - per_group
    return float(max(over.max(), under.max(), 0.0))


def priced_labels(cost: np.ndarray, codes: np.ndarray, prices: np.ndarray, alpha: np.ndarray, beta: np.ndarray,
                  max_rounds: int = 200) -> tuple[np.ndarray, int]:
    """``argmin_i cost[j, i] + prices[g(j), i]`` for every point, with the prices corrected until
    each cluster holds each group's share within ``[beta, alpha]`` up to one point.

    Each round takes the worst-violated (group, cluster) pair and moves its price just enough
    to move the excess points (those closest to their next choice) out of the cluster, or the
    missing ones in: a dual ascent on the fair-assignment LP's fairness constraints, started
    from an LP's prices. Returns the labels and the rounds used (``max_rounds``: stops there,
    ``fair_labels`` then reports the remaining violation).
    """
    prices = np.array(prices, dtype=np.float64)
    n, k = cost.shape
    m = len(alpha)
    rounds = 0
    while True:
        adjusted = cost + prices[codes]
        labels = adjusted.argmin(1)
        counts = np.zeros((m, k))
        np.add.at(counts, (codes, labels), 1.0)
        size = counts.sum(0)
        over = counts - alpha[:, None] * size  # > 0: group l has too many points in cluster i
        under = beta[:, None] * size - counts
        worst = np.maximum(over, under)
        l, i = np.unravel_index(worst.argmax(), worst.shape)
        if worst[l, i] <= 1.0 or rounds >= max_rounds:  # within one point: what rounding a vertex costs
            return labels.astype(np.int64), rounds
        rounds += 1
        in_l = codes == l
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
                seed: int = 0) -> tuple[np.ndarray, dict]:
    """Hard labels as close to ``q`` as fairness allows (the ``fair_labels`` extension).

    ``groups``: one group per row of ``q``, any values (ints, strings ...; codes ``0..M-1``
    pass through unchanged). Returns ``(labels, info)``.

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
    codes, _ = check_sensitive(groups, q.shape[0])
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
