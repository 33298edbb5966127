"""The figures of one run (``fairclust.figures``): what they draw is the data's.

The drawing functions run on generated data and return the numbers they drew; each is
compared with an independent count. Then ``fairclust run`` writes the PNGs beside
``metrics.json`` (images: a gallery; feature vectors: none) and ``fairclust report``
embeds them with their captions.
"""

from __future__ import annotations

import html
import json
import warnings
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from fairclust import align
from fairclust import figures as rf
from fairclust.cli import main
from fairclust.figures import composition, curves, gallery, teacher_matching

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _png(path, min_w=300, min_h=150):
    assert path.is_file()
    w, h = Image.open(path).size
    assert min_w <= w <= 3000 and min_h <= h <= 3000, (path, w, h)
    return w, h


def labelled(n=240, k=4, m=3, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    codes = rng.choice(m, n, p=np.arange(1, m + 1) / np.arange(1, m + 1).sum())  # unequal group sizes
    return labels, codes


@pytest.mark.parametrize("channels", [1, 3])
def test_gallery_one_row_per_cluster_of_that_cluster_and_group(tmp_path, channels):
    k, m = 5, 3
    labels, codes = labelled(k=k, m=m)
    labels[labels == 4] = 3  # cluster 4 is empty: its row is still drawn, blank
    X = np.random.default_rng(1).random((len(labels), channels, 12, 10)).astype(np.float32)
    res = gallery.gallery(tmp_path / "g.png", X, labels, codes, ["a", "b", "c"], n_clusters=k, per_group=4,
                     keep_figure=True)
    assert res["rows"] == k == len(res["axes"])
    _png(tmp_path / "g.png")
    for c in range(k):
        for g in range(m):
            shown = res["indices"][c][g]
            members = sum(1 for lab, grp in zip(labels, codes) if lab == c and grp == g)
            assert res["counts"][c][g] == members
            assert len(shown) == min(4, members) and len(set(shown)) == len(shown)
            assert all(labels[i] == c and codes[i] == g for i in shown)
    assert res["indices"][4] == [[], [], []]
    # with a confidence per sample: the most confident members
    conf = np.random.default_rng(2).random(len(labels))
    res = gallery.gallery(tmp_path / "g2.png", X, labels, codes, n_clusters=k, per_group=2, confidence=conf)
    for c in range(k - 1):
        for g in range(m):
            members = [i for i in range(len(labels)) if labels[i] == c and codes[i] == g]
            assert res["indices"][c][g] == sorted(members, key=lambda i: -conf[i])[:2]
    # many groups: fewer samples per group, one row per cluster all the same
    labels30, codes30 = np.arange(300) % 3, np.arange(300) % 30
    res = gallery.gallery(tmp_path / "g30.png", X[:1].repeat(300, 0), labels30, codes30, n_clusters=3)
    assert res["rows"] == 3 and res["per_group"] == 1
    _png(tmp_path / "g30.png")
    with pytest.raises(ValueError, match="needs images"):
        gallery.gallery(tmp_path / "f.png", X.reshape(len(X), -1), labels, codes)


@pytest.mark.parametrize("m", [3, 30])
def test_composition_bars_are_the_true_shares(tmp_path, m):
    k = 6
    labels, codes = labelled(n=900, k=k, m=m, seed=m)
    labels[labels == 2] = 1  # an empty cluster
    res = composition.composition(tmp_path / "c.png", labels, codes, n_clusters=k, keep_figure=True)
    pairs, sizes = Counter(zip(labels.tolist(), codes.tolist())), Counter(labels.tolist())
    for c in range(k):
        assert res["sizes"][c] == sizes.get(c, 0)
        for g in range(m):
            want = pairs.get((c, g), 0) / sizes[c] if sizes.get(c) else 0.0
            assert res["shares"][c, g] == pytest.approx(want, abs=1e-12)
    groups = Counter(codes.tolist())
    assert res["overall"] == pytest.approx([groups[g] / len(codes) for g in range(m)])
    # the drawn bars: one container per group, the reference bar first, then the clusters
    ax = res["axes"][0]
    widths = np.array([[p.get_width() for p in cont] for cont in ax.containers])  # M x (K + 1)
    np.testing.assert_allclose(widths[:, 0], res["overall"])
    np.testing.assert_allclose(widths[:, 1:].T, res["shares"])
    _png(tmp_path / "c.png")


def test_curves_panels_and_skips(tmp_path):
    its = list(range(1, 201))
    rng = np.random.default_rng(0)
    history = {"iteration": its, **{t: list(100 / np.array(its) + rng.random(200)) for t in ("loss", "L_c", "L_s")},
               "L_f": list(-rng.random(200)),  # a negative term: no log scale
               "evals": [{"iteration": 100, "accuracy": 0.5, "nmi": 0.4, "balance": 0.3, "changed": None},
                         {"iteration": 200, "accuracy": 0.6, "nmi": 0.5, "balance": 0.2, "changed": 0.05}]}
    res = curves.curves(tmp_path / "cu.png", history, stop_tol=0.01, final={"accuracy": 0.61, "balance": 0.9},
                    keep_figure=True)
    assert res["panels"] == ["loss", "changed", "scores"]
    assert res["changed"] == [(200, 0.05)] and res["scores"]["balance"] == [(100, 0.3), (200, 0.2)]
    assert res["axes"][0].get_yscale() == "linear"
    _png(tmp_path / "cu.png")
    only_losses = {k: v for k, v in history.items() if k != "evals"}
    assert curves.curves(tmp_path / "l.png", only_losses)["panels"] == ["loss"]
    assert curves.curves(tmp_path / "none.png", {}) is None and curves.curves(tmp_path / "none.png", None) is None
    assert not (tmp_path / "none.png").exists()
    # the moving average keeps the length and a constant
    np.testing.assert_allclose(curves.smooth(np.full(50, 3.0), 7), 3.0)
    assert len(curves.smooth(np.arange(10.0), 4)) == 10


def prototypes_and_inverted(k=5, per=30, seed=0):
    """Group 0: k noisy 8x8 prototypes; group 1: their inverted copies (1 - x)."""
    rng = np.random.default_rng(seed)
    protos = rng.random((k, 1, 8, 8))
    y = np.repeat(np.arange(k), per)
    X0 = np.clip(protos[y] + rng.normal(0, 0.05, (len(y), 1, 8, 8)), 0, 1)
    X = np.concatenate([X0, 1 - X0]).astype(np.float32)
    return X, np.concatenate([y, y]), np.repeat([0, 1], len(y))


def test_teacher_matching_finds_a_swapped_pair(tmp_path):
    k = 5
    X, y, codes = prototypes_and_inverted(k)
    own = np.array([3, 0, 4, 1, 2])  # group 1's teacher numbers its clusters its own way
    teacher = np.where(codes == 0, y, own[y])
    P = np.eye(k)[teacher]
    P_aligned, records = align.align_teachers(X, P, codes, kind="fused", seed=0)
    matched = P_aligned.argmax(1)
    assert np.array_equal(matched, y)  # the matching recovers the classes in both groups
    res = teacher_matching.teacher_matching(tmp_path / "t.png", X, matched, codes, records, ["original", "reversed"],
                              keep_figure=True)
    (g,) = res["groups"]
    assert g["clear"] == k and g["min_margin"] > 0 and g["sign"] == -1.0
    # one-hot teachers: the mean rows are align's centroids, so the diagonal sums are its correlations
    rec = records[1]
    assert np.trace(g["features"]) == pytest.approx(rec["features"], abs=1e-9)
    assert np.trace(g["structure"]) == pytest.approx(rec["structure"], abs=1e-9)
    assert len(res["axes"]) == 2  # heatmap + cluster means (images)
    _png(tmp_path / "t.png")
    # a wrong pairing (group 1's clusters 0 and 1 swapped) shows: exactly those pairs are not clear
    wrong = matched.copy()
    wrong[(codes == 1) & (matched == 0)], wrong[(codes == 1) & (matched == 1)] = 1, 0
    res = teacher_matching.teacher_matching(tmp_path / "w.png", X, wrong, codes, records)
    margin = res["groups"][0]["margin"]
    assert (margin[:2] < 0).all() and (margin[2:] > 0).all()
    assert teacher_matching.teacher_matching(tmp_path / "n.png", X, matched, codes, None) is None


def test_write_all_skips_what_is_missing_and_survives_a_failure(tmp_path):
    labels, codes = labelled(n=120, k=3, m=2)
    feats = np.random.default_rng(0).random((120, 5))
    written = rf.write_all(tmp_path, X=feats, labels=labels, codes=codes, n_clusters=3)
    assert sorted(written) == ["composition.png"]  # feature vectors, no history, no matching
    (tmp_path / "gallery.png").write_bytes(b"stale")  # an earlier run's
    with pytest.warns(RuntimeWarning, match="curves.png not written"):
        written = rf.write_all(tmp_path, X=feats, labels=labels, codes=codes, history={"iteration": "bad"})
    assert sorted(written) == ["composition.png"] and not (tmp_path / "gallery.png").exists()


def test_cli_run_writes_the_figures_and_the_report_shows_them(tmp_path):
    out = tmp_path / "km"
    common = ["--limit", "60", "--seed", "0", "--threads", "1", "--quiet", "--pretrain-epochs", "1",
              "--cache-dir", str(tmp_path / "cache")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no figure may fail here
        assert main(["run", "--dataset", "digits-reverse", "--method", "kmeans", "--out", str(out), *common]) == 0
    rec = json.loads((out / "metrics.json").read_text())
    for name in ("gallery.png", "composition.png"):
        _png(out / name)
    assert not (out / "curves.png").exists() and not (out / "teacher_matching.png").exists()  # k-means: none
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2
    assert page.index("gallery.png") < page.index("composition.png")
    assert all(html.escape(rf.CAPTIONS[n]) in page for n in ("gallery.png", "composition.png"))
    assert rec["n_samples"] == 120
    # feature vectors: composition, no gallery; --no-figures: none
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "f.npz", X=rng.normal(size=(80, 6)).astype(np.float32), sensitive=np.arange(80) % 2,
             y=np.arange(80) % 3)
    feats = tmp_path / "feats"
    assert main(["run", "--dataset", str(tmp_path / "f.npz"), "--method", "kmeans", "--out", str(feats),
                 *common]) == 0
    assert sorted(p.name for p in feats.glob("*.png")) == ["composition.png"]
    bare = tmp_path / "bare"
    assert main(["run", "--dataset", str(tmp_path / "f.npz"), "--method", "kmeans", "--out", str(bare),
                 "--no-figures", *common]) == 0
    assert not list(bare.glob("*.png")) and (bare / "metrics.json").is_file()


def test_teacher_matching_with_many_groups_summarises_them_all(tmp_path):
    """Five groups (odd ones inverted): a bar per matched group, heatmaps of the three least clear."""
    k, per = 4, 15
    X0, y0, _ = prototypes_and_inverted(k, per)
    X0, y0 = X0[:k * per], y0[:k * per]
    X = np.concatenate([X0 if g % 2 == 0 else 1 - X0 for g in range(5)])
    y, codes = np.tile(y0, 5), np.repeat(np.arange(5), k * per)
    rng = np.random.default_rng(0)
    teacher = np.concatenate([rng.permutation(k)[y0] for _ in range(5)])  # every teacher numbers its own way
    P_aligned, records = align.align_teachers(X, np.eye(k)[teacher], codes, kind="fused", seed=0)
    res = teacher_matching.teacher_matching(tmp_path / "t5.png", X, P_aligned.argmax(1), codes, records, keep_figure=True)
    assert sorted(g["group"] for g in res["groups"]) == [g for g in range(5) if g != res["reference"]]
    assert all(g["clear"] == k for g in res["groups"])
    assert len(res["axes"]) == 1 + 2 * 3  # the summary bars, then three heatmaps with their cluster means
    assert [p.get_width() for p in res["axes"][0].patches] == [1.0] * 4
    _png(tmp_path / "t5.png")


def test_tradeoff_draws_each_groups_accuracy_beside_the_whole(tmp_path):
    """tradeoff.png: with labels, each group's accuracy along the curve (who pays for fairness), named; beyond
    MAX_GROUP_LINES groups only the whole's."""
    from fairclust.figures.tradeoff import MAX_GROUP_LINES, tradeoff

    curve = [{"delta": d, "balance": b, "balance_max": 0.5, "changed_share": c, "accuracy": acc,
              "accuracy_per_group": per}
             for d, b, c, acc, per in ((0.0, 0.5, 0.05, 0.90, [0.95, 0.80]), (0.05, 0.45, 0.03, 0.92, [0.95, 0.86]),
                                       (None, 0.15, 0.0, 0.94, [0.94, 0.94]))]
    drawn = tradeoff(tmp_path / "t.png", curve, chosen=0.05, group_names=["mnist", "usps"], keep_figure=True)
    _png(tmp_path / "t.png")
    assert drawn["per_group"] == [[0.95, 0.95, 0.94], [0.80, 0.86, 0.94]]
    ax = drawn["figure"].axes[0]
    assert {"group mnist", "group usps", "all samples"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    many = [{**p, "accuracy_per_group": [p["accuracy"]] * (MAX_GROUP_LINES + 1)} for p in curve]
    assert tradeoff(tmp_path / "m.png", many, chosen=0.05)["per_group"] is None
    unlabelled = [{k: v for k, v in p.items() if k not in ("accuracy", "accuracy_per_group")} for p in curve]
    assert tradeoff(tmp_path / "u.png", unlabelled)["per_group"] is None

