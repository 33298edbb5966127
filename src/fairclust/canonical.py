"""The canonical frame of images: each one cropped to the square around its ink and resized.

Sources that frame the same digits differently (scikit-learn's 8x8 digits fill the box, MNIST
keeps a margin, USPS fills it) have comparable pictures in this frame. DFC's default recipe
uses it to compare teacher clusters across groups (:mod:`fairclust.align`) and as one of the
teachers' input spaces (:mod:`fairclust.teachers`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F


def _canonical_batch(X: np.ndarray, size: int, thresh: float) -> np.ndarray:
    n, c, h, w = X.shape
    border = np.concatenate([X[:, :, 0, :], X[:, :, -1, :], X[:, :, :, 0], X[:, :, :, -1]], axis=2)
    bg = np.median(border.reshape(n, -1), axis=1).astype(np.float32)[:, None, None, None]
    centred = X - bg
    dev = np.abs(centred).max(1)  # n x h x w
    ink = dev > thresh * np.maximum(dev.reshape(n, -1).max(1), 1e-6)[:, None, None]
    rows, cols = ink.any(2), ink.any(1)  # n x h, n x w
    has = rows.any(1)
    r0 = np.where(has, rows.argmax(1), 0)
    r1 = np.where(has, h - rows[:, ::-1].argmax(1), h)
    c0 = np.where(has, cols.argmax(1), 0)
    c1 = np.where(has, w - cols[:, ::-1].argmax(1), w)
    side = np.maximum(r1 - r0, c1 - c0).astype(np.float32)
    # the square's centre and half side in grid_sample's [-1, 1] coordinates (align_corners=False)
    cy, cx = (r0 + r1) / h - 1.0, (c0 + c1) / w - 1.0
    theta = np.zeros((n, 2, 3), dtype=np.float32)
    theta[:, 0, 0], theta[:, 0, 2] = side / w, cx
    theta[:, 1, 1], theta[:, 1, 2] = side / h, cy
    grid = F.affine_grid(torch.from_numpy(theta), [n, c, size, size], align_corners=False)
    return F.grid_sample(torch.from_numpy(centred), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False).numpy()


def canonical_frame(X: np.ndarray, size: int = 16, thresh: float = 0.25) -> np.ndarray:
    """Each image cropped to the square around its ink and resized to ``size x size``; the rest as it is.

    Ink: pixels farther than ``thresh`` (of the image's largest deviation) from the median of
    its border, the background. The crop is a square centred on the ink's bounding box (a 1
    stays thin), the background subtracted, then resized (bilinear). Sources that frame the
    same digits differently (scikit-learn's 8x8 digits fill the box, MNIST keeps a margin,
    USPS fills it) then have comparable centroids; an inverted copy keeps its sign (ink below
    the background), which the ``features`` matching's two signs handle. Feature vectors
    (``N x D``) are returned unchanged. Used only to compare clusters across groups.
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 4:
        return X
    n, c, h, w = X.shape
    out = np.empty((n, c, size, size), dtype=np.float32)
    for s in range(0, n, 4096):  # batched: memory stays bounded on large sets
        out[s:s + 4096] = _canonical_batch(X[s:s + 4096], size, thresh)
    return out
