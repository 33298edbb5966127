"""Frozen ImageNet ResNet-50 features of image files (the paper's MTFL / Office-31 path).

Each image is converted to RGB, resized so its shorter side is 256, centre-cropped to
224 x 224, normalised with ImageNet's mean and std, and passed through torchvision's
ResNet-50 without its classifier: the 2,048-d globally average-pooled features.

Weights (``weights=``, ``--weights``):

* ``None`` or ``"IMAGENET1K_V1"`` (the original torchvision weights, the paper's era) or
  ``"IMAGENET1K_V2"``: read from torchvision's cache (``torch.hub.get_dir()/checkpoints``);
  downloaded there only when ``download=True``;
* a path to a ``.pth`` state dict (offline use);
* ``"random"``: random initialisation seeded with 0 (tests, smoke runs; not meaningful).

Features are cached with :class:`~fairclust.cache.StageCache` under ``resnet50-features``,
keyed by the file list (path, size, modification time), the weights and the preprocessing,
so a second run reads them back instead of recomputing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..cache import StageCache
from ..errors import DataFileError, FairclustError
from ..utils import progress

PREPROCESSING = "rgb-resize256-centercrop224-imagenet-norm"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NAMED_WEIGHTS = ("IMAGENET1K_V1", "IMAGENET1K_V2")
FEATURE_DIM = 2048  # ResNet-50's pooled width (checked against torchvision's model when it is built)


def _weights_enum(name: str):
    from torchvision.models import ResNet50_Weights

    return getattr(ResNet50_Weights, name)


def torchvision_cache_path(name: str = "IMAGENET1K_V1") -> Path:
    """Where torchvision keeps (or would download) the named ResNet-50 weights."""
    url = _weights_enum(name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def load_resnet50(weights: str | os.PathLike | None = None, *, download: bool = False) -> tuple[torch.nn.Module, str]:
    """ResNet-50 without its classifier (eval mode) and an identifier of its weights."""
    from torchvision.models import resnet50

    if weights == "random":
        with torch.random.fork_rng():
            torch.manual_seed(0)
            model = resnet50(weights=None)
        ident = "random-seed0"
    else:
        model = resnet50(weights=None)
        name = "IMAGENET1K_V1" if weights is None else str(weights)
        if name in NAMED_WEIGHTS:
            path = torchvision_cache_path(name)
            if not path.is_file():
                if not download:
                    raise DataFileError(
                        f"ImageNet ResNet-50 weights {path.name} not found in torchvision's cache {str(path.parent)!r}; "
                        f"pass --download to fetch them from {_weights_enum(name).url}, or --weights PATH to a "
                        "local resnet50 .pth state dict"
                    )
                try:
                    _weights_enum(name).get_state_dict(progress=True)  # downloads into the cache
                except Exception as exc:  # network errors of every kind
                    raise DataFileError(f"downloading {_weights_enum(name).url} failed ({type(exc).__name__}); "
                                        "copy the file into torchvision's cache or pass --weights PATH") from None
        else:
            path = Path(name)
            if not path.is_file():
                raise DataFileError(f"--weights file {name!r} does not exist; pass a torchvision resnet50 .pth "
                                    f"state dict, {' or '.join(NAMED_WEIGHTS)}, or 'random'")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
                state = state["state_dict"]
            missing, unexpected = model.load_state_dict(state, strict=False)
            if unexpected or any(not k.startswith("fc.") for k in missing):  # the classifier may be left out
                raise KeyError(f"{len(missing)} missing, {len(unexpected)} unexpected keys")
        except Exception as exc:
            raise DataFileError(f"{str(path)!r} is not a torchvision resnet50 state dict ({type(exc).__name__}); "
                                f"pass the .pth file of torchvision.models.ResNet50_Weights") from None
        ident = str(weights_key(path))
    if model.fc.in_features != FEATURE_DIM:  # pragma: no cover - torchvision's architecture
        raise FairclustError(f"unexpected ResNet-50 feature size {model.fc.in_features}")
    model.fc = torch.nn.Identity()
    # channels-last convolutions: 1.1-1.5x faster on CPU (oneDNN), same features to float tolerance
    return model.eval().to(memory_format=torch.channels_last), ident


def preprocess(path: Path):
    """One image file as a normalised ``3 x 224 x 224`` tensor."""
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms import functional as TF

    try:
        with Image.open(path) as im:
            img = im.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataFileError(f"image file {str(path)!r} cannot be read ({type(exc).__name__}); "
                            "replace it with a valid JPEG/PNG or remove it from the list") from None
    img = TF.center_crop(TF.resize(img, 256), 224)
    return TF.normalize(TF.to_tensor(img), IMAGENET_MEAN, IMAGENET_STD)


def _file_list_key(paths: Sequence[Path]) -> list:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            raise DataFileError(f"image file {str(p)!r} does not exist; check the data set folder") from None
        out.append([str(Path(p).resolve()), st.st_size, st.st_mtime_ns])
    return out


def weights_key(weights: str | os.PathLike | None) -> str | None:
    """An identifier of the weights without loading them (``None`` when they are not on disk yet)."""
    if weights == "random":
        return "random-seed0"
    name = "IMAGENET1K_V1" if weights is None else str(weights)
    path = torchvision_cache_path(name) if name in NAMED_WEIGHTS else Path(name)
    if not path.is_file():
        return None
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def resnet50_features(paths: Sequence[str | os.PathLike], *, weights: str | os.PathLike | None = None,
                      download: bool = False, cache_dir=None, batch_size: int = 32, verbose: bool = True,
                      device: str | torch.device | None = None) -> np.ndarray:
    """``N x 2048`` float32 ResNet-50 features of the image files (in order), cached on disk."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise FairclustError("no image files to extract features from; check the data set folder")
    cache = StageCache(cache_dir)
    files = _file_list_key(paths)
    wkey = weights_key(weights)
    if wkey is not None:
        key = cache.key("resnet50-features", files=files, weights=wkey, preprocessing=PREPROCESSING)
        hit = cache.get("resnet50-features", key)
        if hit is not None and hit["features"].shape[0] == len(paths):
            return hit["features"].numpy()
    model, _ = load_resnet50(weights, download=download)
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(dev)
    out = np.empty((len(paths), FEATURE_DIM), np.float32)
    bar = progress(total=len(paths), desc="ResNet-50 features", enabled=verbose, unit="img")
    with torch.inference_mode():
        for start in range(0, len(paths), batch_size):
            chunk = paths[start:start + batch_size]
            xb = torch.stack([preprocess(p) for p in chunk]).to(dev, memory_format=torch.channels_last)
            out[start:start + len(chunk)] = model(xb).float().cpu().numpy()
            bar.update(len(chunk))
    bar.close()
    key = cache.key("resnet50-features", files=files, weights=weights_key(weights), preprocessing=PREPROCESSING)
    cache.put("resnet50-features", key, {"features": torch.from_numpy(out)})
    return out
