"""Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): a harder image set than the digits, for development
and for checking that a default generalises beyond digits.

``fashion-mnist-reverse``: Fashion-MNIST's 60,000 training images (28 x 28, zero-padded to 32 x
32) and their inverted copies; group = original / reversed, class = the garment (10). The IDX
files are looked for in ``data_dir`` (``--data-dir``, default ``$FAIRCLUST_DATA``, else ``./data``),
its ``fashion-mnist`` folder, and where Debian's package ``dataset-fashion-mnist`` installs them
(``/usr/share/datasets/fashion-mnist``). ``--limit N`` keeps N per group (seeded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataFileError
from .digit_files import read_idx
from .images import pad_to, reversed_pair
from .registry import Dataset, data_root, first_existing, register

FASHION_SOURCE = ("https://github.com/zalandoresearch/fashion-mnist (train-images-idx3-ubyte.gz, "
                  "train-labels-idx1-ubyte.gz), or Debian's package dataset-fashion-mnist")
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {"images": "train-images-idx3-ubyte", "labels": "train-labels-idx1-ubyte"}


def fashion_train(data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST's 60,000 training images as ``N x 1 x 32 x 32`` floats in [0, 1], and their classes."""
    root = data_root(data_dir)
    dirs = [root, root / "fashion-mnist", root / "FashionMNIST" / "raw", DEBIAN_DIR]
    found = {k: first_existing([d / n for d in dirs for n in (stem, stem + ".gz")])
             for k, stem in FASHION_FILES.items()}
    if None in found.values():
        raise DataFileError(f"Fashion-MNIST's training files ({', '.join(FASHION_FILES.values())}, .gz or not) are "
                            f"not in {str(root)!r} nor in {DEBIAN_DIR}; get them from {FASHION_SOURCE}")
    X = read_idx(found["images"], 3, "Fashion-MNIST images", FASHION_SOURCE)
    y = read_idx(found["labels"], 1, "Fashion-MNIST labels", FASHION_SOURCE)
    if len(X) != len(y):
        raise DataFileError(f"{found['images']} holds {len(X)} images but {found['labels']} {len(y)} labels; "
                            f"get matching files from {FASHION_SOURCE}")
    return pad_to((X[:, None] / 255.0).astype(np.float32), 32), y.astype(np.int64)


@register("fashion-mnist-reverse", "Fashion-MNIST train (60,000, padded to 32) + inverted copies; group = reversed; "
          "a harder image set (Debian's dataset-fashion-mnist or --data-dir)")
def fashion_mnist_reverse(data_dir=None, **_) -> Dataset:
    X, y = fashion_train(data_dir)
    return reversed_pair("fashion-mnist-reverse", X, y, "Fashion-MNIST train + 1 - x copies, padded to 32")
