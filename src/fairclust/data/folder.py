"""Any folder of images as a data set, through a CSV file ``path,group[,label]``.

Each row names an image (relative to the CSV's folder, or absolute), its group (any
string or number) and optionally its class. A header row ``path,group[,label]`` is
optional. The images become either

* ``N x 2048`` ImageNet ResNet-50 features (default; see :mod:`fairclust.data.features`), or
* ``N x C x S x S`` images in [0, 1] for the conv encoder when ``image_size=S`` is given
  (bilinear resize; C = 1 when every image is greyscale, else 3).

``load_dataset("my.csv", image_size=32)`` and ``fairclust run --dataset my.csv
[--image-size 32] [--weights PATH]`` use it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..errors import DataFileError
from .features import resnet50_features
from .registry import Dataset, limit_indices

CSV_FORMAT = "a CSV with rows 'path,group[,label]' (paths relative to the CSV's folder)"


def read_csv(path: Path) -> tuple[list[Path], np.ndarray, np.ndarray | None]:
    """Image paths, group values and (when every row has one) class values of a CSV file."""
    if not path.is_file():
        raise DataFileError(f"data file {str(path)!r} does not exist; pass {CSV_FORMAT}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [[c.strip() for c in r] for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataFileError(f"{str(path)!r} is not readable as {CSV_FORMAT} ({type(exc).__name__})") from None
    if rows and rows[0][0].lower() == "path":
        rows = rows[1:]
    if not rows:
        raise DataFileError(f"{str(path)!r} has no rows; write {CSV_FORMAT}")
    widths = {len(r) for r in rows}
    if not widths <= {2, 3} or len(widths) != 1:
        bad = next(i for i, r in enumerate(rows, 1) if len(r) not in (2, 3) or len(r) != len(rows[0]))
        raise DataFileError(f"{str(path)!r} data row {bad} has {len(rows[bad - 1])} fields; every row must be "
                            f"{CSV_FORMAT}")
    paths = [Path(r[0]) if Path(r[0]).is_absolute() else path.parent / r[0] for r in rows]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataFileError(f"{len(missing)} image(s) listed in {str(path)!r} do not exist, e.g. "
                            f"{str(missing[0])!r}; paths are relative to the CSV's folder")
    groups = np.asarray([r[1] for r in rows])
    labels = np.asarray([r[2] for r in rows]) if len(rows[0]) == 3 else None
    return paths, groups, labels


def _codes(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes (sorted order; numbers sorted numerically) and the names they stand for."""
    try:
        numeric = values.astype(np.float64)
        uniq, codes = np.unique(numeric, return_inverse=True)
        names = [str(int(u)) if float(u).is_integer() else str(u) for u in uniq]
    except ValueError:
        uniq, codes = np.unique(values, return_inverse=True)
        names = [str(u) for u in uniq]
    return codes.astype(np.int64), names


def load_images(paths: list[Path], size: int) -> np.ndarray:
    """Image files as ``N x C x size x size`` float32 in [0, 1] (C = 1 if all are greyscale, else 3)."""
    from PIL import Image, UnidentifiedImageError

    imgs = []
    for p in paths:
        try:
            with Image.open(p) as im:
                imgs.append(im.copy() if im.mode in ("L", "RGB") else im.convert("RGB"))
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            raise DataFileError(f"image file {str(p)!r} cannot be read ({type(exc).__name__}); replace it "
                                "with a valid JPEG/PNG or remove its row from the CSV") from None
    mode = "L" if all(im.mode == "L" for im in imgs) else "RGB"
    arrays = [np.asarray(im.convert(mode).resize((size, size), Image.BILINEAR), dtype=np.float32) for im in imgs]
    X = np.stack(arrays) / 255.0
    return (X[:, None] if mode == "L" else X.transpose(0, 3, 1, 2)).astype(np.float32)


def load_csv(path: Path, *, image_size: int | None = None, weights=None, download: bool = False, cache_dir=None,
             verbose: bool = True, batch_size: int = 32, limit: int | None = None, seed: int = 0, **_) -> Dataset:
    """A CSV ``path,group[,label]`` of images as a :class:`Dataset` (features or resized images).

    With ``limit``, only the images that ``limit_per_group`` keeps are read.
    """

    paths, groups, labels = read_csv(Path(path))
    sens, group_names = _codes(groups)
    y = _codes(labels)[0] if labels is not None else None
    if limit is not None:
        idx = limit_indices(sens, limit, seed)
        paths, sens, y = [paths[i] for i in idx], sens[idx], None if y is None else y[idx]
    if image_size:
        X, kind = load_images(paths, int(image_size)), "image"
        how = f"images resized to {image_size}x{image_size}"
    else:
        X = resnet50_features(paths, weights=weights, download=download, cache_dir=cache_dir, verbose=verbose,
                              batch_size=batch_size)
        kind, how = "features", "ResNet-50 features"
    return Dataset(name=Path(path).stem, X=X, sensitive=sens, y=y, group_names=group_names,
                   sensitive_attribute="group", kind=kind, description=f"image folder {path}: {how}")
