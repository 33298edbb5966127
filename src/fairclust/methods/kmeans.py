"""k-means on the pretrained encoder's features: the paper's "AE" row, no fairness."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..embedding import kmeans
from ._features import FeatureClusterMixin, store_params


class KMeansAE(FeatureClusterMixin):
    """k-means (``n_init`` restarts) on ``mu`` of the shared pretrained VAE encoder.

    The encoder is DFC's own shared encoder, taken from the same cache, so DFC and this
    baseline see exactly the same pretrained features. ``sensitive_features`` are used
    only to draw the group-balanced pretraining batches, as for DFC. ``features="raw"``
    runs k-means on the flattened input instead.
    """

    def __init__(self, n_clusters: int = 10, *, features: str = "pretrained", recipe: str = "default",
                 n_init: int = 10, pretrain_epochs: int | None = None, latent_dim: int | None = None,
                 device: str | None = None, cache_dir: str | bool | None = None, random_state: int | None = None,
                 verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "KMeansAE":
        X, codes = self._validate_fit(X, sensitive_features)
        seed = self._fit_seed()
        Z = self._fit_features(X, codes, seed)
        km = kmeans(Z, self.n_clusters, self.n_init, seed)
        self.cluster_centers_ = km.cluster_centers_.astype(np.float32)
        self.labels_ = km.labels_.astype(np.int64)
        return self
