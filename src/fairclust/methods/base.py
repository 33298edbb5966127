"""What every fairclust estimator shares: the scikit-learn layer over the input checks of
:mod:`fairclust.validation` and the settings of :mod:`fairclust.config`."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

from ..attributes import cell_labels, check_notion, network_groups
from ..attributes import parse as parse_attributes
from ..attributes import split as split_attributes
from ..errors import FairclustError, FairclustWarning
from ..settings import Config
from ..utils import check_seed, images_at_most
from ..validation import (
    _plain,
    check_n_clusters,
    check_X,
    standardisation,
)


def store_params(est: Any, params: dict[str, Any]) -> None:
    """``__init__``'s whole job (scikit-learn contract): every argument stored under its own name.

    Call as ``store_params(self, locals())`` first thing in ``__init__``.
    """
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(est, name, value)


class EmbeddingMixin(TransformerMixin):
    """For estimators whose ``transform`` is an embedding (``fit_transform`` included).

    The embedding comes out of a float32 network (or float32 inputs), whatever the input dtype.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class FairClusterMixin(ClusterMixin, BaseEstimator):
    """Shared scikit-learn layer: validates ``fit`` inputs and records what was seen
    (``n_features_in_``, ``input_shape_``, ``groups_``, and ``seed_``: the seed used).

    ``Config`` is the method's settings (:mod:`fairclust.config`): the estimator takes
    ``recipe`` and one argument per public setting (``None``: the recipe's value), and
    :meth:`_config` resolves them.
    """

    Config: ClassVar[type[Config]] = Config  # a method with no settings; each method sets its own

    def _config(self) -> Any:
        """The recipe's settings with this estimator's arguments, validated (a one-line error otherwise).

        ``latent_dim=0`` means ``n_clusters``."""
        cfg = self.Config.resolve(self.recipe, **{p.name: getattr(self, p.name) for p in self.Config.public()})
        if getattr(cfg, "latent_dim", None) == 0 and isinstance(self.n_clusters, (int, np.integer)):
            cfg = cfg.replace(latent_dim=int(self.n_clusters))
        return cfg

    def _start_fit(self, X: Any, sensitive_features: Any) -> tuple[Any, np.ndarray, np.ndarray, int]:
        """What every ``fit`` starts with: the settings (kept as ``config_``), the validated input,
        the groups as codes ``0..M-1`` and the seed of this fit (kept as ``seed_``)."""
        cfg = self._config()
        X, codes = self._validate_fit(X, sensitive_features, getattr(cfg, "fairness", "intersection"))
        self.config_ = cfg.to_dict()
        return cfg, X, codes, self._fit_seed()

    def recipe_params(self) -> dict:
        """Every setting's value a fit will use (the recipe's, with this estimator's arguments)."""
        return self._config().to_dict()

    def _validate_fit(self, X: Any, sensitive_features: Any,
                      notion: str = "intersection") -> tuple[np.ndarray, np.ndarray]:
        """The checked input and every sample's group as a code into ``groups_``.

        Several sensitive attributes (:mod:`fairclust.attributes`): the groups are their intersection's
        cells, kept with the attributes in ``attributes_`` (None for one attribute); under the
        ``marginal`` notion a cell of fewer than ``n_clusters`` samples joins a larger one
        (:func:`fairclust.attributes.network_groups`, with a warning)."""
        X = check_X(X)
        att = parse_attributes(sensitive_features, X.shape[0])
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        self.input_shape_ = tuple(int(v) for v in X.shape[1:])
        if att.n_attributes == 1:
            codes, groups = att.cells, att.cell_names
            self.attributes_ = None
        else:
            k = self.n_clusters if isinstance(self.n_clusters, (int, np.integer)) else 0
            joins = network_groups(att, int(k), check_notion(notion))
            reps = np.unique(joins)
            group_of_cell = np.searchsorted(reps, joins)
            codes, groups = group_of_cell[att.cells], att.cell_names[reps]
            merged = [f"{att.cell_names[c]} -> {att.cell_names[joins[c]]}" for c in range(len(joins)) if joins[c] != c]
            if merged:
                warnings.warn(f"{len(merged)} combination(s) of the sensitive attributes hold fewer than n_clusters="
                              f"{k} samples and share a larger one's teacher ({'; '.join(merged[:5])}); the fair "
                              "labels still bound each attribute", FairclustWarning, stacklevel=3)
            self.attributes_ = {**att.describe(), "cell_names": [str(c) for c in att.cell_names],
                                "group_of_cell": group_of_cell.tolist()}
        check_n_clusters(self.n_clusters, X.shape[0], np.bincount(codes), groups)
        self.groups_ = groups
        return X, codes

    def _fairness_groups(self, sensitive_features: Any, n_samples: int, notion: str) -> np.ndarray:
        """The groups whose shares fairness keeps: the groups' codes for one attribute; for several,
        each attribute's codes (``N x A``, ``marginal``) or the intersection's cells (``intersection``)."""
        check_notion(notion)
        if getattr(self, "attributes_", None) is None:
            return self._group_codes(sensitive_features, n_samples)
        cells = self._cell_codes(sensitive_features, n_samples)
        if notion == "intersection":
            return cells
        return np.asarray(self.attributes_["cell_codes"], dtype=np.int64)[cells]

    def _fit_fairness_groups(self, codes: np.ndarray, sensitive_features: Any, notion: str) -> np.ndarray:
        """:meth:`_fairness_groups` of the data ``fit`` just validated (``codes``: its groups)."""
        return codes if self.attributes_ is None else self._fairness_groups(sensitive_features, len(codes), notion)

    def _fit_seed(self) -> int:
        """The seed of this fit: ``random_state``, or one drawn when it is ``None``; kept as ``seed_``
        so that a run with a drawn seed can be repeated (``random_state=model.seed_``)."""
        self.seed_ = check_seed(self.random_state)
        return self.seed_

    def _group_codes(self, sensitive_features: Any, n_samples: int) -> np.ndarray:
        """Groups of new samples as the fit's codes (positions in ``groups_``); unknown groups are an error.
        A model fitted on several attributes takes them in the same form (names or column order)."""
        if getattr(self, "attributes_", None) is not None:
            group_of_cell = np.asarray(self.attributes_["group_of_cell"], dtype=np.int64)
            return group_of_cell[self._cell_codes(sensitive_features, n_samples)]
        return _positions(sensitive_features, self.groups_, n_samples)

    def _cell_codes(self, sensitive_features: Any, n_samples: int) -> np.ndarray:
        """Several attributes of new samples as positions among the fit's intersection cells."""
        return _positions(self._cells_of(sensitive_features, n_samples), np.asarray(self.attributes_["cell_names"]),
                          n_samples)

    def _cells_of(self, sensitive_features: Any, n_samples: int) -> np.ndarray:
        """Several attributes of new samples (as in ``fit``) as their intersection's names."""
        want = self.attributes_["names"]
        names, cols = split_attributes(sensitive_features, n_samples)
        if len(cols) != len(want):
            raise FairclustError(f"the model was fitted on {len(want)} sensitive attributes ({', '.join(want)}) but "
                                 f"sensitive_features holds {len(cols)}; pass the same attributes")
        if isinstance(sensitive_features, dict) or hasattr(sensitive_features, "columns"):
            by_name = dict(zip(names, cols))
            missing = [n for n in want if n not in by_name]
            if missing:
                raise FairclustError(f"sensitive_features lacks attribute(s) {', '.join(missing)} the model was fitted "
                                     f"on; pass {', '.join(want)}")
            cols = [by_name[n] for n in want]
        return cell_labels(cols)

    def _fit_scaler(self, X: np.ndarray, side: int = 0) -> np.ndarray:
        """``X`` as the networks see it: feature vectors standardised, images resized to at most ``side`` pixels a
        side (the ``input_side`` setting; :func:`fairclust.utils.images_at_most`; 0: as given).

        Every method whose networks read ``X`` (DFC, the users of the shared encoder,
        ClusterGAN) calls this in ``fit``, so that they all train on the same input and share
        one cached pretraining. The statistics and the side are kept for :meth:`_scale` in later calls.
        """
        self.input_side_ = int(side) if X.ndim == 4 else 0
        if X.ndim == 2:
            self.scaler_mean_, self.scaler_scale_ = standardisation(X)
        else:
            self.scaler_mean_ = self.scaler_scale_ = None
        return self._scale(X)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """``X`` standardised with the statistics of ``fit``, or resized as in ``fit`` (images)."""
        if getattr(self, "scaler_mean_", None) is None:
            return images_at_most(X, getattr(self, "input_side_", 0))  # models saved before the setting: as given
        return np.ascontiguousarray((X - self.scaler_mean_) / self.scaler_scale_, dtype=np.float32)

    @staticmethod
    def _teachers_input(X: np.ndarray, net_X: torch.Tensor) -> torch.Tensor:
        """``X`` as the teachers' spaces and the pairing read it: images at their own size, feature vectors as the
        networks read them (standardised); ``net_X`` is :meth:`_fit_scaler`'s."""
        return torch.from_numpy(X) if X.ndim == 4 and tuple(X.shape) != tuple(net_X.shape) else net_X

    def _network_shape(self) -> tuple[int, ...]:
        """The per-sample shape the networks read (``input_shape_`` after :meth:`_scale`)."""
        probe = np.zeros((1, *self.input_shape_), dtype=np.float32)
        return tuple(int(v) for v in self._scale(probe).shape[1:])

    def _validate_predict(self, X: Any) -> np.ndarray:
        X = check_X(X, min_samples=1)
        if X.ndim == 2 and len(self.input_shape_) == 1 and X.shape[1] != self.input_shape_[0]:
            raise FairclustError(  # scikit-learn's wording for feature vectors
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.input_shape_[0]} "
                "features as input; pass data of the same shape"
            )
        if tuple(X.shape[1:]) != tuple(self.input_shape_):
            raise FairclustError(
                f"X has per-sample shape {tuple(X.shape[1:])} but the model was fitted on {tuple(self.input_shape_)}; "
                "pass data of the same shape"
            )
        return X


def _positions(sensitive_features: Any, known: np.ndarray, n_samples: int) -> np.ndarray:
    """Each sample's group as its position among the sorted ``known`` groups; unknown groups are an error."""
    sens = np.asarray(sensitive_features).reshape(-1)
    if sens.shape[0] != n_samples:
        raise FairclustError(f"X has {n_samples} samples but sensitive_features has {sens.shape[0]}; "
                             "pass one group per sample")
    known = np.asarray(known)
    as_known = sens.astype(known.dtype) if known.dtype.kind in "US" else sens
    pos = np.searchsorted(known, as_known)
    pos = np.clip(pos, 0, len(known) - 1)
    bad = known[pos] != as_known
    if bad.any():
        raise FairclustError(f"sensitive_features holds group {_plain(sens[np.argmax(bad)])!r}, which the model "
                             f"was not fitted on (groups: {', '.join(map(str, known.tolist()))})")
    return pos.astype(np.int64)
