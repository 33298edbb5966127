"""Small real-data DFC runs: far fairer than plain k-means on the same pretrained features,
and not less accurate.

Data: the embedded ``digits-reverse`` (3,594 real handwritten digits, half of them inverted;
group = inverted), average-pooled from 32x32 back to the digits' native 8x8 so that the
conv-encoder runs fit the test budget (about 30 s of CPU, then ~5 s for the second run,
which reuses the cached pretraining). k-means on the shared VAE's features splits the data
by group (Balance 0); DFC's clusters hold both groups.

Two recipes, each named explicitly: ``default`` (UMAP + GMM teachers matched across groups,
teacher targets and centres, fair labels; here with a fixed T instead of its data-sized
schedule) and ``faithful`` (the paper's method exactly; its two fits are ``slow``). What DFC
learnt is judged on the argmax of its ``q``, not on the fair labels, whose Balance the LP
guarantees whatever DFC learnt. Sizes and lengths
are given here, so changing a recipe's sizes does not move these tests; changing its
method (extensions, teachers, losses) does, as it should.

Every threshold's margin was measured over seeds 0-2 (the tests use 0) with one torch
thread; the measured ranges are written beside them.
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


def test_dfc_argmax_is_no_more_group_dependent_than_its_teachers(runs, digits):
    """What DFC itself learnt, judged on the argmax of its ``q`` (``predict``), not on its fair labels
    (whose Balance the LP guarantees whatever DFC learnt): k-means on the same features splits the
    data by group (I(C;G) = ln 2, Balance 0); DFC's argmax depends on the group no more than its
    matched teachers do, far below k-means. Where the two groups' teachers make the same partition the
    argmax is independent of the group; where they differ (seed 0 since the kept teacher's mixture is
    refitted with 30 restarts: 0.874 / 0.890 within the groups) the argmax follows them.
    Measured seeds 0-2 (1 thread): argmax I(C;G) 0.0625 / 1.4e-6 / 3.5e-6 nats, the matched teachers'
    0.0625 / ~0 / ~0, k-means 0.693; before the refit (3 restarts) argmax 9e-7 to 2.5e-4 (1 and 2 threads)."""
    dfc_model, _, rep, _ = runs
    X, _, g = digits
    km = rep["kmeans"]
    argmax = dfc_model.predict(X)
    info = metrics.information_report(argmax, sensitive_features=g)
    teachers = metrics.information_report(dfc_model.teacher_labels_, sensitive_features=g)
    assert km["balance"] == 0.0 and km["information"]["I_C_G"] > 0.6  # k-means: the groups apart
    assert info["I_C_G"] <= teachers["I_C_G"] + 0.005, (info["I_C_G"], teachers["I_C_G"])
    assert info["I_C_G"] < 0.15 * km["information"]["I_C_G"], (info["I_C_G"], km["information"]["I_C_G"])


def test_dfc_argmax_is_as_accurate_as_its_teachers_and_far_above_kmeans(runs, digits):
    """DFC's argmax keeps what its matched teachers know and k-means on the same features does not
    reach. Measured seeds 0-2 (1 and 2 threads): argmax 0.873-0.875, its matched teachers 0.874 (argmax minus
    teachers -0.0003 to +0.0008), k-means 0.323-0.384 (argmax minus k-means 0.489-0.551)."""
    dfc_model, _, rep, _ = runs
    X, y, _ = digits
    argmax = dfc_model.predict(X)
    acc, teachers = metrics.accuracy(y, argmax), metrics.accuracy(y, dfc_model.teacher_labels_)
    assert acc >= rep["kmeans"]["accuracy"] + 0.4, (acc, rep["kmeans"]["accuracy"])
    assert acc >= teachers - 0.01, (acc, teachers)
    assert len(np.unique(argmax)) == 10


def test_fair_labels_cost_little_accuracy(runs, digits):
    """The fair labels move samples of the argmax into the share bounds (LP-guaranteed, counted here)
    at little cost in accuracy. Measured seeds 0-2 (1 and 2 threads) on an Intel AVX-512 machine: there the
    argmax already holds the bounds (Balance 0.90-0.99), the fair labels moved no sample and cost nothing. On an
    AMD EPYC (1 thread) the argmax differs: seeds 0 / 1 / 2 moved 273 / 118 / 0 samples at a cost of 0.013 / 0.023
    / 0.000 (the fair labels' price, docs/results.md), hence the bound 0.035."""
    dfc_model, _, rep, _ = runs
    X, y, g = digits
    argmax, labels, info = dfc_model.predict(X), dfc_model.labels_, dfc_model.fair_labels_info_
    r = np.bincount(g) / len(g)
    for c in np.unique(labels):  # every cluster holds each group's share within 5%, up to the rounding
        counts = np.bincount(g[labels == c], minlength=2)
        n = counts.sum()
        assert np.all(counts >= r * 0.95 * n - info["violation"] - 1e-9), (c, counts)
        assert np.all(counts <= r * n / 0.95 + info["violation"] + 1e-9), (c, counts)
    assert info["changed"] == int((labels != argmax).sum())
    assert metrics.accuracy(y, labels) >= metrics.accuracy(y, argmax) - 0.035


def test_dfc_history_tracks_the_run(runs, digits):
    dfc, _, _, _ = runs
    X, y, g = digits
    last = dfc.history_["evals"][-1]
    # the last check is where training ended: T, or earlier by the stopping rule (300 of 500 here)
    assert last["iteration"] == dfc.history_["iterations_run"] <= DFC_ONLY["n_iters"]
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


@pytest.mark.slow
def test_faithful_recipe_is_fair_and_meaningful(faithful, runs):
    km = runs[2]["kmeans"]
    # measured (argmax labels, the paper's): Balance 0.681-0.800, MNCE 0.974-0.991; k-means 0 and 0
    assert faithful["balance"] > km["balance"] + 0.4, (faithful["balance"], km["balance"])
    assert faithful["mnce"] > km["mnce"] + 0.6, (faithful["mnce"], km["mnce"])
    # accuracy 0.351-0.421 against k-means' 0.338-0.365 (difference +0.013 to +0.061): not below k-means
    # beyond noise, and far above chance (0.1)
    assert faithful["accuracy"] >= km["accuracy"] - 0.05, (faithful["accuracy"], km["accuracy"])
    assert faithful["accuracy"] > 0.3 and faithful["n_nonempty_clusters"] == 10


@pytest.fixture(scope="module")
def faithful_no_adversary(digits, runs, faithful):
    """The faithful run again with ``alpha_f = 0`` (no adversary), on the same cached pretraining."""
    X, y, g = digits
    model = DeepFairClustering(10, recipe="faithful", alpha_f=0.0, random_state=SEED, cache_dir=str(runs[3]),
                               **SHARED, **DFC_ONLY, **DEC_TEACHERS)
    model.fit(X, y, sensitive_features=g)
    assert all(model.pretrain_cache_hits_.values())  # the very pretraining of the faithful run
    return metrics.report(model.labels_, sensitive_features=g, labels_true=y, n_clusters=10)


@pytest.mark.slow
def test_faithful_fairness_does_not_hinge_on_the_adversary(faithful, faithful_no_adversary, runs):
    """What makes the paper's method fair at this size is L_c's target, normalised per group per
    batch (each group is pulled to spread over every cluster), not the adversary: argmax labels,
    ``alpha_f = 1`` vs ``alpha_f = 0`` on the same pretraining, measured over seeds 0-2:

    ========  =====================  =====================
    seed      Balance (1 / 0)        I(C;G) nats (1 / 0)
    ========  =====================  =====================
    0         0.790 / 0.823          0.0029 / 0.0018
    1         0.800 / 0.697          0.0025 / 0.0050
    2         0.681 / 0.268          0.0068 / 0.0138
    ========  =====================  =====================

    (k-means on the same features: Balance 0, I(C;G) ln 2 = 0.693.) The adversary does not
    raise Balance reliably here (seed 0 is fairer without it; so were all three seeds with
    ``alpha_s = 0``, at lr 1e-2 and 1e-3, and the default recipe's argmax on seed 0), as
    docs/experiments.md found for Figure 6(a). So this checks the mechanism that holds: both
    runs far more independent of the group than k-means, with and without the adversary.
    """
    km = runs[2]["kmeans"]["information"]["I_C_G"]
    for rep in (faithful, faithful_no_adversary):
        assert rep["information"]["I_C_G"] < 0.05 * km, (rep["information"]["I_C_G"], km)  # <= 0.0138 measured
        assert rep["mnce"] > 0.6 and rep["n_nonempty_clusters"] == 10  # MNCE 0.74-0.99 measured
