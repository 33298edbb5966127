"""The alignment extension: matching the teachers' clusters across groups by structure."""

import numpy as np

from fairclust import metrics
from fairclust.align import align_teachers, centroid_distances, match_structures


def test_match_structures_recovers_a_hidden_permutation_under_noise():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(10, 5))
    A = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    perm = rng.permutation(10)
    B = np.empty_like(A)
    B[np.ix_(perm, perm)] = A  # B's item perm[i] is A's item i
    B = B + rng.normal(scale=0.01, size=B.shape)
    B = (B + B.T) / 2
    found = match_structures(A, B, seed=1)
    np.testing.assert_array_equal(found, perm)


def test_align_teachers_matches_inverted_group_to_original():
    # group 1 is group 0 inverted (an isometry); its teacher numbers the clusters differently
    rng = np.random.default_rng(1)
    k, per = 6, 40
    protos = rng.random((k, 64))
    y0 = np.repeat(np.arange(k), per)
    X0 = np.clip(protos[y0] + rng.normal(scale=0.05, size=(k * per, 64)), 0, 1)
    X = np.concatenate([X0, 1.0 - X0]).astype(np.float32)
    g = np.repeat([0, 1], k * per)
    y = np.concatenate([y0, y0])
    relabel = rng.permutation(k)
    teacher = np.concatenate([y0, relabel[y0]])
    P = np.eye(k, dtype=np.float32)[teacher] * 0.9 + 0.1 / k
    # unaligned: the same cluster id means different classes in the two groups
    assert metrics.accuracy(y, P.argmax(1)) < 0.7
    aligned = align_teachers(X, P, g, seed=0)
    assert metrics.accuracy(y, aligned.argmax(1)) == 1.0
    assert metrics.balance(aligned.argmax(1), sensitive_features=g) == 1.0
    # the distance structure the matching relies on is identical in both groups
    D0 = centroid_distances(X[g == 0], aligned[g == 0])
    D1 = centroid_distances(X[g == 1], aligned[g == 1])
    np.testing.assert_allclose(D0, D1, atol=1e-4)
