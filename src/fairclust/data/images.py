"""Image helpers shared by the data set builders: resizing, padding, two-group data sets."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from .registry import Dataset


def upsample(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of ``N x C x h x w`` images to ``size x size`` (float32, clipped to [0, 1])."""
    t = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    out = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    return out.clamp_(0.0, 1.0).numpy()


def pad_to(images: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad ``N x C x h x w`` images symmetrically to ``size x size``."""
    h, w = images.shape[-2:]
    top, left = (size - h) // 2, (size - w) // 2
    return np.pad(images, ((0, 0), (0, 0), (top, size - h - top), (left, size - w - left)))


def reversed_pair(name: str, X: np.ndarray, y: np.ndarray, description: str) -> Dataset:
    return Dataset(
        name=name,
        X=np.concatenate([X, 1.0 - X]).astype(np.float32),
        sensitive=np.repeat(np.array([0, 1]), len(X)),
        y=np.concatenate([y, y]),
        group_names=["original", "reversed"],
        sensitive_attribute="original or reversed",
        kind="digital",
        description=description,
    )


def source_pair(name: str, a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray],
                group_names: list[str], description: str) -> Dataset:
    """Two sources of digits, ``(X, y)`` each, concatenated; group = source (0 = ``a``)."""
    return sources(name, [a, b], group_names, description)


def sources(name: str, parts: list[tuple[np.ndarray, np.ndarray]], group_names: list[str],
            description: str) -> Dataset:
    """Any number of sources of digits, ``(X, y)`` each, concatenated; group = the source's position."""
    return Dataset(
        name=name,
        X=np.concatenate([p[0] for p in parts]).astype(np.float32),
        sensitive=np.repeat(np.arange(len(parts)), [len(p[0]) for p in parts]),
        y=np.concatenate([p[1] for p in parts]),
        group_names=group_names,
        sensitive_attribute="source of digit",
        kind="digital",
        description=description,
    )
