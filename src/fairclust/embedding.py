"""Batched inference with a trained encoder, and k-means: shared by pretraining, DFC and the baselines."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.cluster import KMeans

from .nn import student_t
from .utils import batched_map


@torch.no_grad()
def embed(encoder: torch.nn.Module, X: torch.Tensor, device: torch.device, batch_size: int = 2048) -> torch.Tensor:
    """``mu`` of every sample, encoder in eval mode (returned on CPU)."""
    was_training = encoder.training
    encoder.eval()
    out = batched_map(lambda xb: encoder(xb)[0], X, batch_size=batch_size, device=device)
    encoder.train(was_training)
    return out


@torch.no_grad()
def soft_assign(encoder: torch.nn.Module, centers: torch.Tensor, X: torch.Tensor, device: torch.device,
                alpha: float = 1.0, batch_size: int = 2048) -> torch.Tensor:
    """Student-t assignment of every sample, encoder in eval mode (z = mu), on CPU."""
    was_training = encoder.training
    encoder.eval()
    c = centers.detach().to(device)
    out = batched_map(lambda xb: student_t(encoder(xb)[0], c, alpha), X, batch_size=batch_size, device=device)
    encoder.train(was_training)
    return out


def kmeans(Z: np.ndarray, n_clusters: int, n_init: int, seed: int) -> KMeans:
    return KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit(np.asarray(Z, dtype=np.float64))
