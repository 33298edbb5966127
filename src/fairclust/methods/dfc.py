"""Deep Fair Clustering (Li, Zhao, Liu, CVPR 2020), SPEC section 1: the estimator.

:class:`DeepFairClustering` is a thin scikit-learn layer: it validates the input, runs the
cached pretraining stages (:mod:`fairclust.pretrain`, :mod:`fairclust.teachers`), matches
the teachers across groups (:mod:`fairclust.align`), hands the pieces to the plain training
loop (:mod:`fairclust.methods.dfc_training`; the losses are in :mod:`fairclust.losses`) and
labels the result (argmax of ``q``, or the fair labels of :func:`fairclust.methods.falg.fair_labels`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import distributed
from ..align import align_teachers
from ..cache import StageCache, fingerprint
from ..checkpoint import Checkpointer, load_safely
from ..config import DFCConfig, resolve
from ..embedding import embed, soft_assign
from ..errors import FairclustError
from ..files import atomic_save
from ..nn import ConvEncoder, Critic, make_encoder
from ..pretrain import Pretrainer
from ..utils import resolve_device, seed_everything
from .base import EmbeddingMixin, FairClusterMixin
from .dfc_training import DFCTrainer, assign_all, size_schedule, train
from .falg import fair_labels

FORMAT = "fairclust-dfc"
FORMAT_VERSION = 1


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
        self.teacher_choice_ = pre.teacher_choice

        seed_everything(seed)
        trainer = DFCTrainer(encoder, centers, n_groups, cfg).to(device)
        size_schedule(cfg, codes)
        ckpt = Checkpointer(self.checkpoint_path if distributed.is_main() else None,
                            every=self.checkpoint_every, resume=self.resume,
                            key=fingerprint(pre.data_key, cfg.to_dict(), self.n_clusters, seed))
        history, q_all, t_dfc = train(trainer, Xt, P, codes, cfg, seed=seed, device=device, dctx=dctx, ckpt=ckpt,
                                      y=y_arr, n_clusters=self.n_clusters, callbacks=callbacks, verbose=verbose)
        t1 = time.perf_counter()
        q_all = (q_all if q_all is not None else assign_all(trainer, Xt, device)).numpy()

        self.encoder_ = trainer.encoder.eval()
        self.critic_ = trainer.critic.eval()
        self.cluster_centers_ = trainer.centers.detach().cpu().numpy()
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
