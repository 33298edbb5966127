"""Metrics of SPEC section 2 on hand-computed cases, against scikit-learn and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from fairclust import metrics
from fairclust.errors import FairclustError


def ent(*p: float) -> float:
    """Shannon entropy (nats) of a distribution given by counts or probabilities."""
    p = np.asarray(p, dtype=float)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


# ------------------------------------------------------------------------- Balance
def test_balance_zero_when_a_cluster_misses_a_group():
    labels = [0, 0, 1, 1, 1, 1]
    groups = [0, 0, 0, 1, 1, 1]  # cluster 0 holds group 0 only
    assert metrics.balance(labels, sensitive_features=groups) == 0.0
    assert metrics.mnce(labels, sensitive_features=groups) == 0.0
    # the other group misses it too: still 0, whichever group is absent
    assert metrics.balance([0, 0, 1, 1], sensitive_features=["a", "b", "a", "a"]) == 0.0


def test_balance_two_groups_by_hand():
    # cluster 0: 2 of g0, 1 of g1 -> 1/2; cluster 1: 1 of g0, 3 of g1 -> 1/3
    labels = [0, 0, 0, 1, 1, 1, 1]
    groups = [0, 0, 1, 0, 1, 1, 1]
    assert metrics.balance(labels, sensitive_features=groups) == pytest.approx(1 / 3)
    assert metrics.balance_max(groups) == pytest.approx(3 / 4)


def test_empty_cluster_ids_are_skipped():
    # cluster ids 0 and 5: the ids in between hold no sample and do not exist
    labels = [0, 0, 5, 5]
    groups = [0, 1, 0, 1]
    assert metrics.balance(labels, sensitive_features=groups) == 1.0
    rep = metrics.report(labels, sensitive_features=groups)
    assert rep["n_nonempty_clusters"] == 2 and rep["n_clusters"] == 2


def test_three_groups_by_hand():
    # cluster 0: a, b, c once each; cluster 1: a twice, b once, c once
    labels = [0, 0, 0, 1, 1, 1, 1]
    groups = ["a", "b", "c", "a", "a", "b", "c"]
    assert metrics.balance(labels, sensitive_features=groups) == pytest.approx(0.5)
    assert metrics.balance_max(groups) == pytest.approx(2 / 3)
    assert metrics.entropy(labels, sensitive_features=groups) == pytest.approx([ent(1, 2), ent(1, 1), ent(1, 1)])
    h_g = ent(3, 2, 2)
    assert metrics.mnce(labels, sensitive_features=groups) == pytest.approx(min(ent(1, 1, 1), ent(2, 1, 1)) / h_g)


def test_string_groups_equal_integer_groups():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 200)
    codes = rng.integers(0, 3, 200)
    names = np.array(["female", "male", "other"])[codes]  # sorted order == code order
    for fn in (metrics.balance, metrics.entropy, metrics.mnce):
        assert fn(labels, sensitive_features=names) == pytest.approx(fn(labels, sensitive_features=codes))
    assert metrics.balance_max(names) == pytest.approx(metrics.balance_max(codes))
    as_list = metrics.report(labels, sensitive_features=list(names))
    assert as_list["groups"] == ["female", "male", "other"]


@pytest.mark.parametrize("kind", ["names sorted by group", "rare name the sample misses", "floats", "objects",
                                  "mixed types", "large negative ints"])
def test_factorize_agrees_with_np_unique_on_long_vectors(kind):
    """Long label vectors take the search path of ``factorize``; it must equal ``np.unique``."""
    rng = np.random.default_rng(1)
    n = 300_000
    codes = rng.integers(0, 3, n)
    values = {
        "names sorted by group": np.sort(np.array(["women", "men", "nonbinary"])[codes]),
        "rare name the sample misses": np.where(np.arange(n) == 12345, "zz-rare", np.array(["b", "a"])[codes % 2]),
        "floats": codes * 0.5 - 1.0,
        "objects": np.array(["x", "y", "z"], dtype=object)[codes],
        "mixed types": np.array([1, "y", 2.5], dtype=object)[codes],
        "large negative ints": codes * 10**12 - 7,
    }[kind]
    uniq, inv = metrics.factorize(values)
    ref = values.astype(str) if kind == "mixed types" else values
    ref_uniq, ref_inv = np.unique(ref, return_inverse=True)
    np.testing.assert_array_equal(uniq, ref_uniq)
    np.testing.assert_array_equal(inv, ref_inv.reshape(-1))


def test_string_cluster_and_class_labels():
    y = ["cat", "cat", "dog", "dog", "dog"]
    pred = ["x", "x", "y", "y", "x"]
    assert metrics.accuracy(y, pred) == pytest.approx(4 / 5)
    assert metrics.nmi(y, pred) == pytest.approx(normalized_mutual_info_score(y, pred))


# ------------------------------------------------------------------------- Entropy
def test_entropy_per_group_in_sorted_group_order():
    # group "b" (listed first) spreads over 2 clusters evenly; "a" sits in one cluster
    labels = [0, 1, 0, 1, 0, 0]
    groups = ["b", "b", "b", "b", "a", "a"]
    assert metrics.entropy(labels, sensitive_features=groups) == pytest.approx([0.0, math.log(2)])
    rep = metrics.report(labels, sensitive_features=groups)
    assert rep["groups"] == ["a", "b"]
    assert rep["group_sizes"] == [2, 4]
    assert rep["entropy"] == pytest.approx([0.0, math.log(2)])


def test_entropy_by_hand_and_bounded_by_ln_k():
    labels = [0, 0, 1, 2, 0, 1, 1, 1]
    groups = [0, 0, 0, 0, 1, 1, 1, 1]
    e = metrics.entropy(labels, sensitive_features=groups)
    assert e == pytest.approx([ent(2, 1, 1), ent(1, 3)])
    rep = metrics.report(labels, sensitive_features=groups, n_clusters=3)
    assert rep["entropy_max"] == pytest.approx(math.log(3))
    assert all(0.0 <= v <= rep["entropy_max"] + 1e-12 for v in e)


# ------------------------------------------------------------------------- MNCE, F-beta
def test_mnce_and_fbeta_by_hand():
    y = [0, 0, 0, 1, 1, 1]
    pred = [0, 0, 1, 1, 1, 1]
    groups = [0, 1, 0, 1, 0, 0]
    # groups overall: 4 of g0, 2 of g1; cluster 0 = {g0, g1}, cluster 1 = {g0, g1, g0, g0}
    h_g = ent(4, 2)
    mnce = min(ent(1, 1), ent(3, 1)) / h_g
    assert metrics.mnce(pred, sensitive_features=groups) == pytest.approx(mnce)
    # NMI by hand: contingency [[2, 1], [0, 3]] (classes x clusters)
    n = 6
    table = np.array([[2, 1], [0, 3]])
    pij = table / n
    pi, pj = pij.sum(1), pij.sum(0)
    mi = sum(pij[i, j] * math.log(pij[i, j] / (pi[i] * pj[j])) for i in range(2) for j in range(2) if table[i, j])
    nmi = mi / ((ent(*pi) + ent(*pj)) / 2)
    assert metrics.nmi(y, pred) == pytest.approx(nmi)
    assert metrics.fbeta(y, pred, sensitive_features=groups) == pytest.approx(2 * nmi * mnce / (nmi + mnce))
    assert metrics.fbeta(y, pred, sensitive_features=groups, beta=2.0) == pytest.approx(
        5 * nmi * mnce / (4 * nmi + mnce)
    )


def test_mnce_is_one_when_every_cluster_mirrors_the_groups():
    labels = [0, 0, 0, 1, 1, 1]
    groups = ["a", "a", "b", "a", "a", "b"]
    assert metrics.mnce(labels, sensitive_features=groups) == pytest.approx(1.0)
    assert metrics.balance(labels, sensitive_features=groups) == pytest.approx(0.5)
    assert metrics.balance(labels, sensitive_features=groups) == pytest.approx(metrics.balance_max(groups))


# ------------------------------------------------------------------------- Accuracy, NMI
def brute_force_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Best one-to-one map of clusters to classes by enumerating every injective map."""
    classes, clusters = np.unique(y), np.unique(pred)
    best = 0
    if len(clusters) <= len(classes):
        for perm in itertools.permutations(classes, len(clusters)):
            mapping = dict(zip(clusters, perm))
            best = max(best, int(sum(mapping[p] == t for p, t in zip(pred, y))))
    else:
        for perm in itertools.permutations(clusters, len(classes)):
            mapping = dict(zip(perm, classes))
            best = max(best, int(sum(mapping.get(p, None) == t for p, t in zip(pred, y))))
    return best / len(y)


def test_accuracy_with_more_clusters_than_classes():
    y = [0, 0, 0, 1, 1, 1]
    pred = [0, 0, 1, 2, 2, 2]  # cluster 1 cannot be matched: its sample counts as an error
    assert metrics.accuracy(y, pred) == pytest.approx(5 / 6)


def test_accuracy_with_fewer_clusters_than_classes():
    y = [0, 0, 1, 1, 2, 2]
    pred = [0, 0, 0, 0, 1, 1]
    assert metrics.accuracy(y, pred) == pytest.approx(4 / 6)


def test_accuracy_is_invariant_to_cluster_names():
    y = [0, 0, 1, 1, 2, 2]
    assert metrics.accuracy(y, [7, 7, 3, 3, 5, 5]) == 1.0
    assert metrics.accuracy(y, ["c", "c", "a", "a", "b", "b"]) == 1.0


@pytest.mark.parametrize("seed", range(12))
def test_accuracy_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 30))
    y = rng.integers(0, int(rng.integers(1, 6)), n)
    pred = rng.integers(0, int(rng.integers(1, 6)), n)
    assert metrics.accuracy(y, pred) == pytest.approx(brute_force_accuracy(y, pred))


@pytest.mark.parametrize("seed", range(12))
def test_nmi_matches_sklearn_arithmetic(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 500))
    y = rng.integers(0, int(rng.integers(1, 12)), n)
    pred = rng.integers(0, int(rng.integers(1, 12)), n)
    if seed % 3 == 0:  # correlated labelings too, not only independent ones
        pred = np.where(rng.random(n) < 0.7, y, pred)
    ref = normalized_mutual_info_score(y, pred, average_method="arithmetic")
    assert metrics.nmi(y, pred) == pytest.approx(ref, abs=1e-12)


def test_nmi_edge_cases():
    assert metrics.nmi([0, 1, 2], [5, 6, 7]) == pytest.approx(1.0)
    assert metrics.nmi([0, 0, 0], [1, 1, 1]) == 1.0  # both constant: identical partitions
    assert metrics.nmi([0, 1, 0, 1], [1, 1, 1, 1]) == 0.0
    assert metrics.nmi([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------------- report
def test_accuracy_per_group_says_which_group_pays():
    """Group "a" clustered perfectly, group "b" with one class split over two clusters and two classes merged
    (8 of 12 right under its own best map: counted by hand below), and its clusters named in another order than a's
    (each group's own best map, so renaming costs nothing)."""
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3] * 2)
    pred_a = y[:12].copy()
    pred_b = np.array([1, 1, 0, 3, 3, 3, 2, 2, 2, 2, 2, 2])  # class 0 split 1/1/0; classes 2 and 3 merged in 2
    groups = np.array(["a"] * 12 + ["b"] * 12)
    rep = metrics.report(np.concatenate([pred_a, pred_b]), sensitive_features=groups, labels_true=y)
    # b: class 0 -> cluster 1 (2 right), class 1 -> cluster 3 (3), class 2 or 3 -> cluster 2 (3), cluster 0 left
    # to class 3 or 2 (0 right): 8 of 12
    assert rep["accuracy_per_group"] == pytest.approx([1.0, 8 / 12])
    assert "accuracy_per_group" not in metrics.report(pred_b, sensitive_features=groups[6:18])


def test_report_keys_and_consistency():
    rng = np.random.default_rng(3)
    n = 300
    y = rng.integers(0, 4, n)
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, 5, n))
    groups = rng.choice(["x", "y", "z"], n)
    rep = metrics.report(pred, sensitive_features=groups, labels_true=y, n_clusters=5)
    expected = {"n_samples", "n_clusters", "n_nonempty_clusters", "groups", "group_sizes", "balance",
                "balance_max", "entropy", "entropy_max", "mnce", "accuracy", "nmi", "fbeta", "information"}
    assert expected <= set(rep)
    assert rep["n_samples"] == n and rep["n_clusters"] == 5
    assert rep["groups"] == ["x", "y", "z"]
    assert sum(rep["group_sizes"]) == n
    assert rep["accuracy"] == pytest.approx(metrics.accuracy(y, pred))
    assert rep["nmi"] == pytest.approx(metrics.nmi(y, pred))
    assert rep["balance"] == pytest.approx(metrics.balance(pred, sensitive_features=groups))
    assert rep["balance_max"] == pytest.approx(metrics.balance_max(groups))
    assert rep["entropy"] == pytest.approx(metrics.entropy(pred, sensitive_features=groups))
    # each group's accuracy under its own best map: the report's equals metrics.accuracy on the group's samples
    assert rep["accuracy_per_group"] == pytest.approx([metrics.accuracy(y[groups == h], pred[groups == h])
                                                       for h in ("x", "y", "z")])
    assert rep["entropy_max"] == pytest.approx(math.log(5))
    assert rep["mnce"] == pytest.approx(metrics.mnce(pred, sensitive_features=groups))
    assert rep["fbeta"] == pytest.approx(metrics.fbeta(y, pred, sensitive_features=groups))
    assert rep["information"] == pytest.approx(
        metrics.information_report(pred, sensitive_features=groups, labels_true=y)
    )
    assert 0.0 <= rep["balance"] <= rep["balance_max"] <= 1.0


def test_report_without_labels_has_fairness_only():
    rep = metrics.report([0, 1, 0, 1], sensitive_features=[0, 0, 1, 1])
    assert "accuracy" not in rep and "nmi" not in rep and "fbeta" not in rep
    assert rep["balance"] == 1.0 and rep["mnce"] == pytest.approx(1.0)
    assert rep["entropy"] == pytest.approx([math.log(2), math.log(2)])
    assert set(rep["information"]) == {"H_C", "sum_g_Pr_g_H_C_g", "I_C_G"}


def test_spec_reference_mnist_usps_clusters_equal_classes():
    """SPEC §2: for MNIST-USPS, clusters = classes give Balance 0.093 and entropies 2.301 / 2.270."""
    mnist = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # MNIST train, per class
    usps = [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]  # USPS train, per class
    classes = np.concatenate([np.repeat(np.arange(10), mnist), np.repeat(np.arange(10), usps)])
    groups = np.repeat([0, 1], [sum(mnist), sum(usps)])
    assert len(classes) == 67291
    rep = metrics.report(classes, sensitive_features=groups, labels_true=classes)
    assert round(rep["balance"], 3) == 0.093
    assert [round(e, 3) for e in rep["entropy"]] == [2.301, 2.270]
    assert rep["balance_max"] == pytest.approx(0.1215, abs=5e-5)
    assert rep["accuracy"] == 1.0 and rep["nmi"] == pytest.approx(1.0)


# ------------------------------------------------------------------------- Section 4.3
def test_information_proposition_4_1_equality_when_independent_of_group():
    # both groups have the same cluster distribution (1/2, 1/4, 1/4): C independent of G
    pred = np.array([0, 0, 1, 2] + [0, 0, 0, 0, 1, 1, 2, 2])
    groups = np.array([0] * 4 + [1] * 8)
    y = np.array([0, 1, 1, 2] + [0, 0, 1, 1, 1, 2, 2, 0])
    info = metrics.information_report(pred, sensitive_features=groups, labels_true=y)
    assert info["I_C_G"] == pytest.approx(0.0, abs=1e-12)
    assert info["H_C"] == pytest.approx(ent(2, 1, 1))
    assert info["sum_g_Pr_g_H_C_g"] == pytest.approx(info["H_C"])  # Proposition 4.1
    assert info["I_Y_C"] <= info["sum_g_Pr_g_I_Y_g_C_g"] + 1e-12  # Theorem 4.1


def test_information_dependent_labelling():
    pred = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    info = metrics.information_report(pred, sensitive_features=groups, labels_true=y)
    # H(C) - H(C|G) = I(C;G) always; > 0 here since C depends on G
    assert info["H_C"] - info["sum_g_Pr_g_H_C_g"] == pytest.approx(info["I_C_G"])
    assert info["I_C_G"] == pytest.approx(math.log(2) - ent(3, 1))
    assert info["I_Y_C"] == pytest.approx(_mi(y, pred))
    per_group = sum(0.5 * _mi(y[groups == g], pred[groups == g]) for g in (0, 1))
    assert info["sum_g_Pr_g_I_Y_g_C_g"] == pytest.approx(per_group)


def _mi(a: np.ndarray, b: np.ndarray) -> float:
    from sklearn.metrics import mutual_info_score

    return float(mutual_info_score(a, b))


# ------------------------------------------------------------------------- errors
def test_length_mismatch_is_an_error():
    with pytest.raises(FairclustError, match="one value per sample"):
        metrics.balance([0, 1, 0], sensitive_features=[0, 1])
    with pytest.raises(FairclustError, match="one value per sample"):
        metrics.accuracy([0, 1, 0], [0, 1])
    with pytest.raises(FairclustError, match="one value per sample"):
        metrics.report([0, 1, 0, 1], sensitive_features=[0, 1, 0, 1], labels_true=[0, 1])


def test_single_group_is_an_error():
    for fn in (metrics.balance, metrics.entropy, metrics.mnce, metrics.report, metrics.information_report):
        with pytest.raises(FairclustError, match="single group"):
            fn([0, 1, 0], sensitive_features=["a", "a", "a"])
    with pytest.raises(FairclustError, match="single group"):
        metrics.balance_max([3, 3])


@pytest.mark.parametrize("bad", [
    np.array([0.0, np.nan, 1.0, 1.0]),
    np.array([0.0, np.inf, 1.0, 0.0]),
    np.array(["a", None, "b", "a"], dtype=object),
    np.array(["a", float("nan"), "b", "a"], dtype=object),
])
def test_nan_or_missing_values_are_errors(bad):
    ok = np.array([0, 1, 0, 1])
    with pytest.raises(FairclustError, match="NaN"):
        metrics.balance(ok, sensitive_features=bad)
    with pytest.raises(FairclustError, match="NaN"):
        metrics.report(ok, sensitive_features=bad, labels_true=ok)
    with pytest.raises(FairclustError, match="NaN"):
        metrics.accuracy(ok, bad)
    with pytest.raises(FairclustError, match="NaN"):
        metrics.report(bad, sensitive_features=ok)


def test_errors_are_value_errors_and_empty_input_rejected():
    with pytest.raises(ValueError):
        metrics.balance([], sensitive_features=[])
    with pytest.raises(FairclustError, match="one-dimensional"):
        metrics.nmi(np.zeros((3, 3)), np.zeros((3, 3)))
