"""Clustering methods; every one is a scikit-learn style estimator.

``METHODS`` maps the CLI name of a method to its estimator class. Every class accepts
``n_clusters`` and ``random_state``; deep ones and those using the pretrained encoder
also accept ``recipe``, ``device``, ``cache_dir`` and ``verbose`` (see ``make_method``).
"""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import FairclustError
from .clustergan import ClusterGAN
from .dac import DeepAdaptiveClustering
from .dec import DECAE
from .dfc import DeepFairClustering
from .falg import FairAssignment
from .fcc import VariationalFairClustering
from .fcmi import FCMI
from .kmeans import KMeansAE
from .scfc import ScalableFairletClustering
from .spfc import FairSpectralClustering

METHODS: dict[str, type] = {
    "dfc": DeepFairClustering,
    "kmeans": KMeansAE,
    "dec": DECAE,
    "dac": DeepAdaptiveClustering,
    "clustergan": ClusterGAN,
    "scfc": ScalableFairletClustering,
    "falg": FairAssignment,
    "fcc": VariationalFairClustering,
    "spfc": FairSpectralClustering,
    "fcmi": FCMI,
}


def make_method(name: str, n_clusters: int, random_state: int, **options: Any):
    """Instantiate method ``name``; options it does not take are dropped (``None`` ones too)."""
    if name not in METHODS:
        raise FairclustError(f"unknown method {name!r}; choose one of {', '.join(sorted(METHODS))}")
    cls = METHODS[name]
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in options.items() if k in accepted and v is not None}
    return cls(n_clusters=n_clusters, random_state=random_state, **kwargs)


__all__ = ["METHODS", "make_method", "DeepFairClustering", "KMeansAE", "DECAE", "DeepAdaptiveClustering",
           "ClusterGAN", "ScalableFairletClustering", "FairAssignment", "VariationalFairClustering",
           "FairSpectralClustering", "FCMI"]
