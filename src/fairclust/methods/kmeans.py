"""k-means on the pretrained encoder's features: the paper's "AE" row, no fairness."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..cache import StageCache
from ..config import resolve
from ..pretrain import Pretrainer, embed, kmeans
from ..utils import check_seed, resolve_device, seed_everything
from .base import FairClusterMixin


class KMeansAE(FairClusterMixin):
    """k-means (``n_init`` restarts) on ``mu`` of the shared pretrained VAE encoder.

    The encoder is DFC's own shared encoder, taken from the same cache, so DFC and this
    baseline see exactly the same pretrained features. ``sensitive_features`` are used
    only to draw the group-balanced pretraining batches, as for DFC.
    """

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", n_init: int = 10,
                 pretrain_epochs: int | None = None, latent_dim: int | None = None, device: str | None = None,
                 cache_dir: str | bool | None = None, random_state: int | None = None, verbose: bool = False):
        self.n_clusters = n_clusters
        self.recipe = recipe
        self.n_init = n_init
        self.pretrain_epochs = pretrain_epochs
        self.latent_dim = latent_dim
        self.device = device
        self.cache_dir = cache_dir
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "KMeansAE":
        X, codes = self._validate_fit(X, sensitive_features)
        seed = check_seed(self.random_state)
        cfg = resolve(self.recipe, pretrain_epochs=self.pretrain_epochs, latent_dim=self.latent_dim)
        device = resolve_device(self.device)
        seed_everything(seed)
        pre = Pretrainer(torch.from_numpy(X), codes, cfg.pretrain, seed, device, StageCache(self.cache_dir),
                         verbose=self.verbose)
        self.encoder_, _ = pre.shared_encoder()
        Z = embed(self.encoder_, torch.from_numpy(X), device).numpy()
        km = kmeans(Z, self.n_clusters, self.n_init, seed)
        self.cluster_centers_ = km.cluster_centers_.astype(np.float32)
        self.labels_ = km.labels_.astype(np.int64)
        self.timings_ = {f"pretrain_{k}": v for k, v in pre.timings.items()}
        return self

    def transform(self, X: Any) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "cluster_centers_")
        return embed(self.encoder_, torch.from_numpy(self._validate_predict(X)), resolve_device(self.device)).numpy()

    def predict(self, X: Any) -> np.ndarray:
        Z = self.transform(X)
        d2 = ((Z[:, None, :] - self.cluster_centers_[None]) ** 2).sum(-1)
        return d2.argmin(1)
