"""Tiny files in the real formats of the paper's data sets (shared by the data tests)."""

from __future__ import annotations

import bz2
import gzip
import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray, *, gz: bool) -> Path:
    """An IDX file of unsigned bytes: magic 0x0000 08 NDIM, big-endian dims, data."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    raw = struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def mnist_arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(1, 256, size=(n, 28, 28), dtype=np.uint8)  # no zero pixel: padding is visible
    return images, (np.arange(n) % 10).astype(np.uint8)


def write_mnist(root: Path, n: int = 12, *, gz: bool = True, torchvision_layout: bool = False) -> tuple:
    images, labels = mnist_arrays(n)
    d = root / "MNIST" / "raw" if torchvision_layout else root
    suffix = ".gz" if gz else ""
    write_idx(d / f"train-images-idx3-ubyte{suffix}", images, gz=gz)
    write_idx(d / f"train-labels-idx1-ubyte{suffix}", labels, gz=gz)
    return images, labels


def usps_arrays(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, size=(n, 256)).astype(np.float32), (np.arange(n) % 10).astype(np.int64)


def write_usps_h5(root: Path, n: int = 7) -> tuple:
    import h5py

    data, target = usps_arrays(n)
    root.mkdir(parents=True, exist_ok=True)
    with h5py.File(root / "usps.h5", "w") as f:
        for split, (d, t) in {"train": (data, target), "test": (data[:2], target[:2])}.items():
            g = f.create_group(split)
            g.create_dataset("data", data=d)
            g.create_dataset("target", data=t)
    return data, target


def write_usps_bz2(root: Path, n: int = 7) -> tuple:
    """torchvision's usps.bz2: 'label idx:value ...', label 1..10, value in [-1, 1]."""
    data, target = usps_arrays(n)
    lines = [f"{t + 1} " + " ".join(f"{j + 1}:{2 * v - 1:.6f}" for j, v in enumerate(row))
             for row, t in zip(data, target)]
    root.mkdir(parents=True, exist_ok=True)
    (root / "usps.bz2").write_bytes(bz2.compress(("\n".join(lines) + "\n").encode()))
    return data, target


def write_jpeg(path: Path, seed: int, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode=mode).save(path)
    return path


def write_mtfl(root: Path, n_glasses: int = 3, n_plain: int = 5) -> list[tuple[str, int, int]]:
    """An MTFL folder: images + training.txt / testing.txt lines 'path x1..x5 y1..y5 gender smile glasses pose'."""
    folder = root / "MTFL"
    rows = []
    for i in range(n_glasses + n_plain):
        sub = "lfw_5590" if i % 2 == 0 else "AFLW"
        rel = f"{sub}\\face_{i:03d}.jpg"  # the real files use Windows separators
        write_jpeg(folder / sub / f"face_{i:03d}.jpg", seed=100 + i)
        gender = 1 + (i % 2)  # 1 male, 2 female
        glasses = 1 if i < n_glasses else 2  # 1 with, 2 without
        rows.append((rel, gender, glasses))
    coords = " ".join(f"{10.5 + j:.2f}" for j in range(10))
    lines = [f" {rel} {coords} {g} 2 {gl} 3" for rel, g, gl in rows]
    half = len(lines) // 2
    (folder / "training.txt").write_text("\n".join(lines[:half]) + "\n")
    (folder / "testing.txt").write_text("\n".join(lines[half:]) + "\n")
    return rows


def write_office31(root: Path, counts: dict | None = None) -> dict:
    """Office-31 layout: office31/<domain>/images/<class>/frame_NNNN.jpg."""
    counts = counts or {"amazon": {"back_pack": 2, "bike": 1}, "webcam": {"back_pack": 1, "bike": 1}}
    seed = 0
    for dom, classes in counts.items():
        for cls, n in classes.items():
            for i in range(n):
                seed += 1
                write_jpeg(root / "office31" / dom / "images" / cls / f"frame_{i:04d}.jpg", seed=seed)
    return counts
