"""The paper's two image-file data sets as indexes of files (MTFL, Office-31), before their
ResNet-50 features are extracted (:mod:`fairclust.data.features`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataFileError
from .features import resnet50_features
from .registry import Dataset, data_root, limit_indices

MTFL_SOURCE = ("http://mmlab.ie.cuhk.edu.hk/projects/TCDCN.html (MTFL.zip; unzip it into DATA_DIR so that "
               "DATA_DIR/MTFL/training.txt exists)")
OFFICE31_SOURCE = ("https://faculty.cc.gatech.edu/~judy/domainadapt/ (domain_adaptation_images.tar.gz; "
                   "extract it into DATA_DIR/office31 so that office31/amazon/images/<class>/*.jpg exists)")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


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
