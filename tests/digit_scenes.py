"""Real digits in two unlike frames with near-perfect teachers, shared by the pairing tests."""

from __future__ import annotations

import numpy as np


def framed_digits(seed: int):
    """300 digits that fill a 16x16 frame and 300 that are smaller and anywhere in it (a margin,
    as MNIST keeps against scikit-learn's 8x8 digits), with near-perfect teachers whose columns
    are shuffled in the second group."""
    import torch
    from sklearn.datasets import load_digits
    from torch.nn import functional as F

    d = load_digits()
    x = torch.from_numpy((d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8))
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(d.target))[:600]
    a = F.interpolate(x[idx[:300]], size=(16, 16), mode="bilinear", align_corners=False)
    small = F.interpolate(x[idx[300:]], size=(10, 10), mode="bilinear", align_corners=False)
    b = torch.zeros(300, 1, 16, 16)
    for i, (r, c) in enumerate(rng.integers(0, 7, size=(300, 2))):
        b[i, :, r:r + 10, c:c + 10] = small[i]
    y = d.target[idx]
    P = np.full((600, 10), 0.01, np.float32)
    P[np.arange(600), y] = 0.91
    P[300:] = P[300:][:, rng.permutation(10)]
    return torch.cat([a, b]).numpy(), y, np.repeat([0, 1], 300), P
