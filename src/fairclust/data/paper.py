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

from ..errors import DataFileError
from .digit_files import mnist32, usps_train
from .image_indexes import (
    MTFL_SOURCE,
    OFFICE31_SOURCE,
    _mtfl_folder,
    _office_folder,
    mtfl_index,
    office31_index,
)
from .images import reversed_pair, source_pair, upsample
from .registry import Dataset, data_root, register

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
