"""MNIST and USPS from their original files (the paper's two digit sources; SPEC section 3).

MNIST's IDX files (``.gz`` or not); USPS as ``usps.h5``, LIBSVM's ``usps.bz2`` or ESL's
``zip.train[.gz]`` / ``zip.test[.gz]``. Files are looked for in ``data_dir`` (default
``$FAIRCLUST_DATA``, else ``./data``); nothing is downloaded unless ``download=True``, and
then through torchvision's downloaders. A missing or malformed file raises one
:class:`~fairclust.errors.DataFileError` naming the file, its format and its source.
"""

from __future__ import annotations

import bz2
import gzip
import os
import struct
import zlib
from pathlib import Path

import h5py
import numpy as np

from ..errors import DataFileError
from .images import pad_to
from .registry import data_root, first_existing

MNIST_SOURCE = "http://yann.lecun.com/exdb/mnist/ (mirror: https://ossci-datasets.s3.amazonaws.com/mnist/)"
USPS_H5_SOURCE = "https://www.kaggle.com/bistaumanga/usps-dataset"
USPS_BZ2_SOURCE = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass.html#usps"
USPS_ESL_SOURCE = "the data page of https://hastie.su.domains/ElemStatLearn/"
USPS_SOURCE = f"{USPS_H5_SOURCE} (usps.h5), {USPS_BZ2_SOURCE} (usps.bz2) or {USPS_ESL_SOURCE} (zip.train.gz)"


# ----------------------------------------------------------------------------- MNIST (IDX)

MNIST_FILES = {"images": "train-images-idx3-ubyte", "labels": "train-labels-idx1-ubyte"}


def read_idx(path: Path, ndim: int, what: str, source: str = MNIST_SOURCE) -> np.ndarray:
    """An IDX file (gzipped or raw) of unsigned bytes with ``ndim`` dimensions, checked; errors say
    where the file comes from (``source``)."""
    fmt = f"IDX {ndim}-d unsigned-byte file ({what})"
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataFileError(f"{str(path)!r} is not a readable {fmt} ({exc}); re-download it from {source}") \
            from None
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:2] != b"\x00\x00" or raw[2] != 0x08 or raw[3] != ndim:
        raise DataFileError(f"{str(path)!r} is not an {fmt}: bad header; re-download it from {source}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DataFileError(f"{str(path)!r} is truncated or corrupt: {len(raw)} bytes where its {fmt} header "
                            f"{dims} needs {expected}; re-download it from {source}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _mnist_candidates(root: Path, stem: str) -> list[Path]:
    dirs = [root, root / "MNIST" / "raw", root / "mnist", root / "MNIST"]
    names = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    return [d / n for d in dirs for n in names]


def _download_mnist(root: Path) -> None:
    from torchvision.datasets import MNIST

    try:
        MNIST(str(root), train=True, download=True)
    except Exception as exc:  # network errors of every kind
        raise DataFileError(f"downloading MNIST into {str(root)!r} failed ({type(exc).__name__}: {exc}); "
                            f"get the IDX files from {MNIST_SOURCE}") from None


def mnist_train(data_dir=None, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 60,000 training digits as ``N x 1 x 28 x 28`` uint8 and their classes."""
    root = data_root(data_dir)
    found = {k: first_existing(_mnist_candidates(root, stem)) for k, stem in MNIST_FILES.items()}
    if None in found.values() and download:
        _download_mnist(root)
        found = {k: first_existing(_mnist_candidates(root, stem)) for k, stem in MNIST_FILES.items()}
    for k, path in found.items():
        if path is None:
            stem = MNIST_FILES[k]
            raise DataFileError(
                f"MNIST file {stem}[.gz] not found in {str(root)!r} or {str(root / 'MNIST' / 'raw')!r} "
                f"(IDX format, gzipped or not); get it from {MNIST_SOURCE}, or pass --download (torchvision's MNIST)"
            )
    images = read_idx(found["images"], 3, "MNIST training images")
    labels = read_idx(found["labels"], 1, "MNIST training labels")
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise DataFileError(f"{str(found['images'])!r} holds {images.shape} images for {labels.shape[0]} labels; "
                            f"expected N x 28 x 28 with one label each; re-download both from {MNIST_SOURCE}")
    return images[:, None], labels.astype(np.int64)


def mnist32(data_dir=None, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MNIST train as ``N x 1 x 32 x 32`` floats in [0, 1] (zero-padded 28 -> 32)."""
    images, labels = mnist_train(data_dir, download)
    return pad_to(images.astype(np.float32) / 255.0, 32), labels


# ----------------------------------------------------------------------------- USPS

def _read_usps_h5(path: Path) -> tuple[np.ndarray, np.ndarray]:

    try:
        with h5py.File(path, "r") as f:
            data = np.asarray(f["train"]["data"], dtype=np.float32)
            target = np.asarray(f["train"]["target"]).astype(np.int64).reshape(-1)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise DataFileError(f"{str(path)!r} is not the HDF5 USPS release (groups train/data and train/target; "
                            f"{type(exc).__name__}); get usps.h5 from {USPS_H5_SOURCE}") from None
    if data.ndim != 2 or data.shape[1] != 256 or data.shape[0] != target.shape[0]:
        raise DataFileError(f"{str(path)!r}: train/data has shape {data.shape} for {target.shape[0]} targets; "
                            f"expected N x 256 (16 x 16 pixels); get usps.h5 from {USPS_H5_SOURCE}")
    if data.size and data.min() < 0:  # some copies keep the original [-1, 1] scale
        data = (data + 1.0) / 2.0
    return data, target


def _read_usps_bz2(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """torchvision's ``usps.bz2``: libsvm lines ``label 1:v ... 256:v``, label 1..10, v in [-1, 1]."""
    bad = (f"{str(path)!r} is not the bz2 libsvm USPS file (lines 'label 1:v ... 256:v'); "
           f"get it from {USPS_BZ2_SOURCE}")
    try:
        with bz2.open(path, "rt") as fh:
            lines = [ln.strip() for ln in fh if ln.strip()]
    except (OSError, EOFError, UnicodeDecodeError, ValueError):
        raise DataFileError(bad) from None
    data = np.zeros((len(lines), 256), np.float32)
    target = np.empty(len(lines), np.int64)
    try:
        for i, line in enumerate(lines):
            label, _, rest = line.partition(" ")
            target[i] = int(float(label)) - 1
            pairs = np.asarray(rest.replace(":", " ").split(), dtype=np.float64)  # index, value, index, ...
            cols = pairs[0::2].astype(np.int64) - 1
            if pairs.size % 2 or (cols.size and cols.min() < 0) or rest.count(":") != cols.size:
                raise ValueError
            data[i, cols] = pairs[1::2]
    except (ValueError, IndexError):
        raise DataFileError(f"{bad} (line {i + 1} is malformed)") from None
    if target.size and (target.min() < 0 or target.max() > 9):
        raise DataFileError(f"{bad} (labels must be 1..10)")
    return (data + 1.0) / 2.0, target


def _read_usps_esl(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """ESL's ``zip.train`` / ``zip.test`` (gzipped or not): lines ``digit v1 ... v256``, v in [-1, 1]."""
    bad = (f"{str(path)!r} is not an ESL zip-code USPS file (lines 'digit v1 ... v256', v in [-1, 1]); "
           f"get zip.train.gz from {USPS_ESL_SOURCE}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("ascii")
    except (OSError, EOFError, UnicodeDecodeError, zlib.error):
        raise DataFileError(bad) from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    values = np.empty((len(lines), 257), np.float64)
    try:
        for i, line in enumerate(lines):
            values[i] = np.asarray(line.split(), dtype=np.float64)  # a wrong count does not broadcast
    except ValueError:
        raise DataFileError(f"{bad} (line {i + 1} is malformed)") from None
    target = values[:, 0]
    if not lines or np.any(target != np.round(target)) or target.min() < 0 or target.max() > 9:
        raise DataFileError(f"{bad} ({'no digits' if not lines else 'digits must be 0..9'})")
    if not np.all(np.abs(values[:, 1:]) <= 1.0 + 1e-6):  # NaN fails too
        raise DataFileError(f"{bad} (grey values outside [-1, 1])")
    return ((values[:, 1:] + 1.0) / 2.0).astype(np.float32), target.astype(np.int64)


def read_usps(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """A USPS file of any of the three formats (by its name) as ``N x 1 x 16 x 16`` floats in [0, 1] and classes.

    ``*.h5``: the HDF5 release; ``*.bz2``: LIBSVM's text; anything else: ESL's ``zip.train`` / ``zip.test``.
    """
    path = Path(path)
    reader = {".h5": _read_usps_h5, ".bz2": _read_usps_bz2}.get(path.suffix, _read_usps_esl)
    data, target = reader(path)
    return np.clip(data, 0.0, 1.0).reshape(-1, 1, 16, 16), target


USPS_FILES = ("usps.h5", "usps.bz2", "zip.train.gz", "zip.train")  # the first one found is read


def usps_train(data_dir=None, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """USPS's 7,291 training digits as ``N x 1 x 16 x 16`` floats in [0, 1] and their classes."""
    root = data_root(data_dir)
    candidates = [d / name for name in USPS_FILES for d in (root, root / "USPS", root / "usps")]
    path = first_existing(candidates)
    if path is None and download:
        from torchvision.datasets import USPS

        try:
            USPS(str(root), train=True, download=True)
        except Exception as exc:
            raise DataFileError(f"downloading USPS into {str(root)!r} failed ({type(exc).__name__}: {exc}); "
                                f"get it from {USPS_SOURCE}") from None
        path = first_existing(candidates)
    if path is None:
        raise DataFileError(f"USPS file usps.h5 (HDF5), usps.bz2 (bz2 libsvm) or zip.train[.gz] (ESL text) not found "
                            f"in {str(root)!r} (or its USPS/ or usps/ folder); get it from {USPS_SOURCE}, "
                            "or pass --download (torchvision's USPS)")
    return read_usps(path)
