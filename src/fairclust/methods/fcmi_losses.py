"""FCMI's loss terms (Zeng et al., CVPR 2023), as pure functions of tensors.

Notation, for one mini-batch of ``n`` samples: ``h_i`` the unit-norm representation of
sample ``i``, ``g_i`` its group, ``c_k`` the unit-norm centroid of cluster ``k`` (k-means on
the representations, refreshed every epoch, no gradient), and the soft assignment

    p_ik = softmax_k(<h_i, c_k> / tau)

The batch's joint distribution of cluster and group is ``pi_kg = (1/n) sum_{i: g_i = g} p_ik``
with marginals ``P(k) = sum_g pi_kg`` and ``P(g) = sum_k pi_kg = n_g / n``.

The paper maximises I(X; C | G) (compact, balanced clusters) and minimises I(G; C) (fair
clusters), next to an auto-encoder's reconstruction (informative features). With
``I(X; C | G) = H(C | G) - H(C | X)`` and ``H(C | G) = H(C) - I(G; C)``, the authors' code
(``networkExplicitDecoupleShuffle.py`` lines 632-715) optimises

    L = L_rec + alpha * (-H(C) + H(C | X)) + beta * I(G; C)

(``alpha`` = LambdaClu = 0.04 on both ``-H(C)`` and ``H(C | X)``, ``beta`` = LambdaFair = 0.2;
the ``alpha * I(G; C)`` inside ``-alpha * I(X; C | G)`` is folded into ``beta``). Each term
below is one summand; :func:`fcmi_objective` adds them. ``H(C | X)`` uses its own
temperature ``tau_onehot`` (the paper's "one-hot" term), ``H(C)`` and ``I(G; C)`` share
``tau_balance``; both are 0.1 in the authors' defaults.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

_TINY = 1e-12  # floor inside logarithms (a cluster that receives no mass at all)


def soft_assignment(h: torch.Tensor, centers: torch.Tensor, tau: float) -> torch.Tensor:
    """``p_ik = exp(<h_i, c_k> / tau) / sum_j exp(<h_i, c_j> / tau)`` (``h``: n x d, ``centers``: K x d,
    both rows of unit norm; rows of the result sum to 1)."""
    return F.softmax(h @ centers.t() / tau, dim=1)


def joint_distribution(p: torch.Tensor, groups: torch.Tensor, n_groups: int) -> torch.Tensor:
    """``pi_kg = (1/n) sum_{i: g_i = g} p_ik`` (K x M, sums to 1), the columns of groups absent
    from the batch dropped (their terms are ``0 log 0 = 0``).

    ``p``: n x K soft assignments; ``groups``: n group codes in ``0..n_groups-1``.
    """
    counts = torch.zeros(p.shape[1], n_groups, dtype=p.dtype, device=p.device)
    counts = counts.index_add(1, groups, p.t())
    present = torch.bincount(groups, minlength=n_groups) > 0
    return counts[:, present] / p.shape[0]


def neg_cluster_entropy(pi: torch.Tensor) -> torch.Tensor:
    """``-H(C) = sum_k P(k) log P(k)``, ``P(k) = sum_g pi_kg``: minimising it balances the
    clusters' sizes (the authors' ``InfoBalanceLoss``)."""
    pk = pi.sum(1)
    return torch.sum(pk * torch.log(pk.clamp_min(_TINY)))


def group_mutual_information(pi: torch.Tensor) -> torch.Tensor:
    """``I(G; C) = sum_{k,g} pi_kg log(pi_kg / (P(k) P(g)))``: zero when every cluster holds
    each group in its share of the batch (the authors' ``InfoFairLoss``)."""
    pk = pi.sum(1, keepdim=True)
    pg = pi.sum(0, keepdim=True)
    return torch.sum(pi * (torch.log(pi.clamp_min(_TINY)) - torch.log((pk * pg).clamp_min(_TINY))))


def conditional_entropy(p: torch.Tensor) -> torch.Tensor:
    """``H(C | X) = -(1/n) sum_i sum_k p_ik log(p_ik + 1e-8)``: minimising it makes every
    assignment one-hot, i.e. compact clusters (the authors' ``OneHot`` term, their 1e-8)."""
    return -torch.sum(p * torch.log(p + 1e-8)) / p.shape[0]


def reconstruction_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """``L_rec = (1 / (n D)) sum_i ||x_i - D_{g_i}(h_i)||^2``: the mean squared error over every
    entry, each sample decoded by its own group's decoder (maximises I(X; X'))."""
    return F.mse_loss(x_rec.reshape(x.shape), x)


def fcmi_objective(h: torch.Tensor, centers: torch.Tensor, groups: torch.Tensor, n_groups, *,
                   alpha: float, beta: float, tau_balance: float, tau_onehot: float) -> tuple[torch.Tensor, dict]:
    """The clustering part of FCMI's loss on one batch:
    ``alpha * (-H(C) + H(C | X)) + beta * I(G; C)``, and its terms (detached).

    ``groups``: ``n`` codes (``n_groups`` of them), or ``n x A`` for several attributes kept fair
    one by one (``n_groups``: each attribute's count), whose ``I(G_a; C)`` are summed."""
    p = soft_assignment(h, centers, tau_balance)
    if groups.ndim == 1:
        pi = joint_distribution(p, groups, n_groups)
        neg_h = neg_cluster_entropy(pi)
        mi = group_mutual_information(pi)
    else:  # several attributes, marginal fairness: one I(G_a; C) per attribute (column), summed
        pis = [joint_distribution(p, groups[:, a], int(m)) for a, m in enumerate(n_groups)]
        neg_h = neg_cluster_entropy(pis[0])
        mi = sum(group_mutual_information(pi) for pi in pis)
    h_cx = conditional_entropy(soft_assignment(h, centers, tau_onehot))
    loss = alpha * (neg_h + h_cx) + beta * mi
    return loss, {"neg_H_C": neg_h.detach(), "H_C_given_X": h_cx.detach(), "I_G_C": mi.detach()}
