"""The fair-labels extension: DFC's hard labels under per-cluster group-share bounds.

``fair_labels(q, codes, delta)`` is FAlg's LP with DFC's soft assignments as costs; these
tests check its guarantees on assignments whose argmax is known to be unfair, and the
option's plumbing through the estimator, its files and the command line.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from fairclust import DeepFairClustering, metrics
from fairclust.cli import main
from fairclust.errors import FairclustError
from fairclust.fair_lp import fair_labels

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def unfair_q(n_per: int = 300, k: int = 4, seed: int = 0):
    """Soft assignments whose argmax puts group 0 mostly in clusters 0-1, group 1 in 2-3."""
    rng = np.random.default_rng(seed)
    codes = np.repeat([0, 1], n_per)
    logits = rng.normal(size=(2 * n_per, k))
    logits[:n_per, :2] += 2.0
    logits[n_per:, 2:] += 2.0
    q = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return q, codes


def balance_floor(labels: np.ndarray, codes: np.ndarray, delta: float, slack: float) -> float:
    """The least Balance that labels within the share bounds allow, each count off by at most ``slack``
    points: per cluster of ``n`` samples, group counts lie in ``[r (1 - delta) n - slack, r n / (1 - delta)
    + slack]`` (independent of fairclust's code)."""
    r = np.bincount(codes) / len(codes)
    floors = []
    for c in np.unique(labels):
        n = int((labels == c).sum())
        low, high = r * (1 - delta) * n - slack, r * n / (1 - delta) + slack
        floors.append(max(low.min(), 0.0) / high.max())
    return min(floors)


def within_bounds(labels: np.ndarray, codes: np.ndarray, delta: float, slack: float) -> bool:
    """Every cluster holds each group's share within the bounds, each count off by at most ``slack``."""
    r = np.bincount(codes) / len(codes)
    for c in np.unique(labels):
        counts = np.bincount(codes[labels == c], minlength=len(r))
        n = counts.sum()
        if np.any(counts < r * (1 - delta) * n - slack - 1e-9) or np.any(counts > r * n / (1 - delta) + slack + 1e-9):
            return False
    return True


@pytest.mark.parametrize("delta", [0.2, 0.05])
def test_balance_is_bounded_and_labels_stay_close_to_q(delta):
    """The LP's guarantee, checked by counting: every cluster's group counts within the bounds up to the
    rounding of the points the LP split (at most 2 K M); the argmax here is far from fair."""
    q, codes = unfair_q()
    before = metrics.balance(q.argmax(1), sensitive_features=codes)
    labels, info = fair_labels(q, codes, delta)
    after = metrics.balance(labels, sensitive_features=codes)
    assert before < 0.1 < (1 - delta) ** 2  # measured over unfair_q seeds 0-7: the argmax 0.013-0.035
    assert info["lp_violation"] < 1e-6 and info["violation"] <= info["fractional_points"] <= 2 * 4 * 2
    assert within_bounds(labels, codes, delta, info["violation"]) and not within_bounds(q.argmax(1), codes, delta, 0)
    assert after >= balance_floor(labels, codes, delta, info["violation"]) > before
    assert info["changed"] == int((labels != q.argmax(1)).sum()) < len(q) // 2


def _fair(labels: np.ndarray, codes: np.ndarray, delta: float, k: int) -> bool:
    """Every non-empty cluster holds each group's share r_l of the data within [r_l (1 - delta), r_l / (1 - delta)]."""
    r = np.bincount(codes) / len(codes)
    for c in range(k):
        members = codes[labels == c]
        if len(members):
            share = np.bincount(members, minlength=len(r)) / len(members)
            if np.any(share < r * (1 - delta) - 1e-12) or np.any(share > r / (1 - delta) + 1e-12):
                return False
    return True


def test_closest_fair_labels_against_brute_force():
    """8 points, 2 clusters, 2 groups, every one of the 2^8 labellings checked. The labels' total
    -log q is the smallest over the fair labellings, up to the rounding of the points the LP
    splits (at most each one's cost range); with no split point, exactly the smallest."""
    codes = np.repeat([0, 1], 4)
    exact = 0
    for delta, seed in itertools.product((0.0, 0.2, 0.5), range(10)):
        rng = np.random.default_rng(seed)
        logits = rng.normal(size=(8, 2))
        logits[:4, 0] += 1.5  # group 0 leans to cluster 0, group 1 to cluster 1: the argmax is unfair
        logits[4:, 1] += 1.5
        q = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        cost = -np.log(q)
        best = min(cost[np.arange(8), lab].sum() for lab in itertools.product(range(2), repeat=8)
                   if _fair(np.array(lab), codes, delta, 2))
        labels, info = fair_labels(q, codes, delta)
        got = cost[np.arange(8), labels].sum()
        slack = np.sort(np.abs(cost[:, 0] - cost[:, 1]))[::-1][:info["fractional_points"]].sum()
        assert got <= best + slack + 1e-9, (delta, seed)
        if info["fractional_points"] == 0:
            assert _fair(labels, codes, delta, 2), (delta, seed)
            assert got == pytest.approx(best, abs=1e-9), (delta, seed)
            exact += info["changed"] > 0
    assert exact >= 10  # the exact comparison ran, on labellings that differ from the argmax


def test_already_fair_argmax_is_kept():
    rng = np.random.default_rng(2)
    q = rng.dirichlet(np.ones(3), size=600)
    codes = np.tile([0, 1], 300)  # groups interleaved: the argmax is already near fair
    labels, info = fair_labels(q, codes, 0.5)
    np.testing.assert_array_equal(labels, q.argmax(1))
    assert info["changed"] == 0


def test_raw_group_values_are_encoded_like_the_estimator_does():
    """The README's call: ``fair_labels(model.predict_proba(X), groups, delta)`` with the groups as
    given to ``fit`` (strings, gapped ints), the same labels as with codes 0..M-1 in sorted order."""
    q, codes = unfair_q(n_per=100, k=3, seed=4)
    want, info = fair_labels(q, codes, 0.1)
    assert info["changed"] > 0  # the argmax is unfair here: the groups matter
    for raw in (np.array(["original", "reversed"])[codes], codes * 5 + 7, codes.astype(float)):
        got, got_info = fair_labels(q, raw, 0.1)
        np.testing.assert_array_equal(got, want)
        assert got_info == info
    flipped, _ = fair_labels(q, 1 - codes, 0.1)  # group names are only names: the same partition
    np.testing.assert_array_equal(flipped, want)
    for bad, message in (([0, 1], "pass one group per sample"), (np.zeros(len(q)), "a single group"),
                         (np.r_[codes[:-1], np.nan], "NaN")):
        with pytest.raises(FairclustError, match=message):
            fair_labels(q, bad, 0.1)
    with pytest.raises(FairclustError, match="delta must be in"):
        fair_labels(q, codes, 1.0)
    with pytest.raises(FairclustError, match="N x K soft assignment"):
        fair_labels(q[:, 0], codes, 0.1)


def blob_data():
    """Two groups, three classes; group 1 shifted so that the groups separate."""
    rng = np.random.default_rng(0)
    X, y, g = [], [], []
    for grp in (0, 1):
        for c in range(3):
            X.append(rng.normal(size=(40, 6)) + 5.0 * np.eye(6)[c] + 3.0 * grp * np.eye(6)[5])
            y += [c] * 40
            g += [grp] * 40
    return np.vstack(X).astype(np.float32), np.array(y), np.array(g)


TINY = dict(n_iters=30, pretrain_epochs=2, batch_size=32, random_state=0,
            device="cpu")


def test_estimator_option_saves_and_loads(tmp_path):
    X, y, g = blob_data()
    plain = DeepFairClustering(3, cache_dir=str(tmp_path), fair_labels=False, **TINY).fit(X, sensitive_features=g)
    fair = DeepFairClustering(3, cache_dir=str(tmp_path), fair_labels=0.05, **TINY).fit(X, sensitive_features=g)
    assert plain.fair_labels_info_ is None and fair.fair_labels_info_["delta"] == 0.05
    np.testing.assert_allclose(fair.predict_proba(X), plain.predict_proba(X))  # same model
    np.testing.assert_array_equal(plain.labels_, fair.predict(X))  # predict: argmax, no groups
    # labels_ are the fair labels of the model's own q, computed by the public function, within the bounds
    expected, info = fair_labels(fair.predict_proba(X), g, 0.05)
    np.testing.assert_array_equal(fair.labels_, expected)
    assert info == fair.fair_labels_info_ and info["changed"] == int((fair.labels_ != plain.labels_).sum())
    assert within_bounds(fair.labels_, g, 0.05, info["violation"])
    fair.save(tmp_path / "m.pt")
    again = DeepFairClustering.load(tmp_path / "m.pt")
    np.testing.assert_array_equal(again.labels_, fair.labels_)
    assert again.fair_labels_info_ == fair.fair_labels_info_ and again.fair_labels == 0.05


@pytest.mark.parametrize("bad", [1.0, -0.1, "x"])
def test_bad_delta_is_one_line_error(bad):
    X, y, g = blob_data()
    with pytest.raises(FairclustError, match=r"fair_labels must be"):
        DeepFairClustering(3, fair_labels=bad, cache_dir=False, **TINY).fit(X, sensitive_features=g)


def test_cli_flag_reaches_metrics_json(tmp_path, capsys):
    X, y, g = blob_data()
    np.savez(tmp_path / "d.npz", X=X, sensitive=g, y=y)
    out = tmp_path / "run"
    rc = main(["run", "--dataset", str(tmp_path / "d.npz"), "--fair-labels", "0.1", "--iters", "30",
               "--pretrain-epochs", "2", "--batch-size", "32",
               "--cache-dir", str(tmp_path / "c"), "--out", str(out), "--quiet", "--device", "cpu"])
    assert rc == 0
    rec = json.loads((out / "metrics.json").read_text())
    assert rec["fair_labels"]["delta"] == 0.1
    assert within_bounds(np.load(out / "labels.npy"), g, 0.1, rec["fair_labels"]["violation"])
    assert rec["balance"] >= balance_floor(np.load(out / "labels.npy"), g, 0.1, rec["fair_labels"]["violation"])
    assert main(["run", "--dataset", str(tmp_path / "d.npz"), "--fair-labels", "1.5"]) == 2
    assert "argument --fair-labels: DELTA must be in [0, 1), got 1.5" in capsys.readouterr().err


def test_fair_prior_shift_spreads_every_group_alike_and_keeps_sure_samples():
    """Per group, the re-weighted assignments' mean is the whole data's (checked by summing); a sample the
    teacher is sure of keeps its cluster, and an already fair assignment is left as it is."""
    from fairclust.fair_lp import fair_prior_shift

    q, codes = unfair_q(n_per=400, k=4, seed=1)
    shifted = fair_prior_shift(q, codes)
    pi = q.mean(0)
    for g in (0, 1):
        np.testing.assert_allclose(shifted[codes == g].mean(0), pi, atol=1e-5)
    np.testing.assert_allclose(shifted.sum(1), 1.0, atol=1e-5)
    sure, unsure = q.max(1) > 0.85, q.max(1) < 0.5  # 72 and 382 of the 800 rows here
    moved = shifted.argmax(1) != q.argmax(1)
    assert sure.sum() > 50 and not moved[sure].any() and moved[unsure].mean() > 0.5  # 0.85 measured
    assert metrics.balance(shifted.argmax(1), sensitive_features=codes) > 0.5 > metrics.balance(q.argmax(1),
                                                                                                sensitive_features=codes)
    fair_q = np.tile(q[:400], (2, 1))  # both groups hold the very same rows: already fair
    np.testing.assert_allclose(fair_prior_shift(fair_q, codes), fair_q, atol=1e-5)


def test_fairness_curve_runs_from_the_fairest_labels_to_the_argmax():
    from fairclust.fair_lp import fairness_curve

    q, codes = unfair_q()
    curve = fairness_curve(q, codes, (0.0, 0.1, 0.5))
    assert [p["delta"] for p in curve] == [0.0, 0.1, 0.5, None]
    np.testing.assert_array_equal(curve[-1]["labels"], q.argmax(1))
    assert curve[-1]["changed"] == 0 and curve[0]["changed"] >= curve[1]["changed"] >= curve[2]["changed"]
    balances = [metrics.balance(p["labels"], sensitive_features=codes) for p in curve]
    assert balances[0] >= balances[1] >= balances[2] > balances[3]
    for p in curve[:-1]:
        np.testing.assert_array_equal(p["labels"], fair_labels(q, codes, p["delta"])[0])


def test_run_scores_the_fairness_curve_and_draws_it(tmp_path):
    X, y, g = blob_data()
    np.savez(tmp_path / "d.npz", X=X, sensitive=g, y=y)
    out = tmp_path / "run"
    assert main(["run", "--dataset", str(tmp_path / "d.npz"), "--iters", "30", "--pretrain-epochs", "2",
                 "--batch-size", "32", "--cache-dir", str(tmp_path / "c"), "--out", str(out), "--quiet",
                 "--device", "cpu"]) == 0
    rec = json.loads((out / "metrics.json").read_text())
    curve = rec["fairness_curve"]
    assert [p["delta"] for p in curve][-1] is None and 0.05 in [p["delta"] for p in curve]
    chosen = next(p for p in curve if p["delta"] == 0.05)  # the run's own labels are on the curve
    assert chosen["accuracy"] == pytest.approx(rec["accuracy"]) and chosen["balance"] == pytest.approx(rec["balance"])
    labels = np.load(out / "labels.npy")
    assert chosen["changed"] == rec["fair_labels"]["changed"] and len(labels) == len(y)
    assert (out / "tradeoff.png").is_file() and rec["stage_seconds"]["fairness_curve"] > 0


def test_a_large_runs_curve_is_solved_on_a_sample_but_keeps_its_own_labels(monkeypatch):
    """Above ``CURVE_MAX_SAMPLES`` (here lowered to 100 of 240) each point's LP runs on a sample and
    its prices label all samples; the point of the model's own delta is its labels exactly."""
    import fairclust.methods.dfc as dfc_module

    X, y, g = blob_data()
    model = DeepFairClustering(3, **TINY).fit(X, sensitive_features=g)
    monkeypatch.setattr(dfc_module, "CURVE_MAX_SAMPLES", 100)
    curve = model.fairness_curve(X, g)
    own = next(p for p in curve if p["delta"] == 0.05)
    np.testing.assert_array_equal(own["labels"], model.labels_)
    for p in curve[:-1]:
        assert within_bounds(p["labels"], g, p["delta"], slack=1.0)  # priced labels: within one point
    np.testing.assert_array_equal(curve[-1]["labels"], model.predict(X))
