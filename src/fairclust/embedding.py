"""Batched inference (memory independent of N) with a trained encoder, and k-means: shared by
pretraining, DFC and the baselines."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
import torch
from sklearn.cluster import KMeans

from .nn import student_t


@torch.no_grad()
def batched(fn: Callable[[torch.Tensor], Any], X: torch.Tensor | np.ndarray, *, batch_size: int = 4096,
            device: torch.device | None = None) -> Iterator[Any]:
    """Apply ``fn`` to consecutive batches of ``X`` moved to ``device`` (memory independent of N)."""
    n = X.shape[0]
    for start in range(0, n, batch_size):
        xb = X[start:start + batch_size]
        if isinstance(xb, np.ndarray):
            xb = torch.from_numpy(np.ascontiguousarray(xb))
        if device is not None:
            xb = xb.to(device, non_blocking=True)
        yield fn(xb)


def batched_map(fn: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor | np.ndarray, *, batch_size: int = 4096,
           device: torch.device | None = None) -> torch.Tensor:
    """``fn`` over batches of ``X`` (see :func:`batched`), the results stacked along dim 0.

    The CPU output is allocated once from the first batch's shape and filled in place, so it
    is held once (a list of batches followed by ``torch.cat`` holds it twice at the end).
    """
    out = None
    start = 0
    for yb in batched(fn, X, batch_size=batch_size, device=device):
        yb = yb.cpu()
        if out is None:
            out = torch.empty((X.shape[0],) + tuple(yb.shape[1:]), dtype=yb.dtype)
        out[start:start + yb.shape[0]] = yb
        start += yb.shape[0]
    return out if out is not None else torch.empty(0)


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
