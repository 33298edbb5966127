"""The scikit-learn contract of DeepFairClustering and KMeansAE.

Generic checks (``sklearn.utils.estimator_checks``)
---------------------------------------------------
Our estimators REQUIRE ``sensitive_features`` in ``fit``; scikit-learn's checks call
``fit(X)`` or ``fit(X, y)`` without it. So:

* Checks that never call ``fit`` run on the real classes (``NO_FIT_CHECKS``).
* Every check, the fit-calling ones included, runs on test-only subclasses
  (``DFCAlternatingGroups``, ``KMeansAEAlternatingGroups``) that supply alternating groups
  ``0, 1, 0, 1, ...`` when ``fit`` gets none, with tiny training settings.

Checks expected to fail (``EXPECTED_FAILED``; they run as xfail), and why:

* ``check_complex_data``, ``check_dtype_object``, ``check_estimators_empty_data_messages``,
  ``check_fit2d_predict1d``: they match scikit-learn's own error wording ("Complex data not
  supported", "argument must be a string or a number", "0 feature(s) (shape=(3, 0)) while a
  minimum of 1 is required", "Reshape your data"). fairclust raises the right exception
  types (``FairclustTypeError`` is a ``TypeError``, ``FairclustError`` a ``ValueError``) with
  its own one-line "problem; fix" messages (docs/errors.md); ``test_bad_input_types``
  checks the types on the same inputs.
* ``check_methods_subset_invariance``: ``transform`` is a float32 network; a subset and the
  whole batch agree to about 1e-7 absolute (BLAS blocking differs with the batch size),
  right at the check's ``atol=1e-7``, so it fails for some data. Labels are not affected.

Skipped by scikit-learn itself: ``check_array_api_input`` (array API not enabled).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils import estimator_checks as ec
from sklearn.utils.estimator_checks import parametrize_with_checks

from fairclust import DeepFairClustering
from fairclust.errors import FairclustError, FairclustTypeError
from fairclust.methods import KMeansAE
from fairclust.nn import student_t

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = dict(n_iters=30, pretrain_epochs=1, batch_size=16)


class _AlternatingGroups:
    """Test-only: ``fit`` without ``sensitive_features`` uses groups 0, 1, 0, 1, ..."""

    def fit(self, X, y=None, *, sensitive_features=None, **kwargs):
        if sensitive_features is None:
            n = X.shape[0] if hasattr(X, "shape") else np.asarray(X).shape[0]
            sensitive_features = np.arange(n) % 2
        return super().fit(X, y, sensitive_features=sensitive_features, **kwargs)


class DFCAlternatingGroups(_AlternatingGroups, DeepFairClustering):
    pass


class KMeansAEAlternatingGroups(_AlternatingGroups, KMeansAE):
    pass


MESSAGE_WORDING = ("fairclust raises the right exception type with its own one-line message, "
                   "not scikit-learn's wording (see test_bad_input_types)")
EXPECTED_FAILED = {
    "check_complex_data": MESSAGE_WORDING,
    "check_dtype_object": MESSAGE_WORDING,
    "check_estimators_empty_data_messages": MESSAGE_WORDING,
    "check_fit2d_predict1d": MESSAGE_WORDING,
    "check_methods_subset_invariance": "float32 network: subset and full batch agree to ~1e-7, the check's atol",
}

NO_FIT_CHECKS = [
    ec.check_parameters_default_constructible,
    ec.check_no_attributes_set_in_init,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_estimator_repr,
    ec.check_estimator_cloneable,
    ec.check_estimators_unfitted,
    ec.check_transformers_unfitted,
    ec.check_mixin_order,
    ec.check_do_not_raise_errors_in_init_or_set_params,
    ec.check_valid_tag_types,
    ec.check_estimator_tags_renamed,
]


# The checks fit the same small arrays again and again: a pretraining cache shared by them
# skips the repeats (cold and warm fits are identical: see
# test_pretraining_cache_is_hit_and_gives_identical_results). ``cache_dir=None`` reads
# $FAIRCLUST_CACHE, pointed at a temporary directory for this module (and the ids stay stable).
@pytest.fixture(scope="module", autouse=True)
def _checks_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FAIRCLUST_CACHE", str(tmp_path_factory.mktemp("fc-checks-cache")))
        yield


def _check_instances():
    return [
        DFCAlternatingGroups(2, random_state=0, device="cpu", **TINY),
        KMeansAEAlternatingGroups(2, pretrain_epochs=1, n_init=2, random_state=0, device="cpu"),
    ]


@parametrize_with_checks(_check_instances(), expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_checks_with_alternating_groups(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", [DeepFairClustering, KMeansAE])
@pytest.mark.parametrize("check", NO_FIT_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_checks_without_fit(cls, check):
    check(cls.__name__, cls())


# ----------------------------------------------------------------------------- data
def blobs(n_per: int = 12, n_features: int = 5, seed: int = 0):
    """Three well-separated blobs, each holding both groups; groups and classes interleaved."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(3, n_features))
    X, y, g = [], [], []
    for k in range(3):
        for grp in (0, 1):
            X.append(centres[k] + rng.normal(size=(n_per, n_features)))
            y += [k] * n_per
            g += [grp] * n_per
    order = rng.permutation(len(y))
    return np.concatenate(X)[order].astype(np.float32), np.array(y)[order], np.array(g)[order]


@pytest.fixture(scope="module")
def data():
    return blobs()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("fc-cache")


@pytest.fixture(scope="module")
def fitted_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("fc-fitted-cache")


@pytest.fixture(scope="module")
def fitted(data, fitted_cache):
    X, y, g = data
    return DeepFairClustering(3, random_state=0, cache_dir=str(fitted_cache), **TINY).fit(X, y, sensitive_features=g)


# ----------------------------------------------------------------------------- contract
def test_init_only_stores_parameters():
    params = dict(n_clusters=4, recipe="paper", alpha_f=0.5, n_iters=7, cache_dir="/nonexistent", random_state=3)
    est = DeepFairClustering(**params)
    assert vars(est) == {**DeepFairClustering().get_params(), **params}
    km = KMeansAE(5, n_init=3, random_state=1)
    assert vars(km) == {**KMeansAE().get_params(), "n_clusters": 5, "n_init": 3, "random_state": 1}


def test_fit_requires_sensitive_features(data):
    X, _, g = data
    with pytest.raises(TypeError):
        DeepFairClustering(3, **TINY).fit(X)
    with pytest.raises(FairclustError, match="sensitive_features is required"):
        DeepFairClustering(3, **TINY).fit(X, sensitive_features=None)
    with pytest.raises(FairclustError, match="single group"):
        KMeansAE(3).fit(X, sensitive_features=np.zeros(len(X)))


def test_fit_returns_self_and_fitted_attributes(data, cache):
    X, y, g = data
    est = DeepFairClustering(3, random_state=0, cache_dir=str(cache), **TINY)
    assert est.fit(X, y, sensitive_features=g) is est
    assert est.labels_.shape == (len(X),) and est.labels_.dtype.kind == "i"
    assert est.cluster_centers_.shape == (3, est.config_["latent_dim"])
    assert est.n_features_in_ == X.shape[1]
    assert list(est.groups_) == [0, 1]
    assert est.teacher_labels_.shape == (len(X),)
    hist = est.history_
    assert len(hist["iteration"]) == TINY["n_iters"]
    assert all(len(hist[k]) == TINY["n_iters"] for k in ("loss", "L_c", "L_s", "L_f"))
    assert np.all(np.isfinite(hist["loss"]))
    assert hist["evals"] and hist["evals"][-1]["iteration"] == TINY["n_iters"]
    assert "accuracy" in hist["evals"][-1] and "balance" in hist["evals"][-1]


def test_inference_needs_no_groups_and_matches_labels(fitted, data):
    X, _, _ = data
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    assert (proba >= 0).all()
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    np.testing.assert_array_equal(proba.argmax(1), fitted.labels_)
    Z = fitted.transform(X)
    assert Z.shape == (len(X), fitted.cluster_centers_.shape[1])
    # predict_proba is the Student-t kernel of the embedding and the centres
    q = student_t(torch.from_numpy(Z), torch.from_numpy(fitted.cluster_centers_)).numpy()
    np.testing.assert_allclose(q, proba, atol=1e-5)
    # predictions of single samples equal those of the whole batch (eval-mode BatchNorm)
    np.testing.assert_array_equal(fitted.predict(X[:1]), fitted.labels_[:1])


def test_inference_rejects_other_shapes(fitted, data):
    X, _, _ = data
    with pytest.raises(FairclustError, match="expecting 5 features"):
        fitted.predict(X[:, :3])


def test_same_seed_gives_identical_labels_without_cache(data, tmp_path):
    X, y, g = data
    a = DeepFairClustering(3, random_state=0, cache_dir=str(tmp_path / "a"), **TINY).fit(X, sensitive_features=g)
    b = DeepFairClustering(3, random_state=0, cache_dir=str(tmp_path / "b"), **TINY).fit(X, sensitive_features=g)
    assert not any(a.pretrain_cache_hits_.values()) and not any(b.pretrain_cache_hits_.values())
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.history_["loss"] == b.history_["loss"]


def test_a_drawn_seed_is_recorded_and_repeats_the_run(data, cache):
    X, y, g = data
    first = DeepFairClustering(3, random_state=None, cache_dir=str(cache), **TINY).fit(X, sensitive_features=g)
    assert isinstance(first.seed_, int) and first.seed_ >= 0
    again = DeepFairClustering(3, random_state=first.seed_, cache_dir=str(cache), **TINY).fit(X, sensitive_features=g)
    np.testing.assert_array_equal(again.labels_, first.labels_)


def test_a_cached_matching_is_computed_once_and_warns_again(tmp_path):
    """The teachers' matching across groups is a cached stage: a second run with the same teachers and settings
    loads it (its transfer classifiers are most of a small run's time) and gives the weak-pairing warning again;
    other teachers or another space are another entry."""
    import warnings

    from fairclust.cache import StageCache
    from fairclust.config import DFCConfig
    from fairclust.errors import FairclustWarning
    from fairclust.pretrain import Pretrainer

    pre = Pretrainer(torch.zeros(4, 3), np.array([0, 0, 1, 1]), DFCConfig.resolve("default"), 0, torch.device("cpu"),
                     StageCache(tmp_path))
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]], np.float32)
    calls = []

    def match():
        calls.append(1)
        warnings.warn("group 1: matched on weak evidence", FairclustWarning)
        return P[:, ::-1], [{"group": 1, "perm": np.array([1, 0]), "z": np.float64(0.5)}], None

    for hit in (False, True):
        with pytest.warns(FairclustWarning, match="weak evidence"):
            matched, records, refit = pre.matched_teachers(P, match, "input")
        assert calls == [1] and pre.loaded_from_cache["matching"] is hit
        np.testing.assert_array_equal(matched, P[:, ::-1])
        assert records == [{"group": 1, "perm": [1, 0], "z": 0.5}] and refit is None  # plain values either way
    for other_teachers, other_space in ((P[::-1].copy(), "input"), (P, "canonical")):  # other entries
        with pytest.warns(FairclustWarning):
            pre.matched_teachers(other_teachers, match, other_space)
    assert calls == [1, 1, 1]


def test_pretraining_cache_is_hit_and_gives_identical_results(fitted, data, fitted_cache):
    X, y, g = data
    cache = fitted_cache
    again = DeepFairClustering(3, random_state=0, cache_dir=str(cache), **TINY)
    labels = again.fit_predict(X, sensitive_features=g)  # ClusterMixin's fit_predict passes the groups on
    np.testing.assert_array_equal(labels, fitted.labels_)
    # the default recipe: shared VAE, UMAP + GMM teachers, their matching across groups (its centres come from
    # the teachers, uncached)
    assert again.pretrain_cache_hits_ == {"shared_vae": True, "teachers_umap": True, "matching": True}
    assert fitted.pretrain_cache_hits_ == {"shared_vae": False, "teachers_umap": False, "matching": False}
    assert again.matching_ == fitted.matching_ and again.teacher_refit_ == fitted.teacher_refit_
    np.testing.assert_array_equal(again.labels_, fitted.labels_)
    np.testing.assert_array_equal(again.cluster_centers_, fitted.cluster_centers_)
    np.testing.assert_array_equal(again.teacher_labels_, fitted.teacher_labels_)
    # another seed or other pretraining settings are other cache entries
    other = DeepFairClustering(3, random_state=1, cache_dir=str(cache), **TINY).fit(X, sensitive_features=g)
    assert not any(other.pretrain_cache_hits_.values())


def test_save_load_gives_identical_predictions(fitted, data, tmp_path):
    X, _, _ = data
    path = tmp_path / "model.pt"
    fitted.save(path)
    loaded = DeepFairClustering.load(path)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.labels_, fitted.labels_)
    np.testing.assert_array_equal(loaded.cluster_centers_, fitted.cluster_centers_)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    assert loaded.history_ == fitted.history_
    assert list(loaded.groups_) == list(fitted.groups_)
    with pytest.raises(FairclustError, match="does not exist"):
        DeepFairClustering.load(tmp_path / "missing.pt")


def test_images_three_string_groups_and_save_load(tmp_path):
    """Conv encoder on N x 1 x 8 x 8 images, three groups named by strings."""
    rng = np.random.default_rng(1)
    n = 60
    y = np.arange(n) % 2
    X = rng.random((n, 1, 8, 8)).astype(np.float32) * 0.3
    X[y == 1, :, :4] += 0.6  # class 1: bright top half
    g = np.array(["red", "green", "blue"])[np.arange(n) // 2 % 3]
    est = DeepFairClustering(2, random_state=0, cache_dir=str(tmp_path / "c"), fair_labels=False, **TINY)
    est.fit(X, sensitive_features=g)
    assert list(est.groups_) == ["blue", "green", "red"]
    assert est.critic_(torch.zeros(1, 2)).shape == (1, 3)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    est.save(tmp_path / "m.pt")
    loaded = DeepFairClustering.load(tmp_path / "m.pt")
    assert list(loaded.groups_) == ["blue", "green", "red"]
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_kmeans_ae_contract(data, cache):
    X, y, g = data
    km = KMeansAE(3, random_state=0, pretrain_epochs=1, cache_dir=str(cache))
    assert km.fit(X, y, sensitive_features=g) is km
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert km.transform(X).shape == (len(X), km.cluster_centers_.shape[1])
    again = KMeansAE(3, random_state=0, pretrain_epochs=1, cache_dir=str(cache)).fit(X, sensitive_features=g)
    np.testing.assert_array_equal(again.labels_, km.labels_)
    np.testing.assert_array_equal(again.transform(X), km.transform(X))


def test_bad_input_types(data):
    """The inputs of the checks listed in EXPECTED_FAILED raise the right exception types."""
    X, _, g = data
    est = DeepFairClustering(3, **TINY)
    with pytest.raises(TypeError):
        est.fit(X.astype(np.complex64), sensitive_features=g)
    with pytest.raises(FairclustTypeError):
        est.fit(np.full(X.shape, "a", dtype=object), sensitive_features=g)
    with pytest.raises(ValueError):
        est.fit(np.zeros((len(X), 0)), sensitive_features=g)
    with pytest.raises(ValueError):
        est.fit(X, sensitive_features=g[:-1])


def test_bad_input_types_at_predict(fitted, data):
    with pytest.raises(ValueError):
        fitted.predict(data[0][0])  # one sample as a 1-D array


def test_clone_is_unfitted(fitted):
    c = clone(fitted)
    assert c.get_params() == fitted.get_params()
    assert not hasattr(c, "labels_")
