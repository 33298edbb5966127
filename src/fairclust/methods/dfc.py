"""Deep Fair Clustering (Li, Zhao, Liu, CVPR 2020), SPEC section 1.

The public estimator :class:`DeepFairClustering` is a thin scikit-learn layer over
:class:`DFCTrainer`, which owns the torch state (encoder, centres, critic, optimizer)
and one training iteration, and :func:`dfc_loss_terms`, which owns the mathematics.

``labels_`` are the DFC head's own labels: ``argmax_k q_ik`` with the encoder in eval
mode (z = mu) over *all* samples - not a k-means run on the final embedding.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import distributed, metrics
from ..align import align_teachers
from ..cache import StageCache, fingerprint
from ..checkpoint import Checkpointer, load_safely
from ..config import DFCConfig, resolve
from ..errors import FairclustError
from ..nn import ConvEncoder, Critic, grad_reverse, grl_coefficient, make_encoder, sample_z, student_t
from ..pretrain import Pretrainer, embed, soft_assign
from ..utils import BalancedSampler, atomic_save, progress, resolve_device, seed_everything
from .base import EmbeddingMixin, FairClusterMixin
from .falg import constraint_violation, fair_assignment_lp

FORMAT = "fairclust-dfc"
FORMAT_VERSION = 1


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
    t = pv if teacher_target else dec_target_batched(qv.detach())
    l_c = torch.sum(t * (torch.log(t.clamp_min(1e-12)) - torch.log(qv.clamp_min(1e-12)))) / n_groups
    if cross_group:
        diff = q @ q.t() - p_teacher @ p_teacher.t()
    else:
        diff = torch.bmm(qv, qv.transpose(1, 2)) - torch.bmm(pv, pv.transpose(1, 2))
    l_s = diff.pow(2).sum() / n_groups
    return l_c, l_s


def fair_labels(q: np.ndarray, codes: np.ndarray, delta: float) -> tuple[np.ndarray, dict]:
    """Hard labels as close to ``q`` as fairness allows (the ``fair_labels`` extension).

    Minimises ``sum_i -log q[i, label_i]`` subject to every cluster holding each group ``l``
    in the share ``[r_l (1 - delta), r_l / (1 - delta)]`` (``r_l``: the group's share of the
    data): FAlg's fair-assignment LP (:func:`fairclust.methods.falg.fair_assignment_lp`) with
    DFC's soft assignments as costs, then each point split by the LP goes to its largest
    share. The LP's vertex splits at most ``2 K M`` points, which bounds the violation after
    rounding (in points). Returns the labels and a summary.
    """
    x, lp = fair_assignment_lp(-np.log(np.clip(q, 1e-12, None)), codes, delta)
    labels = x.argmax(1).astype(np.int64)
    onehot = np.zeros_like(x)
    onehot[np.arange(len(labels)), labels] = 1.0
    info = {"delta": float(delta), "changed": int((labels != q.argmax(1)).sum()),
            "fractional_points": int(((x > 1e-9).sum(1) > 1).sum()),
            "lp_violation": constraint_violation(x, codes, lp["alpha"], lp["beta"]),
            "violation": constraint_violation(onehot, codes, lp["alpha"], lp["beta"])}
    return labels, info


def dec_target_batched(q: torch.Tensor) -> torch.Tensor:
    """DEC target for a stack of groups ``(M, b, K)``: frequencies per group."""
    w = q.pow(2) / q.sum(1, keepdim=True)
    return w / w.sum(2, keepdim=True)


class DFCTrainer(nn.Module):
    """Encoder + centres + critic, one Adam optimizer, one training step."""

    def __init__(self, encoder: nn.Module, centers: np.ndarray, n_groups: int, cfg: DFCConfig):
        super().__init__()
        self.encoder = encoder
        self.centers = nn.Parameter(torch.as_tensor(centers, dtype=torch.float32).clone())
        self.critic = Critic(self.centers.shape[0], n_groups)
        self.n_groups = n_groups
        self.cfg = cfg
        self.gather = None  # set by fairclust.distributed under DDP: all-gathers q across ranks
        if isinstance(encoder, ConvEncoder):  # NHWC convolutions: same values, ~1.3x faster (docs/benchmarks.md)
            encoder.to(memory_format=torch.channels_last)
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
        if x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        q = self.assign(x)
        q_all = q if self.gather is None else self.gather(q, self.n_groups)
        l_c, l_s = dfc_loss_terms(q_all, p_teacher, self.n_groups, cfg.align_groups, cfg.target == "teachers")
        logits = self.critic(grad_reverse(q, grl_coefficient(t, cfg.n_iters)))
        l_f = F.cross_entropy(logits, g)
        loss = l_c + cfg.alpha_f * l_f + cfg.alpha_s * l_s
        return loss, {"loss": loss.detach(), "L_c": l_c.detach(), "L_s": l_s.detach(), "L_f": l_f.detach()}

    def step(self, t: int, x: torch.Tensor, p_teacher: torch.Tensor, g: torch.Tensor,
             model: nn.Module | None = None) -> dict[str, torch.Tensor]:
        """One iteration at step ``t`` of ``n_iters``; returns the loss terms (detached).

        ``model``: the DDP wrapper around this trainer, when training is distributed.
        """
        decay = (1.0 + 10.0 * t / self.cfg.n_iters) ** -0.75
        for group in self.optimizer.param_groups:
            group["lr"] = group["base_lr"] * decay
        loss, terms = (model or self)(t, x, p_teacher, g)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return terms


class DeepFairClustering(EmbeddingMixin, FairClusterMixin):
    """Deep Fair Clustering: clusters that are meaningful and independent of a group.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters K.
    recipe : {"default", "faithful", "paper"}, default="default"
        Named hyper-parameter set (see :mod:`fairclust.config`). ``paper`` is SPEC §1.4;
        ``faithful`` the paper's method sized for a CPU and data sets of a few thousand
        samples; ``default`` adds the extensions: strong teachers, cross-group matching,
        teacher targets, fair labels and a data-sized schedule (README, "Recipes").
    alpha_f, alpha_s : float, default=None
        Weights of the fairness-adversarial and structural-preservation losses
        (recipe: 1 and 1).
    n_iters, batch_size, lr : default=None
        DFC iterations T (replaces the default recipe's epochs), samples per group per
        batch b, Adam learning rate.
    epochs, stop_tol : float, default=None
        Data-sized schedule: T = ``epochs`` passes over the largest group, with the labels
        checked once per epoch; training stops when fewer than ``stop_tol`` of them changed
        (DEC's rule). Default recipe: 15 and 0.01; ``faithful``/``paper``: fixed T.
    pretrain_epochs, teacher_epochs, dec_iters, latent_dim : default=None
        Pretraining lengths (shared VAE, per-group VAEs, per-group DEC) and embedding size.
    teacher : {"auto", "vae-umap", "umap", "dec"}, default=None
        Per-group teachers (:mod:`fairclust.teachers`): UMAP + Gaussian mixture on the
        shared embedding or on the input, ``auto`` (default recipe) the better separated of
        the two per group, or the paper's VAE + DEC.
    align_groups : bool, default=None
        The alignment extension (:mod:`fairclust.align`): match the teachers' clusters
        across groups, and preserve affinities across groups too.
    matching : {"features", "fused", "structure"}, default=None
        How clusters are matched across groups (:func:`fairclust.align.match`).
    fair_labels : float in [0, 1) or False, default=None
        The fair-labels extension: ``labels_`` become the hard assignment closest to the
        trained ``q`` in which every cluster holds each group's share of the data within a
        factor ``1 - fair_labels`` (see :func:`fair_labels`; 0.05 gives Balance >= ~0.9).
        ``None``: the recipe's (default 0.05; ``faithful``/``paper``: off); ``False``:
        ``labels_`` is the argmax of ``q``. The model itself is unchanged, and
        :meth:`predict` on new samples (no groups) takes the argmax.
    device : str, default=None
        ``"cpu"``, ``"cuda"``; ``None`` picks CUDA when available.
    cache_dir : str or False, default=None
        Where pretraining stages are cached (``None``: ``$FAIRCLUST_CACHE`` or
        ``~/.cache/fairclust``; ``False``: no cache).
    random_state : int, default=None
        Seed for every random choice (pretraining, sampling, initialisation).
    verbose : bool, default=False
        Progress bars for each stage.
    checkpoint_path : str, default=None
        Where to checkpoint the DFC training loop: every ``checkpoint_every`` iterations
        and on SIGINT/SIGTERM (then ``fit`` raises
        :class:`~fairclust.checkpoint.TrainingInterrupted`). Removed when ``fit`` ends.
    checkpoint_every : int, default=100
        Iterations between checkpoints (0: only on a signal).
    resume : bool, default=False
        Continue from the checkpoint at ``checkpoint_path`` when there is one; the labels
        equal those of an uninterrupted run with the same seed.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        ``argmax_k q_ik`` of the trained DFC head (encoder in eval mode), all samples.
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
        Learned centres in the embedding space.
    history_ : dict
        ``iteration, loss, L_c, L_s, L_f`` per iteration and ``evals``: periodic metrics.
    fair_labels_info_ : dict or None
        With ``fair_labels``: ``delta``, ``changed`` (labels that differ from the argmax),
        ``fractional_points`` (split by the LP) and the largest constraint violation, in
        points, of the LP solution and of the rounded labels.
    teacher_labels_ : ndarray of shape (n_samples,)
        Each sample's label from its own group's DEC teacher (the "individual partition").
    timings_ : dict
        Seconds per stage.
    config_ : dict
        The resolved hyper-parameters.

    Examples
    --------
    >>> from fairclust import DeepFairClustering
    >>> from fairclust.data import load_dataset
    >>> ds = load_dataset("digits-reverse")
    >>> model = DeepFairClustering(n_clusters=10, random_state=0).fit(ds.X, sensitive_features=ds.sensitive)
    >>> model.labels_.shape
    (3594,)
    """

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", alpha_f: float | None = None,
                 alpha_s: float | None = None, n_iters: int | None = None, batch_size: int | None = None,
                 lr: float | None = None, pretrain_epochs: int | None = None, teacher_epochs: int | None = None,
                 dec_iters: int | None = None, latent_dim: int | None = None, align_groups: bool | None = None,
                 fair_labels: float | bool | None = None, teacher: str | None = None, matching: str | None = None,
                 epochs: float | None = None, stop_tol: float | None = None, device: str | None = None,
                 cache_dir: str | bool | None = None, random_state: int | None = None, verbose: bool = False,
                 checkpoint_path: str | None = None, checkpoint_every: int = 100, resume: bool = False):
        self.n_clusters = n_clusters
        self.recipe = recipe
        self.alpha_f = alpha_f
        self.alpha_s = alpha_s
        self.n_iters = n_iters
        self.batch_size = batch_size
        self.lr = lr
        self.pretrain_epochs = pretrain_epochs
        self.teacher_epochs = teacher_epochs
        self.dec_iters = dec_iters
        self.latent_dim = latent_dim
        self.align_groups = align_groups
        self.fair_labels = fair_labels
        self.teacher = teacher
        self.matching = matching
        self.epochs = epochs
        self.stop_tol = stop_tol
        self.device = device
        self.cache_dir = cache_dir
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.resume = resume

    # ------------------------------------------------------------------ helpers
    def _config(self) -> DFCConfig:
        return resolve(self.recipe, alpha_f=self.alpha_f, alpha_s=self.alpha_s, n_iters=self.n_iters,
                       batch_size=self.batch_size, lr=self.lr, pretrain_epochs=self.pretrain_epochs,
                       teacher_epochs=self.teacher_epochs, dec_iters=self.dec_iters, latent_dim=self.latent_dim,
                       align_groups=self.align_groups, fair_labels=self.fair_labels, teacher=self.teacher,
                       matching=self.matching, epochs=self.epochs, stop_tol=self.stop_tol)

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any,
            callbacks: list | None = None) -> "DeepFairClustering":
        """Pretrain (cached), then train DFC on ``X`` with groups ``sensitive_features``.

        ``y``, when given, is used only to report accuracy/NMI in ``history_``; it never
        influences training. ``callbacks``: callables ``cb(iteration, trainer)`` run after
        every DFC iteration (``iteration`` counts from 1; e.g. to snapshot the embedding).
        """
        t_start = time.perf_counter()
        X, codes = self._validate_fit(X, sensitive_features)
        seed = self._fit_seed()
        cfg = self._config()
        n_groups = len(self.groups_)
        Xt = torch.from_numpy(self._fit_scaler(X))
        y_arr = None if y is None else np.asarray(y).reshape(-1)
        if y_arr is not None and y_arr.shape[0] != X.shape[0]:
            raise FairclustError(f"X has {X.shape[0]} samples but y has {y_arr.shape[0]}; pass one label per sample")
        dctx = distributed.context(self.device)  # under torchrun: this rank (fairclust.distributed)
        distributed.check_supported(dctx, resume=self.resume)
        device = dctx.device if dctx else self._device()
        verbose = self.verbose and distributed.is_main()
        seed_everything(seed)
        with distributed.main_first(dctx):  # rank 0 pretrains and caches, the others then load
            pre = Pretrainer(Xt, codes, cfg.pretrain, seed, device, StageCache(self.cache_dir), verbose=verbose)
            encoder, enc_key = pre.shared_encoder()
            P_np = pre.teacher_assignments(self.n_clusters, encoder, enc_key)
            self.matching_ = None
            if cfg.align_groups:
                t_align = time.perf_counter()
                P_np, self.matching_ = align_teachers(Xt.numpy(), P_np, codes, kind=cfg.matching, seed=seed)
                pre.timings["matching"] = time.perf_counter() - t_align
            if cfg.init_centers == "teachers":
                centers = pre.teacher_centers(encoder, P_np)
            else:
                centers = pre.initial_centers(encoder, enc_key, self.n_clusters)
        P_np, centers = distributed.broadcast_array(dctx, P_np), distributed.broadcast_array(dctx, centers)
        P = torch.from_numpy(P_np)
        self.teacher_labels_ = P.argmax(1).numpy()
        self.teacher_choice_ = pre.teacher_choice if distributed.is_main() else None

        seed_everything(seed)
        trainer = DFCTrainer(encoder, centers, n_groups, cfg).to(device)
        b_group = min(cfg.batch_size, int(np.bincount(codes).max()))
        if cfg.epochs > 0:  # schedule sized to the data: epochs over the largest group, checked once per epoch
            per_epoch = max(1, int(np.ceil(np.bincount(codes).max() / b_group)))
            cfg.n_iters = max(1, int(np.ceil(cfg.epochs * per_epoch)))
            cfg.eval_every = per_epoch
        b = distributed.per_rank_batch(dctx, b_group)
        sampler = BalancedSampler(codes, b, seed)
        g_batch = torch.arange(n_groups, device=device).repeat_interleave(b // (dctx.world_size if dctx else 1))
        on_device = device.type == "cuda"
        X_src = Xt.to(device) if on_device else Xt
        P_src = P.to(device) if on_device else P
        history: dict[str, list] = {"iteration": [], "loss": [], "L_c": [], "L_s": [], "L_f": [], "evals": []}
        ckpt = Checkpointer(self.checkpoint_path if distributed.is_main() else None,
                            every=self.checkpoint_every, resume=self.resume,
                            key=fingerprint(pre.data_key, cfg.to_dict(), self.n_clusters, seed))
        start, pending = ckpt.restore(trainer, sampler, history)
        model = distributed.wrap(dctx, trainer)  # the one DDP wrapper (None in one process)
        t0 = time.perf_counter()
        trainer.train()
        stop = False
        bar = progress(range(start, cfg.n_iters), desc="DFC", enabled=verbose)
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
                last = t == cfg.n_iters - 1
                if len(pending) >= 50 or last:
                    pending = self._flush(history, pending, t, bar)
                if cfg.eval_every and ((t + 1) % cfg.eval_every == 0 or last):
                    if distributed.is_main():
                        q_eval = self._evaluate(trainer, Xt, device, codes, y_arr, history, t + 1)
                        changed = history["evals"][-1]["changed"]
                        # DEC's stopping rule: the assignments stopped changing
                        stop = bool(cfg.stop_tol > 0 and changed is not None and changed < cfg.stop_tol)
                    if cfg.stop_tol > 0:
                        stop = distributed.broadcast_flag(dctx, stop)
                ckpt.after_iteration(t + 1, cfg.n_iters, trainer, sampler, history, pending)
                if stop:
                    pending = self._flush(history, pending, t, bar)
                    break
        ckpt.finish()
        history.pop("_labels", None)
        history["iterations_run"] = len(history["iteration"])
        distributed.broadcast_module(dctx, trainer)  # every rank ends with rank 0's model
        t_dfc = time.perf_counter() - t0

        self.encoder_ = trainer.encoder.eval()
        self.critic_ = trainer.critic.eval()
        self.cluster_centers_ = trainer.centers.detach().cpu().numpy()
        t1 = time.perf_counter()
        # the final evaluation (rank 0) already assigned every sample with this very model
        final_eval = cfg.eval_every and distributed.is_main() and start < cfg.n_iters
        q_all = (q_eval if final_eval else self._assign_all(trainer, Xt, device)).numpy()
        self.labels_ = q_all.argmax(1)
        self.fair_labels_info_ = None
        if cfg.fair_labels is not None:
            self.labels_, self.fair_labels_info_ = fair_labels(q_all, codes, cfg.fair_labels)
        self.history_ = history
        self.config_ = cfg.to_dict()
        self.timings_ = {**{f"pretrain_{k}": v for k, v in pre.timings.items()}, "dfc": t_dfc,
                         "evaluation": time.perf_counter() - t1, "total": time.perf_counter() - t_start}
        self.pretrain_cache_hits_ = dict(pre.loaded_from_cache)
        return self

    @staticmethod
    def _flush(history: dict, pending: list, t: int, bar) -> list:
        """Move the pending per-iteration loss records (ending at iteration ``t``) into ``history``."""
        for i, d in enumerate(pending):
            history["iteration"].append(t - len(pending) + 1 + i)
            for k_, v in d.items():
                history[k_].append(float(v))
        if pending:
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}")
        return []

    def _evaluate(self, trainer: DFCTrainer, Xt: torch.Tensor, device: torch.device, codes: np.ndarray,
                  y: np.ndarray | None, history: dict, iteration: int) -> torch.Tensor:
        """Assign every sample, append the metrics (and the fraction of labels changed) to ``history``."""
        q = self._assign_all(trainer, Xt, device)
        labels = q.argmax(1).numpy()
        rep = metrics.report(labels, sensitive_features=codes, labels_true=y, n_clusters=self.n_clusters)
        rep.pop("information", None)
        previous = history.get("_labels")
        rep["changed"] = None if previous is None else float(np.mean(np.asarray(previous) != labels))
        history["_labels"] = labels.tolist()
        history["evals"].append({"iteration": iteration, **rep})
        trainer.train()
        return q

    @staticmethod
    def _assign_all(trainer: DFCTrainer, Xt: torch.Tensor, device: torch.device) -> torch.Tensor:
        return soft_assign(trainer.encoder, trainer.centers, Xt, device, trainer.cfg.t_alpha)

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "cluster_centers_")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Soft assignments ``q`` (rows sum to 1). No groups needed."""
        self._check_fitted()
        Xt = torch.from_numpy(self._scale(self._validate_predict(X)))
        centers = torch.from_numpy(self.cluster_centers_)
        alpha = self.config_["t_alpha"]
        return soft_assign(self.encoder_, centers, Xt, self._device(), alpha).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Cluster of every sample (argmax of :meth:`predict_proba`). No groups needed."""
        return self.predict_proba(X).argmax(1)

    def transform(self, X: Any) -> np.ndarray:
        """The fair embedding ``mu`` of every sample."""
        self._check_fitted()
        return embed(self.encoder_, torch.from_numpy(self._scale(self._validate_predict(X))), self._device()).numpy()

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the fitted model to ``path`` (a torch file of tensors and plain values only)."""
        self._check_fitted()
        obj = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "params": json.dumps({k: v for k, v in self.get_params().items()}, default=str),
            "config": json.dumps(self.config_),
            "input_shape": list(self.input_shape_),
            "groups": json.dumps([g.item() if hasattr(g, "item") else g for g in self.groups_]),
            "encoder": {k: v.detach().cpu() for k, v in self.encoder_.state_dict().items()},
            "critic": {k: v.detach().cpu() for k, v in self.critic_.state_dict().items()},
            "centers": torch.from_numpy(self.cluster_centers_),
            "labels": torch.from_numpy(np.asarray(self.labels_, dtype=np.int64)),
            "teacher_labels": torch.from_numpy(np.asarray(self.teacher_labels_, dtype=np.int64)),
            "scaler": None if self.scaler_mean_ is None else
            [torch.from_numpy(self.scaler_mean_), torch.from_numpy(self.scaler_scale_)],
            "history": json.dumps(self.history_),
            "timings": json.dumps(self.timings_),
            "fair_labels_info": json.dumps(getattr(self, "fair_labels_info_", None)),
        }
        atomic_save(path, lambda fh: torch.save(obj, fh))

    @classmethod
    def load(cls, path: str | Path) -> "DeepFairClustering":
        """Read a model written by :meth:`save`. Never executes code from the file."""
        path = Path(path)
        if not path.is_file():
            raise FairclustError(f"model file {str(path)!r} does not exist; pass the path given to save()")
        obj = load_safely(path, "fairclust model file")
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise FairclustError(f"{str(path)!r} is not a fairclust DFC model file")
        params = json.loads(obj["params"])
        model = cls(**params)
        model.config_ = json.loads(obj["config"])
        cfg = DFCConfig.from_dict(model.config_)
        model.input_shape_ = tuple(obj["input_shape"])
        model.n_features_in_ = int(np.prod(model.input_shape_))
        model.groups_ = np.asarray(json.loads(obj["groups"]))
        enc = make_encoder(model.input_shape_, cfg.pretrain.latent_dim, cfg.pretrain.center_input)
        enc.load_state_dict(obj["encoder"])
        if isinstance(enc, ConvEncoder):  # the layout DFCTrainer trained it in: bit-identical predictions
            enc.to(memory_format=torch.channels_last)
        model.encoder_ = enc.eval()
        critic = Critic(obj["centers"].shape[0], len(model.groups_))
        critic.load_state_dict(obj["critic"])
        model.critic_ = critic.eval()
        model.cluster_centers_ = obj["centers"].numpy()
        model.labels_ = obj["labels"].numpy()
        model.teacher_labels_ = obj["teacher_labels"].numpy()
        if obj["scaler"] is None:
            model.scaler_mean_ = model.scaler_scale_ = None
        else:
            model.scaler_mean_, model.scaler_scale_ = (t.numpy() for t in obj["scaler"])
        model.history_ = json.loads(obj["history"])
        model.timings_ = json.loads(obj["timings"])
        model.fair_labels_info_ = json.loads(obj.get("fair_labels_info", "null"))
        return model
