"""The paper's four data sets, built from their real files (SPEC section 3, paper Table 1).

* ``mnist-usps``: MNIST train (60,000, zero-padded 28 -> 32) + USPS train (7,291,
  bilinear 16 -> 32; ``usps.h5``, LIBSVM's ``usps.bz2`` or ESL's ``zip.train[.gz]``); group = source.
* ``reverse-mnist``: MNIST train + its inverted copies (1 - x on the padded 32 x 32
  image, i.e. pixel = 255 - pixel); group = original / reversed.
* ``mtfl``: MTFL faces, 1,000 with and 1,000 without glasses sampled with the seed;
  class = gender; group = glasses; ImageNet ResNet-50 features (2,048-d).
* ``office31``: Office-31 Amazon (2,817) + Webcam (795), 31 classes; group = domain;
  ImageNet ResNet-50 features.

Files are looked for in ``data_dir`` (default ``$FAIRCLUST_DATA``, else ``./data``).
Nothing is downloaded unless ``download=True`` (``--download``): then MNIST and USPS come
through torchvision's downloaders; MTFL and Office-31 cannot be fetched automatically
and the error says where to get them. A missing or malformed file raises one
:class:`~fairclust.errors.DataFileError` naming the file, its format and its source.
"""

from __future__ import annotations

import bz2
import gzip
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataFileError
from .images import pad_to, reversed_pair, source_pair, upsample
from .registry import Dataset, register

MNIST_SOURCE = "http://yann.lecun.com/exdb/mnist/ (mirror: https://ossci-datasets.s3.amazonaws.com/mnist/)"
USPS_H5_SOURCE = "https://www.kaggle.com/bistaumanga/usps-dataset"
USPS_BZ2_SOURCE = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass.html#usps"
USPS_ESL_SOURCE = "the data page of https://hastie.su.domains/ElemStatLearn/"
USPS_SOURCE = f"{USPS_H5_SOURCE} (usps.h5), {USPS_BZ2_SOURCE} (usps.bz2) or {USPS_ESL_SOURCE} (zip.train.gz)"
MTFL_SOURCE = ("http://mmlab.ie.cuhk.edu.hk/projects/TCDCN.html (MTFL.zip; unzip it into DATA_DIR so that "
               "DATA_DIR/MTFL/training.txt exists)")
OFFICE31_SOURCE = ("https://faculty.cc.gatech.edu/~judy/domainadapt/ (domain_adaptation_images.tar.gz; "
                   "extract it into DATA_DIR/office31 so that office31/amazon/images/<class>/*.jpg exists)")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def data_root(data_dir: str | os.PathLike | None) -> Path:
    """``data_dir``, else ``$FAIRCLUST_DATA``, else ``./data``."""
    return Path(data_dir if data_dir is not None else os.environ.get("FAIRCLUST_DATA", "data"))


def _first_existing(candidates: list[Path]) -> Path | None:
    return next((p for p in candidates if p.is_file()), None)


# ----------------------------------------------------------------------------- MNIST (IDX)

MNIST_FILES = {"images": "train-images-idx3-ubyte", "labels": "train-labels-idx1-ubyte"}


def read_idx(path: Path, ndim: int, what: str) -> np.ndarray:
    """An IDX file (gzipped or raw) of unsigned bytes with ``ndim`` dimensions, checked."""
    fmt = f"IDX {ndim}-d unsigned-byte file ({what})"
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataFileError(f"{str(path)!r} is not a readable {fmt} ({exc}); re-download it from {MNIST_SOURCE}") \
            from None
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:2] != b"\x00\x00" or raw[2] != 0x08 or raw[3] != ndim:
        raise DataFileError(f"{str(path)!r} is not an {fmt}: bad header; re-download it from {MNIST_SOURCE}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DataFileError(f"{str(path)!r} is truncated or corrupt: {len(raw)} bytes where its {fmt} header "
                            f"{dims} needs {expected}; re-download it from {MNIST_SOURCE}")
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
    found = {k: _first_existing(_mnist_candidates(root, stem)) for k, stem in MNIST_FILES.items()}
    if None in found.values() and download:
        _download_mnist(root)
        found = {k: _first_existing(_mnist_candidates(root, stem)) for k, stem in MNIST_FILES.items()}
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
    import h5py

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
    path = _first_existing(candidates)
    if path is None and download:
        from torchvision.datasets import USPS

        try:
            USPS(str(root), train=True, download=True)
        except Exception as exc:
            raise DataFileError(f"downloading USPS into {str(root)!r} failed ({type(exc).__name__}: {exc}); "
                                f"get it from {USPS_SOURCE}") from None
        path = _first_existing(candidates)
    if path is None:
        raise DataFileError(f"USPS file usps.h5 (HDF5), usps.bz2 (bz2 libsvm) or zip.train[.gz] (ESL text) not found "
                            f"in {str(root)!r} (or its USPS/ or usps/ folder); get it from {USPS_SOURCE}, "
                            "or pass --download (torchvision's USPS)")
    return read_usps(path)


# ----------------------------------------------------------------------------- image-file data sets

@dataclass
class ImageIndex:
    """Image files with their classes and groups, before any feature extraction."""

    name: str
    paths: list[Path]
    y: np.ndarray
    sensitive: np.ndarray
    group_names: list[str]
    sensitive_attribute: str
    kind: str
    class_names: list[str] = field(default_factory=list)
    description: str = ""

    def check_files(self, source: str) -> None:
        missing = [p for p in self.paths if not p.is_file()]
        if missing:
            raise DataFileError(f"{len(missing)} image file(s) of {self.name} are missing, e.g. {str(missing[0])!r}; "
                                f"get the complete data set from {source}")

    def to_dataset(self, *, limit: int | None = None, seed: int = 0, **feature_options) -> Dataset:
        """ResNet-50 features of the images (only of the ``limit`` per group that ``--limit`` keeps)."""
        from .features import resnet50_features
        from .registry import limit_indices

        idx = np.arange(len(self.paths)) if limit is None else limit_indices(self.sensitive, limit, seed)
        X = resnet50_features([self.paths[i] for i in idx], **feature_options)
        return Dataset(self.name, X, self.sensitive[idx], self.y[idx], self.group_names, self.sensitive_attribute,
                       self.kind, self.description)


MTFL_ANNOTATIONS = ("training.txt", "testing.txt")


def _mtfl_folder(root: Path) -> Path:
    for d in (root / "MTFL", root / "mtfl", root):
        if any((d / a).is_file() for a in MTFL_ANNOTATIONS):
            return d
    raise DataFileError(f"MTFL annotation files training.txt / testing.txt not found in {str(root / 'MTFL')!r} "
                        f"(text lines 'path x1..x5 y1..y5 gender smile glasses pose'); get MTFL from {MTFL_SOURCE}")


def read_mtfl_annotations(folder: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """Image paths, gender (1 male, 2 female) and glasses (1 yes, 2 no) of every annotation line."""
    paths, gender, glasses = [], [], []
    for name in MTFL_ANNOTATIONS:
        ann = folder / name
        if not ann.is_file():
            continue
        for lineno, line in enumerate(ann.read_text(errors="replace").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            try:
                if len(parts) != 15:
                    raise ValueError
                g, gl = int(parts[11]), int(parts[13])
                if g not in (1, 2) or gl not in (1, 2):
                    raise ValueError
            except ValueError:
                raise DataFileError(
                    f"{str(ann)!r} line {lineno} is malformed: expected 'path x1..x5 y1..y5 gender smile glasses "
                    f"pose' with gender and glasses in {{1, 2}}; get the original file from {MTFL_SOURCE}"
                ) from None
            paths.append(folder / parts[0].replace("\\", "/"))
            gender.append(g)
            glasses.append(gl)
    return paths, np.asarray(gender, np.int64), np.asarray(glasses, np.int64)


def mtfl_index(data_dir=None, seed: int = 0, per_group: int = 1000) -> ImageIndex:
    """MTFL: ``per_group`` faces with and without glasses each, sampled with ``seed``."""
    folder = _mtfl_folder(data_root(data_dir))
    paths, gender, glasses = read_mtfl_annotations(folder)
    rng = np.random.default_rng(seed)
    picks = []
    for code in (1, 2):  # group 0 = with glasses, group 1 = without
        members = np.flatnonzero(glasses == code)
        picks.append(np.sort(rng.choice(members, min(per_group, len(members)), replace=False)))
    sensitive = np.concatenate([np.full(len(p), i, np.int64) for i, p in enumerate(picks)])
    idx = np.concatenate(picks)
    index = ImageIndex("mtfl", [paths[i] for i in idx], gender[idx] - 1, sensitive,
                       ["with glasses", "without glasses"], "with or w/o glasses", "face", ["male", "female"],
                       f"MTFL: {len(picks[0])} faces with and {len(picks[1])} without glasses (seed {seed}); "
                       "class = gender; ResNet-50 features")
    index.check_files(MTFL_SOURCE)
    return index


OFFICE31_DOMAINS = ("amazon", "webcam")


def _office_folder(root: Path) -> Path:
    for d in (root / "office31", root / "Office31", root / "office-31", root / "Office-31",
              root / "domain_adaptation_images", root):
        if all((d / dom / "images").is_dir() for dom in OFFICE31_DOMAINS):
            return d
    raise DataFileError(f"Office-31 folders amazon/images/<class>/*.jpg and webcam/images/<class>/*.jpg not found "
                        f"in {str(root / 'office31')!r}; get Office-31 from {OFFICE31_SOURCE}")


def office31_index(data_dir=None, **_) -> ImageIndex:
    """Office-31 Amazon + Webcam: every image, class = folder name, group = domain."""
    folder = _office_folder(data_root(data_dir))
    per_domain = {}
    for dom in OFFICE31_DOMAINS:
        per_domain[dom] = {c.name: sorted(p for p in c.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
                           for c in sorted((folder / dom / "images").iterdir()) if c.is_dir()}
    classes = sorted(set().union(*per_domain.values()))
    paths, y, sens = [], [], []
    for g, dom in enumerate(OFFICE31_DOMAINS):
        for c in classes:
            files = per_domain[dom].get(c, [])
            paths += files
            y += [classes.index(c)] * len(files)
            sens += [g] * len(files)
        if sens.count(g) == 0:
            raise DataFileError(f"no images in {str(folder / dom / 'images')!r}/<class>/*.jpg; get Office-31 "
                                f"from {OFFICE31_SOURCE}")
    return ImageIndex("office31", paths, np.asarray(y, np.int64), np.asarray(sens, np.int64),
                      list(OFFICE31_DOMAINS), "domain source", "object", classes,
                      f"Office-31 Amazon + Webcam, {len(classes)} classes; ResNet-50 features")


# ----------------------------------------------------------------------------- registered builders

def _feature_options(kw: dict) -> dict:
    keys = ("weights", "cache_dir", "batch_size", "verbose", "download", "limit", "seed", "device")
    return {k: kw[k] for k in keys if k in kw}


@register("mnist-usps", "MNIST train (60,000, padded to 32) + USPS train (7,291, upsampled 16->32); group = source")
def mnist_usps(data_dir=None, download: bool = False, seed: int = 0, **_) -> Dataset:
    Xm, ym = mnist32(data_dir, download)
    Xu, yu = usps_train(data_dir, download)
    return source_pair("mnist-usps", (Xm, ym), (upsample(Xu, 32), yu), ["mnist", "usps"],
                       "MNIST train zero-padded 28->32 + USPS train bilinearly upsampled 16->32")


@register("reverse-mnist", "MNIST train (60,000, padded to 32) + inverted copies; group = reversed")
def reverse_mnist(data_dir=None, download: bool = False, seed: int = 0, **_) -> Dataset:
    X, y = mnist32(data_dir, download)
    return reversed_pair("reverse-mnist", X, y, "Color Reverse MNIST: MNIST train + 255 - x copies, padded to 32")


def _say_where_to_get(find_folder, data_dir, name: str, source: str) -> None:
    """``--download`` cannot fetch this data set: say where it comes from (when it is not there)."""
    try:
        find_folder(data_root(data_dir))
    except DataFileError:
        print(f"{name} cannot be downloaded automatically; get it from {source}")


@register("mtfl", "MTFL faces, 1,000 with + 1,000 without glasses (seeded); class = gender; ResNet-50 features")
def mtfl(data_dir=None, download: bool = False, seed: int = 0, per_group: int = 1000, **kw) -> Dataset:
    if download:
        _say_where_to_get(_mtfl_folder, data_dir, "MTFL", MTFL_SOURCE)
    index = mtfl_index(data_dir, seed, per_group)
    return index.to_dataset(**_feature_options({**kw, "download": download, "seed": seed}))


@register("office31", "Office-31 Amazon (2,817) + Webcam (795), 31 classes; group = domain; ResNet-50 features")
def office31(data_dir=None, download: bool = False, seed: int = 0, **kw) -> Dataset:
    if download:
        _say_where_to_get(_office_folder, data_dir, "Office-31", OFFICE31_SOURCE)
    return office31_index(data_dir).to_dataset(**_feature_options({**kw, "download": download, "seed": seed}))


IMAGE_INDEXES = {"mtfl": mtfl_index, "office31": office31_index}
