"""Clustering methods; every one is a scikit-learn style estimator.

``METHODS`` maps the CLI name of a method (the paper's names) to its estimator class. Every
class takes ``n_clusters``, ``recipe``, ``random_state`` and one argument per public setting
of its ``Config`` (:mod:`fairclust.config`; ``None``: the recipe's value); the deep ones also
take ``device`` and ``verbose``, and those that pretrain (all but ClusterGAN) ``cache_dir``.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import FairclustError
from ..settings import Param
from .clustergan import ClusterGAN
from .dac import DeepAdaptiveClustering
from .dec import DECAE
from .dfc import DeepFairClustering
from .fair_assignment import FairAssignment
from .fair_spectral import FairSpectralClustering
from .fairlets import ScalableFairletClustering
from .fcmi import FCMI
from .kmeans import KMeansAE
from .variational import VariationalFairClustering

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

# options of a run that an estimator takes when its signature has them (not settings of a recipe)
RUN_OPTIONS = {"device": "--device", "cache_dir": "--cache-dir / --no-cache", "verbose": "--quiet",
               "checkpoint_path": "--out", "checkpoint_every": "--checkpoint-every", "resume": "--resume"}
# run options the command line passes whatever the user typed: dropped silently where a method has no use for them
IMPLICIT_OPTIONS = ("verbose", "checkpoint_path")


def public_settings(methods: dict[str, type] | None = None) -> dict[str, Param]:
    """Every public setting of every method (of ``methods``, default :data:`METHODS`), by name
    (one meaning per name: ``tests/test_settings.py``)."""
    out: dict[str, Param] = {}
    for cls in (methods or METHODS).values():
        for p in cls.Config.public():
            out.setdefault(p.name, p)
    return out


def takers(name: str, methods: dict[str, type] | None = None) -> list[str]:
    """The methods (of ``methods``, default :data:`METHODS`) whose settings include ``name``."""
    return [m for m, cls in (methods or METHODS).items() if cls.Config.param(name) is not None]


def make_method(name: str, n_clusters: int, random_state: int, *, strict: bool = False,
                extras: dict[str, Any] | None = None, **options: Any):
    """Instantiate method ``name`` with the ``options`` it takes (``None`` ones are the recipe's).

    A setting reaches only the methods whose config declares it (``--batch-size`` is DFC's
    per-group batch, never FCMI's total one). With ``strict`` (the ``run`` command), a setting
    or a run option (``--resume``, ``--checkpoint-every`` ...) given to a method that does not
    take it is a one-line error naming the methods that do. ``extras``: values a recipe adds
    for a data set (:func:`fairclust.paper_settings.paper_overrides`), given to the methods
    that take them and never an error.
    """
    if name not in METHODS:
        raise FairclustError(f"unknown method {name!r}; choose one of {', '.join(sorted(METHODS))}")
    cls = METHODS[name]
    accepted = inspect.signature(cls.__init__).parameters
    known = public_settings()
    kwargs = {k: v for k, v in (extras or {}).items() if v is not None and cls.Config.param(k) is not None}
    for key, value in options.items():
        if value is None:
            continue
        if key in accepted:
            kwargs[key] = value
            continue
        if not strict or key in IMPLICIT_OPTIONS or value is False:
            continue
        if key in known:
            p = known[key]
            raise FairclustError(f"method {name!r} does not take {key} ({p.cli_flag}); the methods that do: "
                                 f"{', '.join(takers(key))}; drop it or choose one of them")
        users = [m for m, c in METHODS.items() if key in inspect.signature(c.__init__).parameters]
        flag = RUN_OPTIONS.get(key, key)
        raise FairclustError(f"method {name!r} does not take {flag}; the methods that do: {', '.join(users)}; drop it "
                             "or choose one of them")
    return cls(n_clusters=n_clusters, random_state=random_state, **kwargs)


__all__ = ["METHODS", "make_method", "public_settings", "takers", "DeepFairClustering", "KMeansAE", "DECAE",
           "DeepAdaptiveClustering", "ClusterGAN", "ScalableFairletClustering", "FairAssignment",
           "VariationalFairClustering", "FairSpectralClustering", "FCMI"]
