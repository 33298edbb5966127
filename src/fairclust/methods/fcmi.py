"""FCMI, deep Fair Clustering via maximising and minimising Mutual Information (Zeng, Li, Hu,
Peng, Lv, Peng, CVPR 2023), written from the paper and the settings of its released code
(github.com/PengxinZeng/2023-CVPR-FCMI; file:line references are to that code).

One shared encoder maps a sample to a unit-norm representation ``h``, one decoder per group
reconstructs it (:class:`fairclust.methods.fcmi_net.FCMINet`: the authors' plain networks).
Every epoch, k-means on the representations of all samples gives the centroids ``c_k``
(fixed for the epoch); a sample's soft assignment is ``softmax_k(<h, c_k> / tau)``, and the
loss (:mod:`fairclust.methods.fcmi_losses`) is

    L = L_rec + alpha * (-H(C) + H(C | X)) + beta * I(G; C)

with only ``L_rec`` during the first ``warmup_epochs`` epochs (a cached pretraining stage; the
``default`` recipe starts it with a calm start, ``calm_updates`` updates at batch ``calm_batch``, so that
the representation does not encode the group: docs/results.md, "FCMI at the paper's size"). A
sample's cluster is ``argmax_k <h, c_k>`` under the centroids the last epoch trained with.
Settings: :class:`fairclust.config.FCMIConfig`; its two recipes (``paper``: the authors'
released settings; ``default``: the same method sized for a CPU) and why: docs/recipes.md.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .. import distributed, metrics
from ..cache import StageCache, fingerprint
from ..config import FCMI_WARMUP, FCMIConfig
from ..errors import FairclustError
from ..persist import load_model, save_model
from ..utils import progress, resolve_device, seed_everything
from .base import EmbeddingMixin, FairClusterMixin, store_params
from .fcmi_losses import soft_assignment
from .fcmi_net import (
    LOSS_TERMS,
    FCMINet,
    changed_share,
    fit_centroids,
    represent_all,
    train_epoch,
)

FORMAT = "fairclust-fcmi"
FORMAT_VERSION = 3  # 2: every fitted attribute (fairclust.persist); 3: the plain network (no BatchNorm)
WARMUP_VERSION = 3  # the cached warm-up's code version (bump when what it computes changes); 3: the calm start


def full_batch(size: int, n: int, world: int = 1) -> int:
    """A batch of at most ``size`` of ``n`` samples, a multiple of the number of processes (epochs take full
    batches only: the authors' drop_last, dataset.py:424-427)."""
    return max(world, min(size, n) // world * world)


def calm_length(s: FCMIConfig, n: int, world: int = 1) -> tuple[int, int]:
    """The calm start before the warm-up: ``(epochs, batch)``, ``calm_updates`` updates of ``calm_batch`` samples
    rounded up to whole epochs; ``(0, 0)`` without one (``calm_batch`` or ``calm_updates`` 0, or no warm-up)."""
    if s.calm_batch <= 0 or s.calm_updates <= 0 or s.warmup_epochs <= 0:
        return 0, 0
    batch = full_batch(s.calm_batch, n, world)
    return -(-s.calm_updates // max(1, n // batch)), batch


class FCMI(EmbeddingMixin, FairClusterMixin):
    """FCMI: clusters from an auto-encoder's representation that maximise I(X; C | G) and minimise I(G; C).

    Parameters
    ----------
    n_clusters : int, default=10
    recipe : {"default", "paper"}, default="default"
        ``paper``: the authors' settings (batch 512, 300 epochs with 20 of warm-up).
        ``default``: the same method sized for a CPU (a calm start of 300 updates at batch 512,
        then batch 128, at most 50 epochs with 10 of warm-up, stopped when fewer than 1% of the
        labels change in an epoch).
    batch_total, total_epochs, warmup_epochs, lr : default=None
        Samples per batch (all groups mixed), epochs in all, reconstruction-only epochs
        first (when only ``total_epochs`` is given: the recipe's share of them, 1/5 or 1/15),
        Adam learning rate.
    alpha, beta : float, default=None
        Weights of ``-H(C) + H(C | X)`` (from ``max I(X; C | G)``) and of ``I(G; C)``
        (recipe: 0.04 and 0.2). ``beta=0`` drops the fairness term.
    tau_balance, tau_onehot : float, default=None
        Softmax temperatures of the assignment in ``H(C)``, ``I(G; C)`` and in ``H(C | X)``.
    latent_dim : int, default=None
        Size of the representation (recipe: 0, meaning ``n_clusters``, as the authors).
    stop_tol : float, default=None
        Stop once fewer than this share of labels changed in an epoch (0: run every epoch).
    device, cache_dir, random_state, verbose
        As for the other deep methods; the warm-up is cached in ``cache_dir``.

    Every setting, its value per recipe: docs/recipes.md (:class:`fairclust.config.FCMIConfig`).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
        Unit-norm centroids the last epoch trained with.
    warmup_kmeans_labels_ : ndarray of shape (n_samples,)
        k-means on the warm-up (auto-encoder only) representation: where clustering starts.
    warmup_epochs_run_ : int
        Reconstruction-only epochs run, the calm start's included (:func:`calm_length`).
    history_ : dict
        ``epoch`` and the mean loss terms per epoch, ``evals``: per epoch the share of labels
        changed and, when ``y`` is given to ``fit``, accuracy / NMI / Balance (also of
        ``warmup_kmeans_labels_``, under ``warmup_kmeans``).
    """

    Config = FCMIConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", batch_total: int | None = None,
                 total_epochs: int | None = None, warmup_epochs: int | None = None, lr: float | None = None,
                 alpha: float | None = None, beta: float | None = None, tau_balance: float | None = None,
                 tau_onehot: float | None = None, latent_dim: int | None = None, stop_tol: float | None = None,
                 fairness: str | None = None, device: str | None = None, cache_dir: str | bool | None = None,
                 random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "FCMI":
        """Train on ``X`` with groups ``sensitive_features``; ``y`` (optional) only fills ``history_``."""
        t_start = time.perf_counter()
        s = self._config()
        X, codes = self._validate_fit(X, sensitive_features, s.fairness)
        y_arr = None if y is None else np.asarray(y).reshape(-1)
        if y_arr is not None and y_arr.shape[0] != X.shape[0]:
            raise FairclustError(f"X has {X.shape[0]} samples but y has {y_arr.shape[0]}; pass one label per sample")
        seed = self._fit_seed()
        self.tanh_output_ = bool(X.ndim == 4 and X.min() >= 0.0 and X.max() <= 1.0)
        Xt = torch.from_numpy(self._inputs(self._fit_scaler(X)))
        dctx = distributed.context(self.device)
        device = dctx.device if dctx else resolve_device(self.device)
        world = dctx.world_size if dctx else 1

        seed_everything(seed)
        net = FCMINet(tuple(X.shape[1:]), s.latent_dim, len(self.groups_), self.tanh_output_).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=s.lr, betas=s.betas, weight_decay=s.weight_decay)
        n = X.shape[0]
        b = full_batch(s.batch_total, n, world)
        calm_epochs, b_calm = calm_length(s, n, world)
        self.warmup_epochs_run_ = calm_epochs + s.warmup_epochs
        X_src = Xt.to(device) if device.type == "cuda" else Xt
        codes_t = torch.from_numpy(codes).to(device)
        fair = None  # one attribute: I(G; C) over the decoders' groups
        if self.attributes_ is not None:  # several: each attribute's groups, or the intersection's cells
            fair_np = self._fit_fairness_groups(codes, sensitive_features, s.fairness)
            sizes = (tuple(len(v) for v in self.attributes_["values"]) if fair_np.ndim == 2
                     else len(self.attributes_["cell_names"]))
            fair = (torch.from_numpy(fair_np).to(device), sizes)
        history: dict = {"epoch": [], **{key: [] for key in LOSS_TERMS}, "evals": []}
        model = distributed.wrap(dctx, net)  # the one DDP wrapper (None in one process)

        def epoch(index: int, rng: np.random.Generator, centers: torch.Tensor | None, batch: int = b) -> None:
            terms = train_epoch(net, model, opt, X_src, codes_t, batch, max(1, n // batch), rng, centers, s, dctx,
                                device, fair)
            history["epoch"].append(index + 1)
            for key, v in terms.items():
                history[key].append(v)

        t0 = time.perf_counter()
        self._warm_up(net, opt, Xt, codes, s, seed, world, dctx, epoch, history, calm_epochs, b_calm)
        t_warm = time.perf_counter() - t0
        t1 = time.perf_counter()
        centers = self._cluster(net, X_src, codes, y_arr, s, seed, dctx, device, epoch, history)
        t_fcmi = time.perf_counter() - t1
        distributed.broadcast_module(dctx, net)

        self.net_ = net.eval()
        self.cluster_centers_ = centers.detach().cpu().numpy()
        self.labels_ = np.asarray(history["evals"][-1].pop("_labels"), dtype=np.int64)
        for e in history["evals"]:
            e.pop("_labels", None)
        history["epochs_run"] = len(history["epoch"])
        self.history_ = history
        self.config_ = s.to_dict()
        self.timings_ = {"pretrain_warmup": t_warm, "fcmi": t_fcmi, "total": time.perf_counter() - t_start}
        return self

    def _warm_up(self, net: FCMINet, opt: torch.optim.Optimizer, Xt: torch.Tensor, codes: np.ndarray,
                 s: FCMIConfig, seed: int, world: int, dctx, epoch, history: dict, calm_epochs: int,
                 b_calm: int) -> None:
        """The reconstruction-only epochs, the calm start's first (:func:`calm_length`): a cached pretraining stage
        (``warmup_from_cache_``), keyed by the data, the seed, the settings it reads and its code version."""
        cache = StageCache(self.cache_dir)
        key = cache.key(FCMI_WARMUP, data=fingerprint(Xt, codes), seed=seed, world=world, stage_version=WARMUP_VERSION,
                        settings=s.stage_values(FCMI_WARMUP), tanh=self.tanh_output_)
        hit = cache.get(FCMI_WARMUP, key) if s.warmup_epochs > 0 else None
        if distributed.broadcast_flag(dctx, hit is not None) and hit is None:  # rank 0 found it: so do all
            hit = cache.get(FCMI_WARMUP, key)
        self.warmup_from_cache_ = hit is not None
        if hit is not None:
            net.load_state_dict(hit["net"])
            opt.load_state_dict(hit["optimizer"])
            for k in history:
                if k != "evals":
                    history[k] = list(hit["history"][k])
            return
        rng = np.random.default_rng([seed, 0])
        verbose = self.verbose and distributed.is_main()
        for index in progress(range(self.warmup_epochs_run_), desc="FCMI warm-up", enabled=verbose):
            if index < calm_epochs:
                epoch(index, rng, None, b_calm)
            else:
                epoch(index, rng, None)
        if s.warmup_epochs > 0 and distributed.is_main():
            cache.put(FCMI_WARMUP, key, {"net": {k: v.detach().cpu() for k, v in net.state_dict().items()},
                                         "optimizer": opt.state_dict(),
                                         "history": {k: v for k, v in history.items() if k != "evals"}})

    def _cluster(self, net: FCMINet, X_src: torch.Tensor, codes: np.ndarray, y: np.ndarray | None, s: FCMIConfig,
                 seed: int, dctx, device: torch.device, epoch, history: dict) -> torch.Tensor:
        """The clustering epochs: each starts with k-means on every sample's representation (its centroids
        are fixed for the epoch), then trains against them; the labels are checked after every epoch
        (:meth:`_evaluate`: the stopping rule). Returns the centroids the last epoch trained with."""
        k = int(self.n_clusters)
        rng = np.random.default_rng([seed, 1])
        centers = previous = None
        self.warmup_kmeans_labels_ = None
        verbose = self.verbose and distributed.is_main()
        first = self.warmup_epochs_run_  # the clustering epochs: total_epochs - warmup_epochs, after the warm-up
        last = first + s.total_epochs - s.warmup_epochs
        bar = progress(range(first, last), desc="FCMI", enabled=verbose)
        for index in bar:
            H = represent_all(net, X_src, device)
            if centers is not None and self._evaluate(H, centers, previous, codes, y, history, index, s):
                return centers
            c_np, km_labels = fit_centroids(H.numpy(), k, s, seed + index)
            c_np = distributed.broadcast_array(dctx, c_np)  # rank 0's centroids everywhere
            if self.warmup_kmeans_labels_ is None:
                self.warmup_kmeans_labels_ = distributed.broadcast_array(dctx, km_labels.astype(np.int64))
                if y is not None:  # where clustering starts: k-means on the auto-encoder's representation
                    rep = metrics.report(self.warmup_kmeans_labels_, sensitive_features=codes, labels_true=y)
                    history["warmup_kmeans"] = {m: rep[m] for m in ("accuracy", "nmi", "balance")}
            previous = history["evals"][-1]["_labels"] if history["evals"] else None
            centers = torch.from_numpy(c_np).to(device)
            epoch(index, rng, centers)
            if verbose:
                bar.set_postfix(loss=f"{history['loss'][-1]:.4f}")
        H = represent_all(net, X_src, device)
        self._evaluate(H, centers, previous, codes, y, history, last, s)
        return centers

    def _evaluate(self, H: torch.Tensor, centers: torch.Tensor, previous: np.ndarray | None, codes: np.ndarray,
                  y: np.ndarray | None, history: dict, epoch: int, s: FCMIConfig) -> bool:
        """Label every sample under the centroids the last epoch trained with, record it; True: stop."""
        ctx = distributed.context(self.device)  # under DDP: rank 0's labels (BatchNorm statistics differ)
        labels = distributed.broadcast_array(ctx, (H @ centers.detach().cpu().t()).argmax(1).numpy())
        rec = {"epoch": epoch}
        if y is not None:
            rep = metrics.report(labels, sensitive_features=codes, labels_true=y, n_clusters=int(self.n_clusters))
            rec.update(accuracy=rep["accuracy"], nmi=rep["nmi"], balance=rep["balance"])
        rec["changed"] = None if previous is None else changed_share(previous, labels)
        rec["_labels"] = labels
        history["evals"].append(rec)
        stop = bool(s.stop_tol > 0 and rec["changed"] is not None and rec["changed"] < s.stop_tol)
        return distributed.broadcast_flag(ctx, stop)

    # ------------------------------------------------------------------ inference
    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """What the network reads: images in [0, 1] as ``2x - 1`` (the authors' Normalize(0.5, 0.5),
        dataset.py:248, 272, against a tanh decoder); others as they come (vectors standardised)."""
        return np.ascontiguousarray(2.0 * X - 1.0, dtype=np.float32) if self.tanh_output_ else X

    def _check_fitted(self) -> None:
        check_is_fitted(self, "cluster_centers_")

    def transform(self, X: Any) -> np.ndarray:
        """The unit-norm representation ``h`` of every sample."""
        self._check_fitted()
        Xs = self._inputs(self._scale(self._validate_predict(X)))
        device = resolve_device(self.device)
        return represent_all(self.net_.to(device), Xs, device).numpy()

    def predict_proba(self, X: Any) -> np.ndarray:
        """``softmax_k(<h, c_k> / tau_balance)``, the soft assignment of the loss (rows sum to 1)."""
        h = torch.from_numpy(self.transform(X))
        return soft_assignment(h, torch.from_numpy(self.cluster_centers_), self.config_["tau_balance"]).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """``argmax_k <h, c_k>``. No groups needed."""
        return (self.transform(X) @ self.cluster_centers_.T).argmax(1)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the fitted model (every fitted attribute; tensors and plain values only) to ``path``."""
        self._check_fitted()
        save_model(self, path, FORMAT, FORMAT_VERSION)

    @classmethod
    def load(cls, path: str | Path) -> "FCMI":
        """Read a model written by :meth:`save`. Never executes code from the file."""
        return load_model(cls, path, FORMAT, FORMAT_VERSION)

    def _empty_module(self, name: str) -> nn.Module:
        """The untrained network a saved state dict of attribute ``name`` (``net_``) loads into."""
        return FCMINet(self.input_shape_, self.cluster_centers_.shape[1], len(self.groups_), self.tanh_output_)
