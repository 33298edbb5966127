"""The losses, in one place: the VAE's negative ELBO, DEC's target and divergence, DFC's L_c and L_s.

SPEC sections 1.2-1.3. Every function is pure torch on tensors.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def vae_loss(x: torch.Tensor, logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             kind: str, kl_weight: float) -> torch.Tensor:
    """Negative ELBO per sample (reconstruction summed over dimensions + weighted KL)."""
    x = x.flatten(1)
    logits = logits.flatten(1)
    if kind == "bce":
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    else:
        rec = 0.5 * F.mse_loss(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (rec + kl_weight * kl) / x.shape[0]


def dec_target(q: torch.Tensor) -> torch.Tensor:
    """DEC's auxiliary target ``t_ik ∝ q_ik^2 / f_k``, ``f_k = sum_i q_ik`` over the samples axis.

    ``q``: ``N x K``, or a stack ``M x b x K`` (one block per group; frequencies per group).
    """
    w = q.pow(2) / q.sum(-2, keepdim=True)
    return w / w.sum(-1, keepdim=True)


def kl_sum(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``sum_i KL(p_i || q_i)``: summed over clusters and over the rows (any leading shape);
    both clamped at 1e-12 inside the logs, so empty entries of ``p`` add nothing."""
    return torch.sum(p * (torch.log(p.clamp_min(1e-12)) - torch.log(q.clamp_min(1e-12))))


def dec_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``KL(p || q)`` summed over clusters, averaged over the rows (DEC's clustering loss)."""
    return kl_sum(p, q) / q.shape[0]


def dfc_loss_terms(q: torch.Tensor, p_teacher: torch.Tensor, n_groups: int,
                   cross_group: bool = False, teacher_target: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``L_c`` and ``L_s`` of one balanced batch (rows: group 0's b samples, then group 1's, ...).

    L_c = sum_g (1/M) sum_{i in g} KL(t_i || q_i), the target t computed per group per
    batch and detached; L_s = sum_g (1/M) ||Q_g Q_g^T - P_g P_g^T||_F^2 (summed entries).
    With ``cross_group`` (the alignment extension, teachers' clusters matched across
    groups beforehand), L_s = (1/M) ||Q Q^T - P P^T||_F^2 over the whole batch: the
    within-group blocks are the paper's term, the off-diagonal blocks tie the groups.
    """
    k = q.shape[1]
    qv = q.view(n_groups, -1, k)
    pv = p_teacher.view(n_groups, -1, k)
    # the paper: DEC's sharpened target of q itself; ``teacher_target``: the (aligned) teachers' P
    t = pv if teacher_target else dec_target(qv.detach())
    l_c = kl_sum(t, qv) / n_groups
    if cross_group:
        diff = q @ q.t() - p_teacher @ p_teacher.t()
    else:
        diff = torch.bmm(qv, qv.transpose(1, 2)) - torch.bmm(pv, pv.transpose(1, 2))
    l_s = diff.pow(2).sum() / n_groups
    return l_c, l_s
