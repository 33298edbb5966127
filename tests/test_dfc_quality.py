"""Small real-data DFC runs: far fairer than plain k-means on the same pretrained features,
and not less accurate.

Data: the embedded ``digits-reverse`` (3,594 real handwritten digits, half of them inverted;
group = inverted), average-pooled from 32x32 back to the digits' native 8x8 so that the
conv-encoder runs fit the test budget (about 30 s of CPU, then ~5 s for the second run,
which reuses the cached pretraining). k-means on the shared VAE's features splits the data
by group (Balance 0); DFC's adversary makes every cluster hold both groups.

Two recipes, each named explicitly: ``default`` (the alignment extension on) and
``faithful`` (the paper's method exactly). Sizes and lengths are given here, so changing
a recipe's sizes does not move these tests; changing its method (extensions, teachers,
losses) does, as it should.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from fairclust import DeepFairClustering, metrics
from fairclust.data import load_dataset
from fairclust.methods import KMeansAE

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SEED = 0
SHARED = dict(pretrain_epochs=20, latent_dim=10)  # the shared VAE: the same for DFC and k-means
DFC_ONLY = dict(n_iters=500, batch_size=64)
DEC_TEACHERS = dict(teacher_epochs=20, dec_iters=200)  # the paper's teachers (faithful recipe)


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits-reverse")
    X = F.avg_pool2d(torch.from_numpy(ds.X), 4).numpy()  # N x 1 x 8 x 8
    return X, ds.y, ds.sensitive


@pytest.fixture(scope="module")
def runs(digits, tmp_path_factory):
    X, y, g = digits
    cache = tmp_path_factory.mktemp("quality-cache")
    dfc = DeepFairClustering(10, recipe="default", random_state=SEED, cache_dir=str(cache), **SHARED, **DFC_ONLY)
    dfc.fit(X, y, sensitive_features=g)
    km = KMeansAE(10, random_state=SEED, cache_dir=str(cache), **SHARED).fit(X, sensitive_features=g)
    rep = {name: metrics.report(labels, sensitive_features=g, labels_true=y, n_clusters=10)
           for name, labels in (("dfc", dfc.labels_), ("kmeans", km.labels_))}
    return dfc, km, rep, cache


def test_kmeans_sees_dfc_pretrained_encoder(runs):
    dfc, _, _, cache = runs
    assert dfc.pretrain_cache_hits_["shared_vae"] is False
    assert len(list((cache / "shared_vae").glob("*.pt"))) == 1  # k-means loaded DFC's shared VAE


def test_dfc_balance_far_above_kmeans(runs):
    _, _, rep, _ = runs
    dfc, km = rep["dfc"], rep["kmeans"]
    assert dfc["balance"] > km["balance"] + 0.3, (dfc["balance"], km["balance"])
    assert dfc["mnce"] > km["mnce"] + 0.3, (dfc["mnce"], km["mnce"])
    assert dfc["balance"] <= dfc["balance_max"] == 1.0
    assert dfc["information"]["I_C_G"] < km["information"]["I_C_G"]


def test_dfc_accuracy_not_below_kmeans(runs):
    _, _, rep, _ = runs
    dfc, km = rep["dfc"], rep["kmeans"]
    assert dfc["accuracy"] >= km["accuracy"], (dfc["accuracy"], km["accuracy"])
    assert dfc["n_nonempty_clusters"] == 10


def test_dfc_history_tracks_the_run(runs, digits):
    dfc, _, _, _ = runs
    X, y, g = digits
    last = dfc.history_["evals"][-1]
    assert last["iteration"] == DFC_ONLY["n_iters"]
    # the history scores the argmax of q (labels_ are the fair labels of the same q)
    argmax = dfc.predict(X)
    assert last["accuracy"] == pytest.approx(metrics.accuracy(y, argmax))
    assert last["balance"] == pytest.approx(metrics.balance(argmax, sensitive_features=g))
    assert np.isfinite(dfc.history_["loss"]).all()


@pytest.fixture(scope="module")
def faithful(digits, runs):
    """The paper's method exactly, on the pretraining cached by ``runs`` (its teachers' clusters
    are not matched across groups)."""
    X, y, g = digits
    model = DeepFairClustering(10, recipe="faithful", random_state=SEED, cache_dir=str(runs[3]), **SHARED, **DFC_ONLY,
                               **DEC_TEACHERS)
    model.fit(X, y, sensitive_features=g)
    return metrics.report(model.labels_, sensitive_features=g, labels_true=y, n_clusters=10)


def test_faithful_recipe_is_fair_and_meaningful(faithful, runs):
    km = runs[2]["kmeans"]
    assert faithful["balance"] > km["balance"] + 0.3, (faithful["balance"], km["balance"])
    assert faithful["mnce"] > km["mnce"] + 0.3, (faithful["mnce"], km["mnce"])
    assert faithful["accuracy"] >= km["accuracy"], (faithful["accuracy"], km["accuracy"])
    assert faithful["accuracy"] > 0.3 and faithful["n_nonempty_clusters"] == 10  # chance: 0.1
