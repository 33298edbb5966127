"""DAC, Deep Adaptive Clustering (Chang, Wang, Meng, Xiang, Pan, ICCV 2017): the paper's "DAC" row.

A network maps every image to a K-dim "label feature" ``l_i = softmax(head(mu_i))``; pairs
whose cosine similarity exceeds ``u`` are trained as same-cluster, below ``l`` as
different-cluster (binary cross-entropy on the similarity), and the thresholds move
towards each other (``u = 0.95 - lam``, ``l = 0.455 + 0.1 lam``, ``lam`` from 0 to 0.45)
until they meet. The network is DFC's encoder architecture, started from the cached
shared VAE encoder (so every deep row starts from the same pretraining), plus a linear
head initialised from k-means on ``mu`` (``softmax(-||mu - c_k||^2 / tau)``, sharp): from a random
head every label feature is nearly uniform, every pair looks "similar" and DAC collapses
into one cluster. Groups are not used (beyond the shared pretraining's balanced batches).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from ..config import DACConfig
from ..embedding import batched_map, embed, kmeans
from ..utils import progress, resolve_device
from .base import store_params
from .shared_encoder import FeatureClusterMixin, pretrained_encoder

# The head starts as softmax(-||mu - c_k||^2 / tau), tau = HEAD_SHARPNESS x the mean squared
# distance to the nearest k-means centre: near one-hot label features, so that pairs from
# different k-means clusters start below the "dissimilar" threshold. With tau = 1 x that
# distance the features were soft, most pairs looked similar and DAC collapsed on mnist-digits
# and reverse-mnist5k (2-7 clusters, Acc 0.10-0.19, docs/baselines.md).
HEAD_SHARPNESS = 0.1


class _LabelNet(nn.Module):
    def __init__(self, encoder: nn.Module, centers: np.ndarray, tau: float):
        super().__init__()
        self.encoder = encoder
        c = torch.as_tensor(centers, dtype=torch.float32)
        self.head = nn.Linear(c.shape[1], c.shape[0])
        with torch.no_grad():  # logits -||mu - c_k||^2 / tau up to a per-sample constant
            self.head.weight.copy_(2.0 * c / tau)
            self.head.bias.copy_(-(c ** 2).sum(1) / tau)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.head(self.encoder(x)[0]), dim=1)


def dac_loss(l: torch.Tensor, upper: float, lower: float) -> torch.Tensor:
    """DAC's loss on one batch of label features ``l`` (b x K)."""
    ln = F.normalize(l, dim=1)
    sim = (ln @ ln.T).clamp(1e-7, 1 - 1e-7)
    pos, neg = (sim > upper).float(), (sim < lower).float()
    sel = pos + neg
    bce = -(pos * torch.log(sim) + neg * torch.log(1 - sim))
    return (bce * sel).sum() / sel.sum().clamp_min(1.0)


class DeepAdaptiveClustering(FeatureClusterMixin):
    """DAC on DFC's encoder architecture, started from the shared pretrained encoder.

    Parameters
    ----------
    n_clusters : int, default=10
    n_iters : int, default=None (recipe: 300)
        Training iterations (the thresholds meet at the last one).
    batch_total : int, default=None (recipe: 128)
    lr : float, default=None (recipe: 1e-4)
    random_state : int, default=None

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        ``argmax`` of the label features (network in eval mode), all samples.
    """

    Config = DACConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", n_iters: int | None = None,
                 batch_total: int | None = None, lr: float | None = None, latent_dim: int | None = None,
                 pretrain_epochs: int | None = None, pretrain_max_samples: int | None = None,
                 device: str | None = None, cache_dir: str | bool | None = None, random_state: int | None = None,
                 verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "DeepAdaptiveClustering":
        cfg, X, codes, seed = self._start_fit(X, sensitive_features)
        device = resolve_device(self.device)
        encoder, X = pretrained_encoder(self, cfg, X, codes, seed)
        km = kmeans(embed(encoder, torch.from_numpy(X), device).numpy(), self.n_clusters, 10, seed)
        tau = HEAD_SHARPNESS * float(km.inertia_ / X.shape[0]) or 1.0
        torch.manual_seed(seed)
        net = _LabelNet(encoder, km.cluster_centers_, tau).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        rng = np.random.default_rng(seed)
        Xt = torch.from_numpy(X)
        b = min(cfg.batch_total, X.shape[0])
        net.train()
        for it in progress(range(cfg.n_iters), desc="DAC", enabled=self.verbose):
            lam = 0.45 * it / max(1, cfg.n_iters - 1)
            idx = torch.from_numpy(rng.choice(X.shape[0], b, replace=False))
            loss = dac_loss(net(Xt[idx].to(device)), 0.95 - lam, 0.455 + 0.1 * lam)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        self.net_ = net.eval()
        self.encoder_ = net.encoder
        self.labels_ = self._proba(X).argmax(1).astype(np.int64)
        return self

    def _proba(self, X: np.ndarray) -> np.ndarray:
        return batched_map(lambda xb: self.net_(xb), X, batch_size=2048, device=resolve_device(self.device)).numpy()

    def predict_proba(self, X: Any) -> np.ndarray:
        """The label features (softmax, rows sum to 1)."""
        check_is_fitted(self, "net_")
        return self._proba(self._scale(self._validate_predict(X)))

    def predict(self, X: Any) -> np.ndarray:
        return self.predict_proba(X).argmax(1)
