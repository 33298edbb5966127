"""Deep Fair Clustering (Li, Zhao, Liu, CVPR 2020), SPEC section 1: the estimator.

:class:`DeepFairClustering` is a thin scikit-learn layer: it validates the input, resolves
its settings (:mod:`fairclust.config`, where every setting is declared once) and the fit's
:class:`~fairclust.schedule.Schedule`, runs the cached pretraining stages
(:mod:`fairclust.pretrain`, :mod:`fairclust.teachers`), matches the teachers across groups
(:mod:`fairclust.align`), hands the pieces to the plain training loop
(:mod:`fairclust.methods.dfc_training`; the losses are in :mod:`fairclust.losses`) and
labels the result (the fair labels of :func:`fairclust.fair_lp.fair_labels`, or the
argmax of ``q``).
"""

from __future__ import annotations

import copy
import dataclasses
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import distributed, metrics
from ..align import NEAR_CHANCE_Z, align_teachers, pairing_clearness
from ..cache import StageCache, fingerprint
from ..checkpoint import Checkpointer
from ..config import DFCConfig
from ..contrastive import contrastive_applies
from ..embedding import embed, soft_assign
from ..errors import FairclustError
from ..fair_lp import CURVE_DELTAS, fair_labels, fair_prior_shift, fairness_curve
from ..nn import Critic, make_encoder, nhwc
from ..persist import load_model, save_model
from ..pretrain import Pretrainer, has_contrastive_space
from ..schedule import Schedule, make_schedule
from ..utils import resolve_device, seed_everything
from .base import EmbeddingMixin, FairClusterMixin, store_params
from .dfc_training import DFCTrainer, assign_all, train

CURVE_MAX_SAMPLES = 10_000  # the fairness curve's LPs are solved on at most this many samples (see fairness_curve)
FORMAT = "fairclust-dfc"
FORMAT_VERSION = 2  # 2: every fitted attribute (fairclust.persist), flat settings


def _settings_doc() -> str:
    lines = []
    for p in DFCConfig.public():
        kind = " or ".join(f'"{c}"' for c in p.choices) if p.choices else p.kind.__name__
        lines.append(f"    {p.name} : {kind}, default=None\n        {p.help}.")
    return "\n".join(lines)


def _filled(q: torch.Tensor) -> int:
    """Clusters that the argmax of ``q`` fills (0 when training diverged: ``q`` not finite)."""
    return int(np.unique(q.argmax(1).numpy()).size) if torch.isfinite(q).all() else 0


class DeepFairClustering(EmbeddingMixin, FairClusterMixin):
    __doc__ = f"""Deep Fair Clustering: clusters that are meaningful and independent of a group.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters K.
    recipe : {{"default", "faithful", "paper"}}, default="default"
        Named set of values for every setting below (docs/recipes.md; ``None`` = the
        recipe's value; :meth:`recipe_params` shows them before fitting). ``paper`` is SPEC
        1.4, ``faithful`` the paper's method sized for a CPU, ``default`` adds the
        extensions (strong teachers, cross-group matching, teacher targets, fair labels, a
        data-sized schedule).
{_settings_doc()}
    device : str, default=None
        ``"cpu"``, ``"cuda"``; ``None`` picks CUDA when available.
    cache_dir : str or False, default=None
        Pretraining cache (``None``: ``$FAIRCLUST_CACHE``, else ``$XDG_CACHE_HOME/fairclust``, else
        ``~/.cache/fairclust``; ``False``: none).
    random_state : int, default=None
        Seed for every random choice; ``None`` draws one (kept as ``seed_``).
    verbose : bool, default=False
        Progress bars for each stage.
    checkpoint_path, checkpoint_every, resume
        Checkpoint the training loop every ``checkpoint_every`` iterations (0: only on
        SIGINT/SIGTERM, then ``fit`` raises ``TrainingInterrupted``) and continue from it.

    Attributes
    ----------
    labels_ : ndarray (n_samples,)
        The fair labels of the trained ``q`` (``fair_labels`` on, the default recipe), else the
        argmax of ``q`` (encoder in eval mode, all samples). ``predict(X, sensitive_features=s)``
        on the training data returns exactly these.
    cluster_centers_, encoder_, critic_ : the trained centres, encoder and critic.
    teacher_labels_ : ndarray (n_samples,)
        Each sample's label from its own group's teacher (the kind in ``teacher_choice_``),
        after the cross-group matching (``matching_``: its evidence and confidence; ``teacher_refit_``:
        whether the refitted teachers or the first fits were kept, and each set's pairing clearness; None
        where the refit changed no partition).
    schedule_ : Schedule
        T, evaluation points and stopping rule of this fit (computed once, before training).
    config_ : dict
        Every setting's value in this fit. Also ``history_``, ``timings_``, ``seed_``,
        ``fair_labels_info_``, ``pretrain_cache_hits_``; all survive :meth:`save` / :meth:`load`.
    """

    Config = DFCConfig  # every argument between ``recipe`` and ``device`` is one of its public settings

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", latent_dim: int | None = None,
                 pretrain_epochs: int | None = None, pretrain_max_samples: int | None = None,
                 dec_iters: int | None = None, teacher: str | None = None, teacher_select: str | None = None,
                 teacher_epochs: int | None = None, contrastive_steps: int | None = None,
                 batch_size: int | None = None, n_iters: int | None = None, epochs: float | None = None,
                 max_samples: int | None = None, stop_tol: float | None = None, lr: float | None = None,
                 collapse_retry: float | None = None, alpha_f: float | None = None, alpha_s: float | None = None,
                 align_groups: bool | None = None, matching: str | None = None, match_space: str | None = None,
                 target: str | None = None, fair_targets: bool | None = None, init_centers: str | None = None,
                 fair_labels: float | None = None, fairness: str | None = None,
                 device: str | None = None, cache_dir: str | bool | None = None, random_state: int | None = None,
                 verbose: bool = False, checkpoint_path: str | None = None, checkpoint_every: int = 100,
                 resume: bool = False):
        store_params(self, locals())

    # ------------------------------------------------------------------ settings
    def plan_schedule(self, sensitive_features: Any) -> Schedule:
        """The :class:`~fairclust.schedule.Schedule` a fit on data with these groups will follow."""
        sizes = np.unique(np.asarray(sensitive_features).reshape(-1).astype(str), return_counts=True)[1]
        return make_schedule(self._config(), sizes)

    @staticmethod
    def _align(space: np.ndarray, P: np.ndarray, P_first: np.ndarray | None, codes: np.ndarray, cfg: DFCConfig,
               seed: int, kind: str | None = None) -> tuple[np.ndarray, list[dict], dict | None]:
        """The teachers matched across groups. Where the refit of the teachers' mixtures changed a partition
        (``P_first``: before it) and ``refit_by_pairing`` asks, the refit (the likelier mixtures) is kept unless
        its pairing is weak (mean confidence ``z`` below ``NEAR_CHANCE_Z``, where a matching warns) and the
        first fits, then matched too, pair more clearly. Returns the matched teachers, the kept matching's
        records and the choice (None where there was none to make; ``clearness`` has no ``first`` where the
        refit paired clearly); the weak-evidence warning is the kept matching's only. ``kind``: the matching's
        kind where it is not ``cfg.matching``."""
        kind = kind or cfg.matching
        if P_first is None or not cfg.refit_by_pairing:
            return (*align_teachers(space, P, codes, kind=kind, seed=seed), None)
        tried, clear = {}, {}
        for name, teachers in (("refit", P), ("first", P_first)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                tried[name] = (*align_teachers(space, teachers, codes, kind=kind, seed=seed), caught)
            clear[name] = pairing_clearness(tried[name][1])
            if clear["refit"] >= NEAR_CHANCE_Z:  # a clear pairing: the likelier mixtures stand
                break
        kept = "first" if clear.get("first", -np.inf) > clear["refit"] else "refit"
        P_kept, records, caught = tried[kept]
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return P_kept, records, {"kept": kept, "clearness": clear}

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any,
            callbacks: list | None = None) -> "DeepFairClustering":
        """Pretrain (cached), then train DFC on ``X`` with groups ``sensitive_features``.

        ``y``, when given, is used only to report accuracy/NMI in ``history_``; it never
        influences training. ``callbacks``: callables ``cb(iteration, trainer)`` run once with
        0 before training and after every iteration (``trainer.schedule`` holds T); a retry of the
        collapse guard calls them again from 0 with its own trainer (``model.encoder_`` is the kept one's).
        """
        t_start = time.perf_counter()
        cfg = self._config()
        X, codes = self._validate_fit(X, sensitive_features, cfg.fairness)
        # asked for explicitly where it cannot apply: an error (the recipe's default is silent there instead)
        if (self.contrastive_steps is not None and cfg.teacher == "auto" and cfg.contrastive_steps > 0
                and not contrastive_applies(X.shape)):
            if X.ndim != 4:
                raise FairclustError("contrastive_steps applies to images only (feature vectors have no augmentations "
                                     "here; measured no better, docs/results.md): drop contrastive_steps")
            raise FairclustError(f"contrastive_steps needs images of at least 8 x 8 (its encoder halves them three "
                                 f"times); these are {X.shape[2]} x {X.shape[3]}: drop contrastive_steps")
        if (self.match_space == "contrastive" and cfg.align_groups
                and not has_contrastive_space(cfg, X.shape, codes, self.n_clusters)):
            raise FairclustError(
                "match_space='contrastive' needs the teachers' SimCLR features: teacher='auto' with contrastive_steps "
                "> 0, images of at least 8 x 8 and every group of at least 2 samples a cluster; drop match_space (the "
                "default pairs in the canonical frame there)")
        fair = self._fit_fairness_groups(codes, sensitive_features, cfg.fairness)
        seed = self._fit_seed()
        Xt = torch.from_numpy(self._fit_scaler(X, cfg.input_side))  # what the networks read
        y_arr = None if y is None else np.asarray(y).reshape(-1)
        if y_arr is not None and y_arr.shape[0] != X.shape[0]:
            raise FairclustError(f"X has {X.shape[0]} samples but y has {y_arr.shape[0]}; pass one label per sample")
        dctx = distributed.context(self.device)  # under torchrun: this rank (fairclust.distributed)
        distributed.check_supported(dctx, resume=self.resume)
        device = dctx.device if dctx else self._device()
        verbose = self.verbose and distributed.is_main()
        seed_everything(seed)
        with distributed.main_first(dctx):  # rank 0 pretrains and caches, the others then load
            pre = Pretrainer(self._teachers_input(X, Xt), codes, cfg, seed, device, StageCache(self.cache_dir),
                             verbose=verbose, input_scale=self.scaler_scale_, net_X=Xt)
            encoder, enc_key = pre.shared_encoder()
            P_np = pre.teacher_assignments(self.n_clusters, encoder, enc_key)
            self.matching_ = self.teacher_refit_ = None
            if cfg.align_groups:
                where = cfg.match_space
                if where == "contrastive" and not pre.has_contrastive_space(self.n_clusters):
                    where = "canonical"  # the recipe's: silently where it was (an explicit one is refused above)

                def match(P_teachers=P_np):
                    space = {"input": pre.input_space, "canonical": pre.canonical,
                             "embedding": lambda: pre.embedding(encoder),
                             "contrastive": lambda: pre.contrastive_space(self.n_clusters)}[where]()
                    # the SimCLR features are vectors: auto pairs them by transfer too (an MLP, 1 s; results.md)
                    kind = "transfer" if where == "contrastive" and cfg.matching == "auto" else None
                    return self._align(space, P_teachers, pre.teachers_first, codes, cfg, seed, kind=kind)

                P_np, self.matching_, self.teacher_refit_ = pre.matched_teachers(P_np, match, where, enc_key)
                unscaled = where in ("input", "canonical") and pre.unscaled_space() is not None
                label = "contrastive" if where == "contrastive" else "unscaled" if unscaled else None
                if label is not None:  # the records say where the groups were compared, where it is not the setting's
                    self.matching_ = [{**r, "space": label} for r in self.matching_]
            if cfg.init_centers == "teachers":
                with pre.stages.measure("centers"):
                    centers = pre.teacher_centers(encoder, P_np)
            else:  # a cached stage, measured as such
                centers = pre.initial_centers(encoder, enc_key, self.n_clusters)
        P_np, centers = distributed.broadcast_array(dctx, P_np), distributed.broadcast_array(dctx, centers)
        self.teacher_labels_ = P_np.argmax(1)
        P = torch.from_numpy(fair_prior_shift(P_np, codes) if cfg.fair_targets else P_np)
        self.teacher_choice_ = pre.teacher_choice

        self.schedule_ = make_schedule(cfg, np.bincount(codes))
        start = copy.deepcopy(encoder) if cfg.collapse_retry is not None else None  # a retry starts here too
        seed_everything(seed)
        trainer = DFCTrainer(encoder, centers, len(self.groups_), cfg, self.schedule_).to(device)
        ckpt = Checkpointer(self.checkpoint_path if distributed.is_main() else None,
                            every=self.checkpoint_every, resume=self.resume,
                            key=fingerprint(pre.data_key, cfg.to_dict(), self.n_clusters, seed))
        with pre.stages.measure("dfc"):
            history, q_all, _ = train(trainer, Xt, P, codes, seed=seed, device=device, dctx=dctx, ckpt=ckpt,
                                      y=y_arr, n_clusters=self.n_clusters, callbacks=callbacks, verbose=verbose)
            q_all = q_all if q_all is not None else assign_all(trainer, Xt, device)
            if start is not None:
                trainer, history, q_all = self._retry_collapse(trainer, history, q_all, start, centers, P, Xt, codes,
                                                               cfg, seed, device, dctx, y_arr, verbose, callbacks)
        if not torch.isfinite(q_all).all():
            raise FairclustError(f"DFC diverged: its soft assignments are not finite (lr={cfg.lr}); pass a smaller "
                                 "--lr, or keep the default recipe's collapse_retry to retry with one")
        with pre.stages.measure("evaluation"):
            q_all = q_all.numpy()
            self.config_ = cfg.to_dict()
            self.labels_, self.fair_labels_info_ = self._label(q_all, fair)

        self.encoder_ = trainer.encoder.eval()
        self.critic_ = trainer.critic.eval()
        self.cluster_centers_ = trainer.centers.detach().cpu().numpy()
        self.history_ = history
        own = ("dfc", "evaluation")  # the rest are pretraining stages (their names keep the prefix)
        self.timings_ = {(k if k in own else f"pretrain_{k}"): v for k, v in pre.stages.seconds.items()}
        self.timings_["total"] = time.perf_counter() - t_start
        self.memory_ = {(k if k in own else f"pretrain_{k}"): v for k, v in pre.stages.peak_mb.items()}
        self.pretrain_cache_hits_ = dict(pre.loaded_from_cache)
        return self

    def _retry_collapse(self, trainer, history, q_all, start, centers, P, Xt, codes, cfg, seed, device, dctx, y_arr,
                        verbose, callbacks):
        """DFC's collapse guard (``collapse_retry``). When the argmax of ``q`` fills fewer clusters
        than the teachers' labels do (clusters merged), train once more from the same start (encoder
        ``start``, ``centers``) with the learning rate times ``collapse_retry``, and keep the run whose
        argmax agrees more with the (matched) teachers' labels, DFC's own targets (accuracy under
        the best one-to-one map; the first run on a tie). Reads no labels. The ``callbacks`` see the
        retry too (from its iteration 0, with its own trainer). Returns the kept trainer, history and
        ``q``; the decision is in ``history["collapse_retry"]``."""
        filled, wanted = _filled(q_all), int(np.unique(self.teacher_labels_).size)
        if filled >= wanted:
            return trainer, history, q_all
        retry_cfg = dataclasses.replace(cfg, lr=cfg.lr * cfg.collapse_retry)
        seed_everything(seed)
        retry = DFCTrainer(start, centers, len(self.groups_), retry_cfg, self.schedule_).to(device)
        # a retry is not checkpointed: an interrupted run resumes the first training and retries afresh
        h2, q2, _ = train(retry, Xt, P, codes, seed=seed, device=device, dctx=dctx,
                          ckpt=Checkpointer(None, every=0, key=""), y=y_arr, n_clusters=self.n_clusters,
                          callbacks=callbacks, verbose=verbose)
        q2 = q2 if q2 is not None else assign_all(retry, Xt, device)
        agree, agree2 = self._agreement(q_all), self._agreement(q2)
        keep = agree2 > agree
        history_kept = {**h2, "first_run": history} if keep else history
        history_kept["collapse_retry"] = {
            "teacher_clusters": wanted, "first_clusters": filled, "retry_clusters": _filled(q2),
            "first_agreement": agree, "retry_agreement": agree2, "retry_lr": retry_cfg.lr,
            "kept": "retry" if keep else "first"}
        return (retry, history_kept, q2) if keep else (trainer, history_kept, q_all)

    def _agreement(self, q: torch.Tensor) -> float:
        """Fraction of samples whose argmax of ``q`` agrees with the teachers' label (best one-to-one map; 0 if
        ``q`` is not finite)."""
        return metrics.accuracy(self.teacher_labels_, q.argmax(1).numpy()) if torch.isfinite(q).all() else 0.0

    def _label(self, q: np.ndarray, fair: np.ndarray | None) -> tuple[np.ndarray, dict | None]:
        """The fair labels of ``q`` for the fairness groups ``fair`` (:meth:`_fairness_groups`; when the
        config asks for them), else the argmax."""
        delta = self.config_["fair_labels"]
        if fair is None or delta is None:
            return q.argmax(1), None
        return fair_labels(q, fair, delta, max_samples=self.config_.get("fair_labels_max_samples", 0),
                           seed=getattr(self, "seed_", 0))

    def _notion(self) -> str:
        return self.config_.get("fairness", "marginal")  # models saved before several attributes: one attribute

    def fit_predict(self, X: Any, y: Any = None, *, sensitive_features: Any = None, **kwargs: Any) -> np.ndarray:
        """Fit and return ``labels_`` (the fair labels with the default recipe); groups are required."""
        return self.fit(X, y, sensitive_features=sensitive_features, **kwargs).labels_

    # ------------------------------------------------------------------ inference
    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "cluster_centers_")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Soft assignments ``q`` (rows sum to 1). No groups needed."""
        self._check_fitted()
        Xt = torch.from_numpy(self._scale(self._validate_predict(X)))
        centers = torch.from_numpy(self.cluster_centers_)
        return soft_assign(self.encoder_, centers, Xt, self._device(), self.config_["t_alpha"]).numpy()

    def predict(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """Cluster of every sample.

        With ``sensitive_features`` (groups the model was fitted on): the fair labels of this
        batch, as ``fit`` labels its data (on the training data exactly ``labels_``).
        Without: the argmax of :meth:`predict_proba`, which needs no groups but is not forced
        to be fair (its Balance on the training data: docs/results.md, "argmax" columns).
        """
        q = self.predict_proba(X)
        fair = None if sensitive_features is None else self._fairness_groups(sensitive_features, q.shape[0],
                                                                              self._notion())
        return self._label(q, fair)[0]

    def fairness_curve(self, X: Any, sensitive_features: Any, deltas: tuple[float, ...] = CURVE_DELTAS) -> list[dict]:
        """The labels of ``X`` from the fairest to the argmax of ``q``: the fair labels at every ``delta``,
        then the argmax (:func:`fairclust.fair_lp.fairness_curve`); ``fairclust run`` scores each point.

        Above ``CURVE_MAX_SAMPLES`` samples each point's LP is solved on a seeded sample of that size
        (its prices, corrected on all samples, label every sample: the bounds hold on all), except the
        point of this model's own ``fair_labels`` delta, which is exactly ``predict(X, sensitive_features)``.
        """
        q = self.predict_proba(X)
        fair = self._fairness_groups(sensitive_features, q.shape[0], self._notion())
        cap = self.config_.get("fair_labels_max_samples", 0)
        cap = min(cap, CURVE_MAX_SAMPLES) if cap else CURVE_MAX_SAMPLES
        points = fairness_curve(q, fair, deltas, max_samples=cap, seed=getattr(self, "seed_", 0))
        own = self.config_["fair_labels"]
        for p in points:
            if own is not None and p["delta"] == own and q.shape[0] > cap:  # the run's labels, exactly
                p["labels"], info = self._label(q, fair)
                p["changed"] = info["changed"]
        return points

    def transform(self, X: Any) -> np.ndarray:
        """The fair embedding ``mu`` of every sample."""
        self._check_fitted()
        return embed(self.encoder_, torch.from_numpy(self._scale(self._validate_predict(X))), self._device()).numpy()

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the fitted model (every fitted attribute; tensors and plain values only) to ``path``."""
        self._check_fitted()
        save_model(self, path, FORMAT, FORMAT_VERSION)

    @classmethod
    def load(cls, path: str | Path) -> "DeepFairClustering":
        """Read a model written by :meth:`save`. Never executes code from the file."""
        return load_model(cls, path, FORMAT, FORMAT_VERSION)

    def _empty_module(self, name: str) -> torch.nn.Module:
        """The untrained network a saved state dict of attribute ``name`` loads into."""
        cfg = self.config_
        if name == "critic_":
            return Critic(len(self.cluster_centers_), len(self.groups_))
        enc = make_encoder(self._network_shape(), cfg["latent_dim"], cfg["center_input"])
        nhwc(enc)  # the layout DFCTrainer trained it in: bit-identical predictions
        return enc

