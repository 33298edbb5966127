"""Clustering methods; every one is a scikit-learn style estimator.

``METHODS`` maps the CLI name of a method to its estimator class. Every class accepts
``n_clusters`` and ``random_state``; deep ones and those using the pretrained encoder
also accept ``recipe``, ``device``, ``cache_dir`` and ``verbose`` (see ``make_method``).
"""

from __future__ import annotations

import inspect
from typing import Any

from ..config import BY_NAME
from ..errors import FairclustError
from .clustergan import ClusterGAN
from .dac import DeepAdaptiveClustering
from .dec import DECAE
from .dfc import DeepFairClustering
from .falg import FairAssignment
from .fcc import VariationalFairClustering
from .fcmi import FCMI, FCMI_SETTINGS
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


# settings of one method alone, declared beside it (their CLI flags: fairclust.cli.args)
METHOD_SETTINGS = {s.name: s for s in FCMI_SETTINGS}


def make_method(name: str, n_clusters: int, random_state: int, *, strict: bool = False, **options: Any):
    """Instantiate method ``name`` with the ``options`` it takes (``None`` ones are the defaults).

    A setting of :data:`fairclust.config.SETTINGS` reaches only the methods it declares
    (``--batch-size`` is DFC's per-group batch, never DAC's total one); with ``strict`` (the
    ``run`` command) a setting given to a method that does not take it is a one-line error
    naming the methods that do. Run options (``device``, ``cache_dir``, ``verbose`` ...) go to
    every method whose signature has them.
    """
    if name not in METHODS:
        raise FairclustError(f"unknown method {name!r}; choose one of {', '.join(sorted(METHODS))}")
    cls = METHODS[name]
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {}
    for key, value in options.items():
        if value is None:
            continue
        setting = BY_NAME.get(key) or METHOD_SETTINGS.get(key)
        if setting is None:
            if key in accepted:
                kwargs[key] = value
        elif name in setting.methods:
            kwargs[key] = value
        elif strict:
            raise FairclustError(f"method {name!r} does not take {key} ({setting.cli_flag}); the methods that do: "
                                 f"{', '.join(setting.methods)}; drop it or choose one of them")
    return cls(n_clusters=n_clusters, random_state=random_state, **kwargs)


__all__ = ["METHODS", "make_method", "DeepFairClustering", "KMeansAE", "DECAE", "DeepAdaptiveClustering",
           "ClusterGAN", "ScalableFairletClustering", "FairAssignment", "VariationalFairClustering",
           "FairSpectralClustering", "FCMI"]
