"""FCMI, deep Fair Clustering via maximising and minimising Mutual Information (Zeng, Li, Hu,
Peng, Lv, Peng, CVPR 2023), written from the paper and the settings of its released code
(github.com/PengxinZeng/2023-CVPR-FCMI; file:line references below are to that code).

The model: one shared encoder maps a sample to a unit-norm representation ``h``
(:func:`fairclust.nn.make_encoder`'s ``mu``, L2-normalised; conv for images, MLP for feature
vectors), one decoder per group (:func:`fairclust.nn.make_decoder`) reconstructs it. The
networks take the authors' plain form (``norm=False``: no BatchNorm, biases, a 256-wide layer;
for images the decoders' fully connected part is shared): with fairclust's BatchNorm networks
the same code reached 0.40 accuracy on ``digits-reverse`` where the authors' reach 0.84
(docs/results.md, "FCMI parity"). Every
epoch, k-means on the representations of all samples gives the centroids ``c_k``
(normalised, fixed for the epoch); a sample's soft assignment is
``softmax_k(<h, c_k> / tau)``. The loss (:mod:`fairclust.methods.fcmi_losses`) is

    L = L_rec + alpha * (-H(C) + H(C | X)) + beta * I(G; C)

with only ``L_rec`` during the first ``warmup_epochs`` epochs. A sample's cluster is
``argmax_k <h, c_k>`` under the centroids the last epoch trained with.

Settings live in one place, :class:`FCMISettings` and :data:`RECIPES`:

``paper``   the authors' defaults (main.py): batch 512, 300 epochs of which 20 warm-up,
            Adam lr 1e-3, alpha 0.04, beta 0.2, both temperatures 0.1, representation
            size K, k-means with 10 restarts on at most 1,000 points per cluster.
``default`` the same method, weights, temperatures, optimiser and k-means, with shorter
            lengths for a CPU and data sets of a few thousand samples: batch 128, at most
            50 epochs of which 10 warm-up, stopped once fewer than 1% of the labels change
            between two epochs (DEC's rule, as DFC's default recipe; the share is taken under
            the best one-to-one map of clusters, since k-means renumbers them every epoch).
            Why: FCMI's progress is counted in updates, and the authors' batch of 512 gives a
            3,600-sample set 7 updates an epoch (70,000 in their 300 MNIST epochs); 128 gives
            28. On ``digits-reverse`` (seeds 0-2) it stops after 15-20 epochs at accuracy
            0.81-0.85, Balance 0.94-0.98: the authors' own code with ``paper`` reaches 0.74-0.87
            there in 21 minutes a run, this recipe in under a minute (docs/results.md, "FCMI
            parity"). It is the default because ``paper`` is 26x slower for the same quality.

The warm-up (reconstruction only) is a pretraining stage: it is cached
(:mod:`fairclust.cache`), keyed by the data, its settings and the seed, so runs that differ
only in the clustering weights (e.g. ``beta=0``) share it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import distributed, metrics
from ..cache import StageCache, fingerprint
from ..config import Setting
from ..embedding import batched_map, kmeans
from ..errors import FairclustError
from ..nn import make_decoder, make_encoder
from ..persist import load_model, save_model
from ..utils import progress, resolve_device, seed_everything
from ._features import store_params
from .base import EmbeddingMixin, FairClusterMixin
from .fcmi_losses import fcmi_objective, reconstruction_loss, soft_assignment

FORMAT = "fairclust-fcmi"
FORMAT_VERSION = 3  # 2: every fitted attribute (fairclust.persist); 3: the plain network (no BatchNorm)
PLAIN_HIDDEN = 256  # network:163-165, 176-178


@dataclass(frozen=True)
class FCMISettings:
    """Every FCMI hyper-parameter; the comment says where the authors' value is set."""

    batch_size: int = 512  # main.py:22
    epochs: int = 300  # main.py:23, warm-up included (network:359, 522)
    warmup_epochs: int = 20  # main.py:42 WarmAll: reconstruction only before it (network:522)
    lr: float = 1e-3  # main.py:72, constant (LearnRateDecayType None, main.py:73)
    betas: tuple[float, float] = (0.9, 0.999)  # main.py:76-77
    weight_decay: float = 0.0  # main.py:74
    reconstruction: float = 1.0  # main.py:51, MSE on the whole image (network:500)
    alpha: float = 0.04  # main.py:81 LambdaClu -> InfoBalanceLoss (-H(C)) and OneHot (H(C|X)), main.py:89-91
    beta: float = 0.2  # main.py:82 LambdaFair -> InfoFairLoss (I(G;C)), main.py:92-93
    tau_balance: float = 0.1  # main.py:48, softmax temperature of -H(C) and I(G;C) (network:583)
    tau_onehot: float = 0.1  # main.py:49, softmax temperature of H(C|X) (network:712)
    latent_dim: int = 0  # main.py:35 representation_dim; 0 means K (network:138-141)
    kmeans_n_init: int = 10  # network:85 nredo
    kmeans_max_iter: int = 300  # network:84 niter
    kmeans_points_per_cluster: int = 1000  # network:86-87 (MainLauncher.py:21 LimitKmeans = True)
    stop_tol: float = 0.0  # > 0: stop when fewer than this share of labels changed in an epoch (not the authors')

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "FCMISettings":
        d = dict(d)
        d["betas"] = tuple(d.get("betas", (0.9, 0.999)))
        return cls(**d)


RECIPES: dict[str, FCMISettings] = {
    "paper": FCMISettings(),
    "default": FCMISettings(batch_size=128, epochs=50, warmup_epochs=10, stop_tol=0.01),
}

# FCMI's own command-line flags, declared like DFC's (fairclust.config.Setting), values from RECIPES;
# the settings it shares with DFC (batch_size, epochs, lr, stop_tol, latent_dim) are in config.SETTINGS
_FLAGS = (("alpha", "--fcmi-alpha", "FCMI: weight of -H(C) + H(C | X), from max I(X; C | G)"),
          ("beta", "--fcmi-beta", "FCMI: weight of I(G; C), the fairness term (0 drops it)"),
          ("warmup_epochs", "--warmup-epochs", "FCMI: reconstruction-only epochs first, counted in --epochs"),
          ("tau_balance", "--tau-balance", "FCMI: softmax temperature of the assignment in H(C) and I(G; C)"),
          ("tau_onehot", "--tau-onehot", "FCMI: softmax temperature of the assignment in H(C | X)"))
FCMI_SETTINGS: tuple[Setting, ...] = tuple(
    Setting(name, type(getattr(RECIPES["paper"], name)), getattr(RECIPES["paper"], name), text,
            recipes={"default": getattr(RECIPES["default"], name)}, minimum=0, flag=flag, methods=("fcmi",))
    for name, flag, text in _FLAGS)

# estimator arguments that override a recipe's field of the same name
OVERRIDES = ("batch_size", "epochs", "warmup_epochs", "lr", "alpha", "beta", "tau_balance", "tau_onehot",
             "latent_dim", "stop_tol")
_INTS = ("batch_size", "epochs", "warmup_epochs", "latent_dim")


def resolve(recipe: str, **overrides: Any) -> FCMISettings:
    """The recipe's settings with the non-``None`` overrides applied and checked."""
    if recipe not in RECIPES:
        raise FairclustError(f"unknown FCMI recipe {recipe!r}; choose one of: {', '.join(sorted(RECIPES))}")
    values = {}
    for name, value in overrides.items():
        if value is None:
            continue
        if name not in OVERRIDES:
            raise FairclustError(f"unknown FCMI setting {name!r}; choose from: {', '.join(OVERRIDES)}")
        if isinstance(value, (bool, np.bool_)):
            raise FairclustError(f"{name} must be a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise FairclustError(f"{name} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise FairclustError(f"{name} must be finite, got {value!r}")
        if name in _INTS:
            if number != int(number):
                raise FairclustError(f"{name} must be a whole number, got {value!r}")
            number = int(number)
        values[name] = number
    base = RECIPES[recipe]
    if "epochs" in values and "warmup_epochs" not in values:  # the recipe's share of the epochs
        values["warmup_epochs"] = int(round(values["epochs"] * base.warmup_epochs / base.epochs))
    s = dataclasses.replace(base, **values)
    for name in ("batch_size", "epochs", "lr", "tau_balance", "tau_onehot"):
        if not getattr(s, name) > 0:
            raise FairclustError(f"{name} must be positive, got {getattr(s, name)}")
    for name in ("warmup_epochs", "alpha", "beta", "latent_dim"):
        if getattr(s, name) < 0:
            raise FairclustError(f"{name} must be >= 0, got {getattr(s, name)}")
    if not 0.0 <= s.stop_tol < 1.0:
        raise FairclustError(f"stop_tol must be in [0, 1), got {s.stop_tol}; e.g. stop_tol=0.01 (0: never stop early)")
    if s.warmup_epochs >= s.epochs:
        raise FairclustError(f"warmup_epochs={s.warmup_epochs} leaves no clustering epoch of epochs={s.epochs}; "
                             "lower warmup_epochs or raise epochs")
    return s


# ----------------------------------------------------------------------------- the network
class FCMINet(nn.Module):
    """Shared encoder (unit-norm ``mu``) and one decoder per group; ``forward`` is one batch's loss."""

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int, n_groups: int, tanh_output: bool):
        super().__init__()
        # the authors' plain form: no BatchNorm, a 256-wide layer, the decoders' fully connected part shared
        self.encoder = make_encoder(input_shape, latent_dim, norm=False, hidden=PLAIN_HIDDEN)
        self.decoders = nn.ModuleList(make_decoder(input_shape, latent_dim, norm=False, hidden=PLAIN_HIDDEN)
                                      for _ in range(n_groups))
        if len(input_shape) == 3:  # network:174-180 one decoder_linear, network:183-202 a deconv stack per group
            for dec in self.decoders[1:]:
                dec.fc = self.decoders[0].fc
        self.tanh_output = bool(tanh_output)
        self.gather = None  # set by fairclust.distributed.wrap under DDP

    def represent(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``h = mu / ||mu||`` (and ``logvar``, unused: it only keeps every parameter in the graph)."""
        mu, logvar = self.encoder(x)
        return F.normalize(mu, dim=1), logvar

    def decode(self, h: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row through its own group's decoder (the authors' GroupWiseDecoder, network:290-299).

        Returns the reconstructions (flattened) and a zero that touches the decoders of
        groups absent from the batch, so that every parameter takes part (DDP) alike.
        """
        out, unused = None, h.new_zeros(())
        for gi, dec in enumerate(self.decoders):
            rows = torch.nonzero(g == gi).flatten()
            if rows.numel() == 0:
                unused = unused + sum(p.sum() for p in dec.parameters()) * 0.0
                continue
            hb = h[rows]
            if rows.numel() == 1:  # a lone row goes through twice, as the authors do (network:297)
                xb = dec(torch.cat([hb, hb]))[:1]
            else:
                xb = dec(hb)
            xb = xb.flatten(1)
            if out is None:
                out = xb.new_zeros((h.shape[0], xb.shape[1]))
            out = out.index_copy(0, rows, xb)
        if self.tanh_output:
            out = torch.tanh(out)
        return out, unused

    def forward(self, x: torch.Tensor, g_local: torch.Tensor, g_batch: torch.Tensor, n_groups: int,
                centers: torch.Tensor | None, s: FCMISettings) -> tuple[torch.Tensor, dict]:
        """The loss of one batch. Under DDP ``x``/``g_local`` are this rank's share and the
        clustering terms are computed on the all-gathered ``h`` of the whole batch ``g_batch``."""
        h, logvar = self.represent(x)
        x_rec, unused = self.decode(h, g_local)
        l_rec = reconstruction_loss(x.flatten(1), x_rec)
        loss = s.reconstruction * l_rec + unused + 0.0 * logvar.sum()
        terms = {"L_rec": l_rec.detach()}
        if centers is not None:
            h_all = h if self.gather is None else self.gather(h, 1)
            l_clu, more = fcmi_objective(h_all, centers, g_batch, n_groups, alpha=s.alpha, beta=s.beta,
                                         tau_balance=s.tau_balance, tau_onehot=s.tau_onehot)
            loss = loss + l_clu
            terms.update(more)
        terms["loss"] = loss.detach()
        return loss, terms


@torch.no_grad()
def represent_all(net: FCMINet, X: torch.Tensor | np.ndarray, device: torch.device) -> torch.Tensor:
    """``h`` of every sample, network in eval mode, on the CPU."""
    was = net.training
    net.eval()
    out = batched_map(lambda xb: net.represent(xb)[0], X, batch_size=2048, device=device)
    net.train(was)
    return out


def fit_centroids(H: np.ndarray, n_clusters: int, s: FCMISettings, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k-means on the representations (the authors' faiss k-means, network:81-96): at most
    ``kmeans_points_per_cluster * K`` points drawn with ``seed``, ``kmeans_n_init`` restarts;
    returns the unit-norm centroids (network:225-228) and the k-means labels of every row."""
    rng = np.random.default_rng(seed)
    cap = s.kmeans_points_per_cluster * n_clusters
    sub = H if H.shape[0] <= cap else H[np.sort(rng.choice(H.shape[0], cap, replace=False))]
    km = kmeans(sub, n_clusters, s.kmeans_n_init, seed)
    centers = km.cluster_centers_ / np.maximum(np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True), 1e-12)
    return centers.astype(np.float32), km.predict(np.asarray(H, dtype=np.float64))


def changed_share(previous: np.ndarray, labels: np.ndarray) -> float:
    """Share of labels that changed, under the best one-to-one map of the clusters (the
    centroids are refitted every epoch, so their indices are arbitrary)."""
    return 1.0 - metrics.accuracy(previous, labels)


# ----------------------------------------------------------------------------- the estimator
class FCMI(EmbeddingMixin, FairClusterMixin):
    """FCMI: clusters from an auto-encoder's representation that maximise I(X; C | G) and minimise I(G; C).

    Parameters
    ----------
    n_clusters : int, default=10
    recipe : {"default", "paper"}, default="default"
        ``paper``: the authors' settings (batch 512, 300 epochs with 20 of warm-up).
        ``default``: the same method sized for a CPU (batch 128, at most 50 epochs with
        10 of warm-up, stopped when fewer than 1% of the labels change in an epoch).
    alpha, beta : float, default=None
        Weights of ``-H(C) + H(C | X)`` (from ``max I(X; C | G)``) and of ``I(G; C)``
        (recipe: 0.04 and 0.2). ``beta=0`` drops the fairness term.
    batch_size, epochs, warmup_epochs, lr : default=None
        Samples per batch (all groups mixed), total epochs, reconstruction-only epochs
        first (when only ``epochs`` is given: the recipe's share of them, 1/5 or 1/15),
        Adam learning rate.
    tau_balance, tau_onehot : float, default=None
        Softmax temperatures of the assignment in ``H(C)``, ``I(G; C)`` and in ``H(C | X)``.
    latent_dim : int, default=None
        Size of the representation (recipe: 0, meaning ``n_clusters``, as the authors).
    stop_tol : float, default=None
        Stop once fewer than this share of labels changed in an epoch (0: run every epoch).
    device, cache_dir, random_state, verbose
        As for the other deep methods; the warm-up is cached in ``cache_dir``.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
        Unit-norm centroids the last epoch trained with.
    warmup_kmeans_labels_ : ndarray of shape (n_samples,)
        k-means on the warm-up (auto-encoder only) representation: where clustering starts.
    history_ : dict
        ``epoch`` and the mean loss terms per epoch, ``evals``: per epoch the share of labels
        changed and, when ``y`` is given to ``fit``, accuracy / NMI / Balance (also of
        ``warmup_kmeans_labels_``, under ``warmup_kmeans``).
    """

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", alpha: float | None = None,
                 beta: float | None = None, batch_size: int | None = None, epochs: int | None = None,
                 warmup_epochs: int | None = None, lr: float | None = None, tau_balance: float | None = None,
                 tau_onehot: float | None = None, latent_dim: int | None = None, stop_tol: float | None = None,
                 device: str | None = None, cache_dir: str | bool | None = None, random_state: int | None = None,
                 verbose: bool = False):
        store_params(self, locals())

    def _settings(self) -> FCMISettings:
        return resolve(self.recipe, **{name: getattr(self, name) for name in OVERRIDES})

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "FCMI":
        """Train on ``X`` with groups ``sensitive_features``; ``y`` (optional) only fills ``history_``."""
        t_start = time.perf_counter()
        s = self._settings()
        X, codes = self._validate_fit(X, sensitive_features)
        y_arr = None if y is None else np.asarray(y).reshape(-1)
        if y_arr is not None and y_arr.shape[0] != X.shape[0]:
            raise FairclustError(f"X has {X.shape[0]} samples but y has {y_arr.shape[0]}; pass one label per sample")
        seed = self._fit_seed()
        k, n_groups = int(self.n_clusters), len(self.groups_)
        self.tanh_output_ = bool(X.ndim == 4 and X.min() >= 0.0 and X.max() <= 1.0)
        Xt = torch.from_numpy(self._inputs(self._fit_scaler(X)))
        dctx = distributed.context(self.device)
        device = dctx.device if dctx else resolve_device(self.device)
        verbose = self.verbose and distributed.is_main()
        world = dctx.world_size if dctx else 1
        latent = s.latent_dim or k

        seed_everything(seed)
        net = FCMINet(tuple(X.shape[1:]), latent, n_groups, self.tanh_output_).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=s.lr, betas=s.betas, weight_decay=s.weight_decay)
        model = distributed.wrap(dctx, net)
        n = X.shape[0]
        b = max(world, min(s.batch_size, n) // world * world)  # a multiple of the number of processes
        per_epoch = max(1, n // b)  # full batches only (the authors' drop_last, dataset.py:424-427)
        on_device = device.type == "cuda"
        X_src = Xt.to(device) if on_device else Xt
        codes_t = torch.from_numpy(codes).to(device)
        history: dict = {"epoch": [], "loss": [], "L_rec": [], "neg_H_C": [], "H_C_given_X": [], "I_G_C": [],
                         "evals": []}

        def run_epoch(epoch: int, rng: np.random.Generator, centers: torch.Tensor | None) -> None:
            order = torch.from_numpy(rng.permutation(n))
            sums: dict[str, float] = {}
            net.train()
            for it in range(per_epoch):
                idx = order[it * b:(it + 1) * b].to(device)
                mine = idx if dctx is None else idx.view(world, -1)[dctx.rank]
                g_batch = codes_t[idx]
                loss, terms = (model or net)(X_src[mine].to(device), codes_t[mine], g_batch, n_groups, centers, s)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                for key, v in terms.items():
                    sums[key] = sums.get(key, 0.0) + float(v)
            history["epoch"].append(epoch + 1)
            for key in ("loss", "L_rec", "neg_H_C", "H_C_given_X", "I_G_C"):
                history[key].append(sums[key] / per_epoch if key in sums else None)

        # warm-up: reconstruction only; a cached pretraining stage
        t0 = time.perf_counter()
        cache = StageCache(self.cache_dir)
        warm_key = cache.key("fcmi-warmup", data=fingerprint(Xt, codes), seed=seed, world=world,
                             settings={f: getattr(s, f) for f in ("batch_size", "warmup_epochs", "lr", "betas",
                                                                   "weight_decay", "reconstruction")},
                             latent=latent, tanh=self.tanh_output_)
        hit = cache.get("fcmi-warmup", warm_key) if s.warmup_epochs > 0 else None
        if distributed.broadcast_flag(dctx, hit is not None) and hit is None:  # rank 0 found it: so do all
            hit = cache.get("fcmi-warmup", warm_key)
        self.warmup_from_cache_ = hit is not None
        if hit is not None:
            net.load_state_dict(hit["net"])
            opt.load_state_dict(hit["optimizer"])
            for key in history:
                if key != "evals":
                    history[key] = list(hit["history"][key])
        else:
            rng = np.random.default_rng([seed, 0])
            for epoch in progress(range(s.warmup_epochs), desc="FCMI warm-up", enabled=verbose):
                run_epoch(epoch, rng, None)
            if s.warmup_epochs > 0 and distributed.is_main():
                cache.put("fcmi-warmup", warm_key, {
                    "net": {k_: v.detach().cpu() for k_, v in net.state_dict().items()},
                    "optimizer": opt.state_dict(),
                    "history": {k_: v for k_, v in history.items() if k_ != "evals"}})
        t_warm = time.perf_counter() - t0

        # clustering epochs: k-means on every sample's h, then one epoch against those centroids
        t1 = time.perf_counter()
        rng = np.random.default_rng([seed, 1])
        centers = previous = None
        self.warmup_kmeans_labels_ = None
        bar = progress(range(s.warmup_epochs, s.epochs), desc="FCMI", enabled=verbose)
        for epoch in bar:
            H = represent_all(net, X_src, device)
            if centers is not None and self._evaluate(H, centers, previous, codes, y_arr, history, epoch, s):
                break
            c_np, km_labels = fit_centroids(H.numpy(), k, s, seed + epoch)
            c_np = distributed.broadcast_array(dctx, c_np)  # rank 0's centroids everywhere
            if self.warmup_kmeans_labels_ is None:
                self.warmup_kmeans_labels_ = distributed.broadcast_array(dctx, km_labels.astype(np.int64))
                if y_arr is not None:  # where clustering starts: k-means on the auto-encoder's representation
                    rep = metrics.report(self.warmup_kmeans_labels_, sensitive_features=codes, labels_true=y_arr)
                    history["warmup_kmeans"] = {m_: rep[m_] for m_ in ("accuracy", "nmi", "balance")}
            previous = history["evals"][-1]["_labels"] if history["evals"] else None
            centers = torch.from_numpy(c_np).to(device)
            run_epoch(epoch, rng, centers)
            if verbose:
                bar.set_postfix(loss=f"{history['loss'][-1]:.4f}")
        else:
            H = represent_all(net, X_src, device)
            self._evaluate(H, centers, previous, codes, y_arr, history, s.epochs, s)
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

    def _evaluate(self, H: torch.Tensor, centers: torch.Tensor, previous: np.ndarray | None, codes: np.ndarray,
                  y: np.ndarray | None, history: dict, epoch: int, s: FCMISettings) -> bool:
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
        from sklearn.utils.validation import check_is_fitted

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
