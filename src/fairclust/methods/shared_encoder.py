"""The features every non-deep baseline clusters: ``mu`` of the shared pretrained encoder.

One place for the paper's "same encoder for all comparable methods": the encoder comes
from :class:`fairclust.pretrain.Pretrainer` (so DFC, k-means, DEC and the fair baselines
share one cached pretraining), and its eval-mode ``mu`` is the feature vector of a sample.
``feature_space="raw"`` skips the encoder and clusters the flattened input instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.metrics.pairwise import euclidean_distances, pairwise_distances_argmin
from sklearn.utils.validation import check_is_fitted

from ..cache import StageCache
from ..config import EncoderConfig
from ..embedding import embed
from ..pretrain import Pretrainer
from ..utils import resolve_device, seed_everything
from .base import EmbeddingMixin, FairClusterMixin


def pretrained_encoder(est: Any, cfg: EncoderConfig, X: np.ndarray, codes: np.ndarray,
                       seed: int) -> tuple[torch.nn.Module, np.ndarray]:
    """The shared VAE encoder of the settings ``cfg`` (cached), and ``X`` as that encoder reads it.

    ``est`` supplies ``device``, ``cache_dir`` and ``verbose``; feature vectors are standardised
    as DFC does (``est._fit_scaler``), so DFC and every baseline with the same encoder settings
    share one cache entry. Sets ``est.timings_`` to the pretraining stages' seconds.
    """
    Xn = torch.from_numpy(est._fit_scaler(X, cfg.input_side))
    seed_everything(seed)
    pre = Pretrainer(est._teachers_input(X, Xn), codes, cfg, seed, resolve_device(est.device),
                     StageCache(est.cache_dir), verbose=est.verbose, net_X=Xn)
    encoder, _ = pre.shared_encoder()
    est.timings_ = {f"pretrain_{k}": v for k, v in pre.timings.items()}
    return encoder, Xn.numpy()


def pretrained_features(est: Any, cfg: EncoderConfig, X: np.ndarray, codes: np.ndarray, seed: int) -> np.ndarray:
    """``mu`` of every sample under the shared encoder; sets ``est.encoder_`` (and ``timings_``)."""
    est.encoder_, Xs = pretrained_encoder(est, cfg, X, codes, seed)
    return embed(est.encoder_, torch.from_numpy(Xs), resolve_device(est.device)).numpy()


class FeatureClusterMixin(EmbeddingMixin, FairClusterMixin):
    """Estimators that cluster feature vectors: pretrained ``mu`` (default) or the raw input.

    Subclasses' configs are :class:`~fairclust.config.EncoderConfig` subclasses with a
    ``feature_space`` setting; they call :meth:`_fit_features` in ``fit`` and get
    :meth:`transform` and (with ``cluster_centers_``) :meth:`predict`.
    """

    def _fit_features(self, cfg: EncoderConfig, X: np.ndarray, codes: np.ndarray, seed: int) -> np.ndarray:
        if cfg.feature_space == "raw":
            self.encoder_ = self.scaler_mean_ = self.scaler_scale_ = None
            self.timings_ = {}
            return X.reshape(X.shape[0], -1)
        return pretrained_features(self, cfg, X, codes, seed)

    def transform(self, X: Any) -> np.ndarray:
        """The features this estimator clusters (``mu`` of the encoder, or the flattened input)."""
        check_is_fitted(self, "labels_")
        X = self._validate_predict(X)
        if self.encoder_ is None:
            return X.reshape(X.shape[0], -1)
        return embed(self.encoder_, torch.from_numpy(self._scale(X)), resolve_device(self.device)).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Nearest centre in feature space. Groups are not used, so fairness is not enforced here."""
        check_is_fitted(self, "cluster_centers_")
        return nearest_center(self.transform(X), self.cluster_centers_)


def nearest_center(Z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of every row (Euclidean; scikit-learn, chunked in memory)."""
    return pairwise_distances_argmin(np.asarray(Z, dtype=np.float64), np.asarray(centers, dtype=np.float64))


def sq_distances(Z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """``||z_i - c_k||^2`` for every row and centre (float64; scikit-learn)."""
    return euclidean_distances(np.asarray(Z, dtype=np.float64), np.asarray(centers, dtype=np.float64), squared=True)
