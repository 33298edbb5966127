"""DEC (Xie et al. 2016) on the shared pretrained encoder: the paper's "DEC" row, no fairness."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..config import DECConfig
from ..embedding import soft_assign
from ..pretrain import train_dec
from ..utils import resolve_device
from .base import store_params
from .shared_encoder import FeatureClusterMixin, pretrained_encoder


class DECAE(FeatureClusterMixin):
    """Deep Embedded Clustering started from DFC's cached shared VAE encoder.

    k-means on ``mu`` initialises the centres, then encoder and centres are self-trained
    on all samples (groups are ignored) with :func:`fairclust.pretrain.train_dec`, the same
    routine that trains DFC's per-group teachers. ``labels_`` are ``argmax_k q_ik`` of the
    trained DEC head (encoder in eval mode).

    Parameters
    ----------
    n_clusters : int, default=10
    recipe : str, default="default"
        Pretraining and DEC lengths come from this recipe (``dec_iters`` overrides).
    dec_iters : int, default=None
        DEC self-training iterations (recipe: 500 for ``default``).
    random_state : int, default=None
    """

    Config = DECConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", dec_iters: int | None = None,
                 latent_dim: int | None = None, pretrain_epochs: int | None = None,
                 pretrain_max_samples: int | None = None, device: str | None = None,
                 cache_dir: str | bool | None = None, random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "DECAE":
        cfg, X, codes, seed = self._start_fit(X, sensitive_features)
        self.encoder_, X = pretrained_encoder(self, cfg, X, codes, seed)
        centers, q = train_dec(self.encoder_, torch.from_numpy(X), self.n_clusters, cfg, seed,
                               resolve_device(self.device), desc="DEC", verbose=self.verbose)
        self.encoder_.eval()
        self.cluster_centers_ = centers.numpy().astype(np.float32)
        self.labels_ = q.argmax(1).numpy().astype(np.int64)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Student-t soft assignment of the DEC head (rows sum to 1)."""
        check_is_fitted(self, "cluster_centers_")
        X = self._validate_predict(X)
        return soft_assign(self.encoder_, torch.from_numpy(self.cluster_centers_), torch.from_numpy(self._scale(X)),
                           resolve_device(self.device)).numpy()

    def predict(self, X: Any) -> np.ndarray:
        return self.predict_proba(X).argmax(1)
