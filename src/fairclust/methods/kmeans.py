"""k-means on the pretrained encoder's features: the paper's "AE" row, no fairness."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import KMeansConfig
from ..embedding import kmeans
from .base import store_params
from .shared_encoder import FeatureClusterMixin


class KMeansAE(FeatureClusterMixin):
    """k-means (``n_init`` restarts) on ``mu`` of the shared pretrained VAE encoder.

    The encoder is DFC's own shared encoder, taken from the same cache, so DFC and this
    baseline see exactly the same pretrained features. ``sensitive_features`` are used
    only to draw the group-balanced pretraining batches, as for DFC. ``feature_space="raw"``
    runs k-means on the flattened input instead. Settings: :class:`fairclust.config.KMeansConfig`
    (``None``: the recipe's value).
    """

    Config = KMeansConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", feature_space: str | None = None,
                 n_init: int | None = None, latent_dim: int | None = None, pretrain_epochs: int | None = None,
                 pretrain_max_samples: int | None = None, device: str | None = None,
                 cache_dir: str | bool | None = None, random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "KMeansAE":
        cfg, X, codes, seed = self._start_fit(X, sensitive_features)
        Z = self._fit_features(cfg, X, codes, seed)
        km = kmeans(Z, self.n_clusters, cfg.n_init, seed)
        self.cluster_centers_ = km.cluster_centers_.astype(np.float32)
        self.labels_ = km.labels_.astype(np.int64)
        return self
