"""The alignment extension: matching the teachers' clusters across groups without labels."""

import numpy as np
import pytest

from fairclust import metrics
from fairclust.align import KINDS, align_teachers, centroid_distances, match
from fairclust.errors import FairclustError

K, PER, D = 8, 40, 64


def _scene(transforms, seed=0):
    """The same noisy samples of K prototypes seen through each group's ``transform``; each
    group's teacher numbers the clusters in its own order (group 0: the identity)."""
    rng = np.random.default_rng(seed)
    protos = rng.random((K, D))
    y0 = np.repeat(np.arange(K), PER)
    base = np.clip(protos[y0] + rng.normal(scale=0.05, size=(len(y0), D)), 0, 1)
    relabels = [np.arange(K)] + [rng.permutation(K) for _ in transforms[1:]]
    X = np.concatenate([t(base) for t in transforms]).astype(np.float32)
    P = np.concatenate([np.eye(K, dtype=np.float32)[r[y0]] * 0.9 + 0.1 / K for r in relabels])
    y = np.tile(y0, len(transforms))
    g = np.repeat(np.arange(len(transforms)), len(y0))
    return X, P, y, g


def _right_fraction(P, y, g):
    """Fraction of clusters whose majority class is the same in every group (labels only score)."""
    lab = P.argmax(1)
    maj = [np.array([np.bincount(y[(g == h) & (lab == c)], minlength=K).argmax() for c in range(K)])
           for h in np.unique(g)]
    return float(np.mean([np.all([m[c] == maj[0][c] for m in maj]) for c in range(K)]))


def identity(x):
    return x


def invert(x):
    return 1.0 - x


def restyle(x):  # another source: lower contrast, brighter, noisier
    return 0.6 * x + 0.3 + np.random.default_rng(5).normal(scale=0.03, size=x.shape)


@pytest.mark.parametrize("kind", KINDS)
def test_every_matching_recovers_an_inverted_group(kind):
    X, P, y, g = _scene([identity, invert])
    # unaligned: one id means different classes (measured 0.50-0.56 over scene seeds 0-4)
    assert metrics.accuracy(y, P.argmax(1)) < 0.7
    aligned, records = align_teachers(X, P, g, kind=kind, seed=0)
    assert metrics.accuracy(y, aligned.argmax(1)) == 1.0
    assert metrics.balance(aligned.argmax(1), sensitive_features=g) == 1.0
    rec = [r for r in records if not r["reference"]][0]
    assert rec["kind"] == kind and rec["structure"] > 0.99
    if kind != "structure":
        assert rec["sign"] == -1.0  # the contrast flip was detected
    # the distance structure is identical in both groups once aligned
    np.testing.assert_allclose(centroid_distances(X[g == 0], aligned[g == 0]),
                               centroid_distances(X[g == 1], aligned[g == 1]), atol=1e-3)


def test_features_match_another_source_and_keep_the_sign():
    X, P, y, g = _scene([identity, restyle], seed=2)
    aligned, records = align_teachers(X, P, g, kind="features", seed=0)
    assert _right_fraction(aligned, y, g) == 1.0
    assert records[1]["sign"] == 1.0


def test_structure_alone_matches_when_the_groups_share_no_coordinates():
    # group 1 is group 0 in rotated coordinates: distances kept, features meaningless across groups
    Q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(D, D)))
    X, P, y, g = _scene([identity, lambda x: x @ Q], seed=4)
    aligned, _ = align_teachers(X, P, g, kind="structure", seed=0)
    assert _right_fraction(aligned, y, g) == 1.0


def test_three_groups_each_matched_to_the_largest():
    X, P, y, g = _scene([identity, invert, restyle], seed=6)
    aligned, records = align_teachers(X, P, g, seed=0)
    assert metrics.accuracy(y, aligned.argmax(1)) == 1.0
    assert [r["reference"] for r in records].count(True) == 1
    assert sorted(records[1]["perm"]) == list(range(K))


def test_match_rejects_an_unknown_kind():
    X, P, _, g = _scene([identity, invert])
    with pytest.raises(FairclustError, match="unknown matching 'magic'"):
        match(X[g == 0], P[g == 0], X[g == 1], P[g == 1], kind="magic")
