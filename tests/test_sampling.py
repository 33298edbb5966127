"""The one per-group sampler (``--limit``, t-SNE's subsample, the initial centres' sample) and
the one KL divergence (DEC's loss and DFC's L_c), against independent references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import rel_entr

from fairclust.data import limit_indices
from fairclust.losses import dec_divergence, kl_sum
from fairclust.sampling import sample_per_group


def test_sample_per_group_draws_per_group_without_replacement():
    groups = np.array(["b"] * 30 + ["a"] * 7 + ["c"] * 50)[np.random.default_rng(1).permutation(87)]
    idx = sample_per_group(groups, 10, np.random.default_rng(0))
    assert (np.diff(idx) > 0).all()  # sorted, no repeats
    assert {g: int((groups[idx] == g).sum()) for g in "abc"} == {"a": 7, "b": 10, "c": 10}
    np.testing.assert_array_equal(idx, sample_per_group(groups, 10, np.random.default_rng(0)))
    assert not np.array_equal(idx, sample_per_group(groups, 10, np.random.default_rng(1)))


def test_small_groups_kept_without_a_draw_only_when_asked():
    groups = np.repeat([0, 1], [5, 40])
    big = np.flatnonzero(groups == 1)
    # reference: group 0 whole, then the first draw of a fresh generator for group 1
    want = np.sort(np.r_[np.arange(5), np.random.default_rng(3).choice(big, 8, replace=False)])
    np.testing.assert_array_equal(sample_per_group(groups, 8, np.random.default_rng(3), draw_small=False), want)
    np.testing.assert_array_equal(limit_indices(groups, 8, 3), want)  # --limit draws that way
    # drawing the small group too (t-SNE, initial centres) advances the generator first
    rng = np.random.default_rng(3)
    rng.choice(np.arange(5), 5, replace=False)
    drawn = np.sort(np.r_[np.arange(5), rng.choice(big, 8, replace=False)])
    np.testing.assert_array_equal(sample_per_group(groups, 8, np.random.default_rng(3)), drawn)


def test_one_kl_against_scipy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=6)
    p[0, 1] = 0.0  # an empty target entry adds nothing
    p[0] /= p[0].sum()
    q = rng.dirichlet(np.ones(4), size=6)
    want = rel_entr(p, q).sum()
    pt, qt = torch.tensor(p), torch.tensor(q)
    assert float(kl_sum(pt, qt)) == pytest.approx(want, rel=1e-12)
    assert float(dec_divergence(pt, qt)) == pytest.approx(want / 6, rel=1e-12)
    assert float(kl_sum(qt, qt)) == pytest.approx(0.0, abs=1e-12)
