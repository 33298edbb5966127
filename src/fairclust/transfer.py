"""Pairing clusters across groups by transfer: a small classifier trained on one group's teacher
labels predicts the other group (:func:`transfer_evidence`), used by :func:`fairclust.align.match`
(``kind="transfer"``).

Images are augmented in training (resolution, scale, rotation, shift, stroke width) and entered
with their ink positive, so framing, blur and contrast sign matter less than shape; feature
vectors are standardised per group, lightly masked and noised, and go through an MLP.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

TRANSFER_EPOCHS = 5  # passes of each transfer classifier over its group's samples ...
TRANSFER_MIN_STEPS = 300  # ... and at least this many updates (small groups) ...
# ... and at most this many (groups above 25,600 samples): a pairing needs a classifier good enough to tell the
# teachers' clusters apart, not one that has seen every sample five times; 70,000 a group would otherwise take 2,735
# updates a direction, 184 s of a 140,000-image run (docs/benchmarks.md)
TRANSFER_MAX_STEPS = 1000


def transfer_steps(n: int) -> int:
    """Updates of batch 128 a transfer classifier trains on a group of ``n`` samples: TRANSFER_EPOCHS passes, at least
    TRANSFER_MIN_STEPS, at most TRANSFER_MAX_STEPS."""
    return min(max(TRANSFER_EPOCHS * -(-n // 128), TRANSFER_MIN_STEPS), TRANSFER_MAX_STEPS)


def _transfer_input(X: np.ndarray) -> np.ndarray:
    """Images: each with its ink positive and its largest deviation 1. Vectors: standardised (per group)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 4:
        flat = X.reshape(len(X), -1)
        peak = flat[np.arange(len(X)), np.abs(flat).argmax(1)]
        return (X / np.where(np.abs(peak) > 1e-6, peak, 1.0)[:, None, None, None]).astype(np.float32)
    return ((X - X.mean(0)) / (X.std(0) + 1e-6)).astype(np.float32)


def _augment(x, gen):
    if x.ndim != 4:  # vectors: feature dropout and noise
        return x * (torch.rand(x.shape, generator=gen) > 0.1) + 0.1 * torch.randn(x.shape, generator=gen)
    n, _, h, w = x.shape
    s = int(torch.randint(max(4, h // 3), h + 1, (1,), generator=gen))
    if s < h:  # a random resolution: down and back up
        x = F.interpolate(F.interpolate(x, size=(s, s * w // h or 1), mode="area"), size=(h, w), mode="bilinear",
                          align_corners=False)
    ang = (torch.rand(n, generator=gen) - 0.5) * 0.5
    sc = 1 + (torch.rand(n, generator=gen) - 0.5) * 0.3
    th = torch.zeros(n, 2, 3)
    th[:, 0, 0], th[:, 0, 1] = torch.cos(ang) * sc, -torch.sin(ang) * sc
    th[:, 1, 0], th[:, 1, 1] = torch.sin(ang) * sc, torch.cos(ang) * sc
    th[:, :, 2] = (torch.rand(n, 2, generator=gen) - 0.5) * 0.2
    x = F.grid_sample(x, F.affine_grid(th, list(x.shape), align_corners=False), align_corners=False)
    r = float(torch.rand(1, generator=gen))
    if r < 0.25:  # thicker or thinner strokes
        x = F.max_pool2d(x, 3, 1, 1)
    elif r < 0.5:
        x = -F.max_pool2d(-x, 3, 1, 1)
    return x


def _transfer_probs(X_train: np.ndarray, labels: np.ndarray, X_test: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Train a small classifier on ``(X_train, labels)``; its class probabilities on ``X_test``.

    Seeded, and the caller's global torch random state is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        return _train_transfer(X_train, labels, X_test, k, seed)


def _train_transfer(X_train: np.ndarray, labels: np.ndarray, X_test: np.ndarray, k: int, seed: int) -> np.ndarray:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    if X_train.ndim == 4:
        c = X_train.shape[1]
        net = nn.Sequential(nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                            nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, k))
    else:
        net = nn.Sequential(nn.Linear(X_train.shape[1], 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, k))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    Xt, yt = torch.from_numpy(X_train), torch.from_numpy(labels.astype(np.int64))
    per_epoch = -(-len(Xt) // 128)
    steps = transfer_steps(len(Xt))
    for step in range(steps):
        if step % per_epoch == 0:
            order = torch.randperm(len(Xt), generator=gen)
        b = order[(step % per_epoch) * 128:(step % per_epoch + 1) * 128]
        loss = F.cross_entropy(net(_augment(Xt[b], gen)), yt[b], label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        return torch.cat([F.softmax(net(torch.from_numpy(X_test[i:i + 2048])), 1)
                          for i in range(0, len(X_test), 2048)]).numpy()


def transfer_evidence(X_ref: np.ndarray, P_ref: np.ndarray, X_g: np.ndarray, P_g: np.ndarray,
                      seed: int = 0) -> np.ndarray:
    """Evidence (reference cluster i x group cluster j, in [0, 1]) that the two clusters are one, by transfer.

    ``M1[i, j]``: mean probability of the reference's cluster i, by a classifier trained on the
    reference's teacher labels, over group g's cluster j (soft members); ``M2`` the other way;
    returns their geometric mean ``sqrt(M1 M2)``.
    """
    k = P_ref.shape[1]
    A, B = _transfer_input(X_ref), _transfer_input(X_g)
    on_g = _transfer_probs(A, P_ref.argmax(1), B, k, seed)
    on_ref = _transfer_probs(B, P_g.argmax(1), A, k, seed + 1)
    M1 = on_g.T @ (P_g / np.maximum(P_g.sum(0), 1e-12))
    M2 = (on_ref.T @ (P_ref / np.maximum(P_ref.sum(0), 1e-12))).T
    return np.sqrt(M1 * M2)
