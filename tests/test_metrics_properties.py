"""Property tests (hypothesis) for :mod:`fairclust.metrics`: invariances, bounds, zero cases."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import normalized_mutual_info_score

from fairclust import metrics

EPS = 1e-12
FAST = settings(max_examples=60, deadline=None)


@st.composite
def labelled(draw):
    """(cluster labels, groups with >= 2 distinct values, classes, a permutation seed)."""
    n = draw(st.integers(2, 60))
    k = draw(st.integers(1, 6))
    m = draw(st.integers(2, 4))
    clusters = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    groups = np.array(draw(st.lists(st.integers(0, m - 1), min_size=n, max_size=n)))
    groups[:2] = [0, 1]  # at least two groups present
    classes = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    return clusters, groups, classes, draw(st.integers(0, 2**31 - 1))


def relabel(values: np.ndarray, seed: int, as_strings: bool = False) -> tuple[np.ndarray, dict]:
    """Values mapped one-to-one onto a random permutation (optionally onto strings)."""
    uniq = np.unique(values)
    perm = np.random.default_rng(seed).permutation(len(uniq)) + 7
    mapping = {u: (f"name{p}" if as_strings else int(p)) for u, p in zip(uniq.tolist(), perm.tolist())}
    return np.array([mapping[v] for v in values.tolist()]), mapping


def table(clusters, groups):
    return metrics.contingency(clusters, groups)


@FAST
@given(labelled(), st.sampled_from(["clusters", "groups"]))
def test_invariant_to_relabelling(data, which):
    """Renaming clusters or groups (one-to-one, even to strings) changes no metric."""
    clusters, groups, classes, seed = data
    renamed, mapping = relabel(clusters if which == "clusters" else groups, seed, as_strings=seed % 2 == 0)
    a = metrics.report(clusters, sensitive_features=groups, labels_true=classes)
    if which == "clusters":
        b = metrics.report(renamed, sensitive_features=groups, labels_true=classes)
        mapping = {g: g for g in a["groups"]}
    else:
        b = metrics.report(clusters, sensitive_features=renamed, labels_true=classes)
    for key in ("balance", "balance_max", "mnce", "accuracy", "nmi", "fbeta"):
        assert math.isclose(a[key], b[key], rel_tol=1e-12, abs_tol=EPS), key
    # entropies are listed per group in sorted order: compare them group by group
    ent_b = dict(zip(b["groups"], b["entropy"]))
    for g, e in zip(a["groups"], a["entropy"]):
        assert math.isclose(e, ent_b[mapping[g]], rel_tol=1e-12, abs_tol=EPS)


@FAST
@given(labelled())
def test_bounds(data):
    clusters, groups, classes, _ = data
    rep = metrics.report(clusters, sensitive_features=groups, labels_true=classes)
    sizes = np.bincount(np.unique(groups, return_inverse=True)[1])
    assert rep["balance_max"] == sizes.min() / sizes.max()
    assert 0.0 <= rep["balance"] <= rep["balance_max"] + EPS
    k = len(np.unique(clusters))
    assert all(-EPS <= e <= math.log(k) + EPS for e in rep["entropy"])
    assert 0.0 <= rep["nmi"] <= 1.0
    assert 0.0 <= rep["accuracy"] <= 1.0
    assert rep["mnce"] >= 0.0


@FAST
@given(labelled())
def test_balance_is_zero_exactly_when_a_cluster_misses_a_group(data):
    clusters, groups, _, _ = data
    counts = table(clusters, groups)  # only non-empty clusters have a row
    misses = bool((counts == 0).any())
    assert (metrics.balance(clusters, sensitive_features=groups) == 0.0) == misses
    single_group = bool(((counts > 0).sum(axis=1) == 1).any())  # H(G | C=k) = 0 for that cluster
    assert (metrics.mnce(clusters, sensitive_features=groups) == 0.0) == single_group


@FAST
@given(labelled())
def test_nmi_is_the_arithmetic_normalisation(data):
    clusters, _, classes, _ = data
    expected = normalized_mutual_info_score(classes, clusters, average_method="arithmetic")
    assert math.isclose(metrics.nmi(classes, clusters), expected, rel_tol=1e-9, abs_tol=1e-9)


@FAST
@given(labelled())
def test_report_agrees_with_the_single_metrics(data):
    clusters, groups, classes, _ = data
    rep = metrics.report(clusters, sensitive_features=groups, labels_true=classes)
    assert rep["balance"] == metrics.balance(clusters, sensitive_features=groups)
    assert rep["entropy"] == metrics.entropy(clusters, sensitive_features=groups)
    assert rep["accuracy"] == metrics.accuracy(classes, clusters)
    assert math.isclose(rep["nmi"], metrics.nmi(classes, clusters), rel_tol=1e-12, abs_tol=EPS)


def test_reference_value_perfectly_fair_clusters():
    """Every cluster holds the groups in their overall proportion: Balance is its maximum, MNCE is 1."""
    groups = np.repeat([0, 1], [40, 10])
    clusters = np.r_[np.arange(40) % 2, np.arange(10) % 2]
    assert metrics.balance(clusters, sensitive_features=groups) == metrics.balance_max(groups) == 0.25
    assert math.isclose(metrics.mnce(clusters, sensitive_features=groups), 1.0)
    assert metrics.entropy(clusters, sensitive_features=groups) == [math.log(2)] * 2
