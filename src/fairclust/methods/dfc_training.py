"""DFC's training: the trainer module (encoder, centres, critic, one optimizer, one step) and
the plain training loop around it (sampling, DDP, checkpoints, per-epoch evaluation, the
stopping rule). :class:`fairclust.methods.dfc.DeepFairClustering` builds the pieces and calls
:func:`train`; the mathematics is in :mod:`fairclust.losses`.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import distributed, metrics
from ..checkpoint import Checkpointer
from ..config import DFCConfig
from ..embedding import soft_assign
from ..losses import dfc_loss_terms
from ..nn import Critic, grad_reverse, grl_coefficient, nhwc, nhwc_input, sample_z, student_t
from ..sampling import BalancedSampler, sample_per_group
from ..schedule import Schedule
from ..utils import progress


class DFCTrainer(nn.Module):
    """Encoder + centres + critic, one Adam optimizer, one training step."""

    def __init__(self, encoder: nn.Module, centers: np.ndarray, n_groups: int, cfg: DFCConfig, schedule: Schedule):
        super().__init__()
        self.encoder = encoder
        self.centers = nn.Parameter(torch.as_tensor(centers, dtype=torch.float32).clone())
        self.critic = Critic(self.centers.shape[0], n_groups)
        self.n_groups = n_groups
        self.cfg = cfg
        self.schedule = schedule  # T: the learning-rate decay and the GRL ramp read it
        self.gather = None  # set by fairclust.distributed under DDP: all-gathers q across ranks
        nhwc(encoder)
        self.optimizer = torch.optim.Adam(
            [
                {"params": list(encoder.parameters()) + [self.centers], "lr": cfg.lr, "base_lr": cfg.lr},
                {"params": list(self.critic.parameters()), "lr": cfg.lr * cfg.critic_lr_mult,
                 "base_lr": cfg.lr * cfg.critic_lr_mult},
            ],
            weight_decay=cfg.weight_decay,
        )

    def assign(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encoder(x)
        return student_t(sample_z(mu, logvar, self.encoder.training), self.centers, self.cfg.t_alpha)

    def forward(self, t: int, x: torch.Tensor, p_teacher: torch.Tensor,
                g: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss of one iteration and its terms (what a DDP wrapper calls).

        Under DDP (``self.gather`` set), ``x``/``g`` are this rank's share of every
        group's batch and ``p_teacher`` the teachers' rows of the *whole* batch: L_c and
        L_s are computed on the all-gathered ``q``, so they are the one-process losses.
        """
        cfg = self.cfg
        q = self.assign(nhwc_input(x))
        q_all = q if self.gather is None else self.gather(q, self.n_groups)
        l_c, l_s = dfc_loss_terms(q_all, p_teacher, self.n_groups, cfg.align_groups, cfg.target == "teachers")
        logits = self.critic(grad_reverse(q, grl_coefficient(t, self.schedule.n_iters)))
        l_f = F.cross_entropy(logits, g)
        loss = l_c + cfg.alpha_f * l_f + cfg.alpha_s * l_s
        return loss, {"loss": loss.detach(), "L_c": l_c.detach(), "L_s": l_s.detach(), "L_f": l_f.detach()}

    def step(self, t: int, x: torch.Tensor, p_teacher: torch.Tensor, g: torch.Tensor,
             model: nn.Module | None = None) -> dict[str, torch.Tensor]:
        """One iteration at step ``t`` of the schedule's T; returns the loss terms (detached).

        ``model``: the DDP wrapper around this trainer, when training is distributed.
        """
        decay = self.schedule.lr_factor(t)
        for group in self.optimizer.param_groups:
            group["lr"] = group["base_lr"] * decay
        loss, terms = (model or self)(t, x, p_teacher, g)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return terms


def assign_all(trainer: DFCTrainer, Xt: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``q`` of every sample (encoder in eval mode), on the CPU."""
    return soft_assign(trainer.encoder, trainer.centers, Xt, device, trainer.cfg.t_alpha)


def _flush(history: dict, pending: list, t: int, bar) -> list:
    """Move the pending per-iteration loss records (ending at iteration ``t``) into ``history``."""
    for i, d in enumerate(pending):
        history["iteration"].append(t - len(pending) + 1 + i)
        for k_, v in d.items():
            history[k_].append(float(v))
    if pending:
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}")
    return []


def evaluation_sample(codes: np.ndarray, per_group: int, seed: int) -> np.ndarray | None:
    """The samples every evaluation reads: at most ``per_group`` of each group, drawn once with
    ``seed`` (``None``: all of them, when no group is larger or ``per_group`` is 0).

    The fraction of labels changed (the stopping rule) is then estimated on up to
    ``per_group`` samples per group (standard error below 0.001 at 20,000), at a fixed cost
    however large the data.
    """
    if not per_group or np.bincount(codes).max() <= per_group:
        return None
    return sample_per_group(codes, per_group, np.random.default_rng(seed))


def _evaluate(trainer: DFCTrainer, Xt: torch.Tensor, device: torch.device, codes: np.ndarray,
              y: np.ndarray | None, n_clusters: int, history: dict, iteration: int) -> torch.Tensor:
    """Assign the samples of ``Xt``, append the metrics (and the fraction of labels changed) to ``history``."""
    q = assign_all(trainer, Xt, device)
    labels = q.argmax(1).numpy()
    rep = metrics.report(labels, sensitive_features=codes, labels_true=y, n_clusters=n_clusters)
    rep.pop("information", None)
    previous = history.get("_labels")
    rep["changed"] = None if previous is None else float(np.mean(np.asarray(previous) != labels))
    history["_labels"] = labels.tolist()  # checkpointed with the history: a resumed run stops alike
    history["evals"].append({"iteration": iteration, **rep})
    trainer.train()
    return q


def train(trainer: DFCTrainer, Xt: torch.Tensor, P: torch.Tensor, codes: np.ndarray, *, seed: int,
          device: torch.device, dctx, ckpt: Checkpointer, y: np.ndarray | None, n_clusters: int,
          callbacks: list | None = None, verbose: bool = False) -> tuple[dict, torch.Tensor | None, float]:
    """Run DFC's iterations ``[start, T)`` (``start`` > 0 when resuming from ``ckpt``).

    The length, evaluation points and stopping rule are ``trainer.schedule``'s. ``callbacks``
    are also called once with iteration 0 before a fresh (not resumed) run starts.
    Evaluations read :func:`evaluation_sample` (``eval_max_samples`` per group).
    Returns the history, the final evaluation's ``q`` of every sample (rank 0; ``None`` when
    no evaluation ran at the end, or it read a sample) and the seconds spent.
    """
    n_groups = trainer.n_groups
    sched = trainer.schedule
    b = distributed.per_rank_batch(dctx, sched.batch_size)
    sampler = BalancedSampler(codes, b, seed)
    g_batch = torch.arange(n_groups, device=device).repeat_interleave(b // (dctx.world_size if dctx else 1))
    on_device = device.type == "cuda"
    X_src = Xt.to(device) if on_device else Xt
    P_src = P.to(device) if on_device else P
    history: dict = {"iteration": [], "loss": [], "L_c": [], "L_s": [], "L_f": [], "evals": []}
    sub = evaluation_sample(codes, trainer.cfg.eval_max_samples, seed)
    X_eval, codes_eval, y_eval = (Xt, codes, y) if sub is None else (
        Xt[torch.from_numpy(sub)], codes[sub], None if y is None else y[sub])
    start, pending = ckpt.restore(trainer, sampler, history)
    model = distributed.wrap(dctx, trainer)  # the one DDP wrapper (None in one process)
    t0 = time.perf_counter()
    trainer.train()
    stop, q_eval = False, None
    if start == 0:
        for cb in callbacks or ():
            cb(0, trainer)
    bar = progress(range(start, sched.n_iters), desc="DFC", enabled=verbose)
    with ckpt.catch_signals():
        for t in bar:
            batch = sampler.next()
            idx, p_idx = (torch.from_numpy(a) for a in (distributed.shard(dctx, batch, n_groups), batch))
            if on_device:
                idx, p_idx = idx.to(device), p_idx.to(device)
            terms = trainer.step(t, X_src[idx].to(device), P_src[p_idx].to(device), g_batch, model=model)
            pending.append(terms)
            for cb in callbacks or ():
                cb(t + 1, trainer)
            last = t == sched.n_iters - 1
            if len(pending) >= 50 or last:
                pending = _flush(history, pending, t, bar)
            q_eval = None
            if (t + 1) % sched.eval_every == 0 or last:
                if distributed.is_main():
                    q_eval = _evaluate(trainer, X_eval, device, codes_eval, y_eval, n_clusters, history, t + 1)
                    # DEC's stopping rule (the assignments stopped changing), or they stopped settling
                    stop = sched.stops([e["changed"] for e in history["evals"]])
                if sched.stop_tol > 0:
                    stop = distributed.broadcast_flag(dctx, stop)
            ckpt.after_iteration(t + 1, sched.n_iters, trainer, sampler, history, pending)
            if stop:
                pending = _flush(history, pending, t, bar)
                break
    ckpt.finish()
    history.pop("_labels", None)
    history["iterations_run"] = len(history["iteration"])
    if sub is not None:
        q_eval = None  # of a sample only: the caller assigns every sample
        history["eval_samples"] = len(sub)
    distributed.broadcast_module(dctx, trainer)  # every rank ends with rank 0's model
    return history, q_eval, time.perf_counter() - t0
