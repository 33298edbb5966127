"""The paper's in-depth experiments (Figures 4-6, Table 4) and ``fairclust report``.

Every command runs once, end to end through the CLI, on 60 real digits per group
(scikit-learn's digits and their inverted copies) with tiny pretraining, sharing one
pretraining cache; the tests then check what the files say. The t-SNE run uses the
fair-labels extension, so its model's ``labels_`` differ from the argmax of its ``q``;
the matching run reuses that model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fairclust import figures
from fairclust.cli import main
from fairclust.experiments import label_matching as matching
from fairclust.experiments import params, tsne
from fairclust.experiments.common import read_csv

# 20 VAE epochs (20 updates of these 60 images, seconds): with 1, BatchNorm's running statistics are still near
# their initial values and DFC's first updates move them so far that the eval-mode assignment collapses into one
# cluster within 2 iterations (measured at lr 1e-4 and 1e-5 alike); with 20 none of seeds 0-2 collapses and the fair
# labels move 57-59 of the 120 samples
TINY = ["--dataset", "digits-reverse", "--limit", "60", "--seed", "0", "--iters", "6", "--batch-size", "32",
        "--pretrain-epochs", "20", "--threads", "1", "--quiet"]
DEC_TEACHERS = ["--teacher-epochs", "1", "--dec-iters", "5"]  # the faithful recipe's teachers, kept tiny


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiments")
    common = TINY + ["--cache-dir", str(root / "cache")]
    commands = {
        # fair labels: labels_ != argmax q; a small lr keeps 6 iterations from merging the clusters
        "tsne": ["figure", "tsne", "--points", "40", "--recipe", "faithful", "--fair-labels", "0.05", "--lr", "1e-4",
                 *DEC_TEACHERS],
        "matching": ["figure", "matching", "--model", str(root / "runs" / "tsne" / "model.pt")],  # reuse
        "params": ["figure", "params", "--alpha-f-values", "0,1", "--alpha-s-values", "0,1", "--seeds", "1"],
        "probe": ["table", "probe", "--probe-epochs", "8"],
    }
    out = {}
    for name, cmd in commands.items():
        out[name] = root / "runs" / name
        assert main(cmd + common + ["--out", str(out[name])]) == 0, name
    out["root"] = root / "runs"
    return out


def _png_ok(path):
    assert path.is_file()
    w, h = Image.open(path).size
    assert w >= 300 and h >= 300, (path, w, h)


def _metrics(d):
    return json.loads((d / "metrics.json").read_text())


def hand_information(c: np.ndarray, g: np.ndarray, y: np.ndarray) -> dict:
    """I(C;G), H(C), sum_g Pr(g) H(C | G=g) and I(Y;C) in nats, from joint entropies of counts."""
    def h(*cols):
        _, counts = np.unique(np.stack(cols, 1), axis=0, return_counts=True)
        p = counts / counts.sum()
        return float(-(p * np.log(p)).sum())

    h_c_given_g = sum((g == v).mean() * h(c[g == v]) for v in np.unique(g))
    return {"I_C_G": h(c) + h(g) - h(c, g), "H_C": h(c), "sum_g_Pr_g_H_C_g": h_c_given_g,
            "I_Y_C": h(y) + h(c) - h(y, c)}


@pytest.fixture(scope="module")
def digits60():
    from fairclust.data import load_dataset

    return load_dataset("digits-reverse", limit=60, seed=0)


def test_tsne_snapshots_csv_and_panels(runs, digits60, tmp_path):
    d = runs["tsne"]
    summary = read_csv(d / "tsne_metrics.csv")
    assert [r["iteration"] for r in summary] == [0, 2, 4, 6]  # start, two middle points, end
    # the last snapshot is the fitted model: its labels_ (fair labels here, not the argmax of q),
    # the same metrics as the run's metrics.json
    final = _metrics(d)
    assert final["fair_labels"]["changed"] > 0
    assert summary[-1]["accuracy"] == pytest.approx(final["accuracy"])
    assert summary[-1]["balance"] == pytest.approx(final["balance"])
    assert summary[-1]["I_C_G"] == pytest.approx(final["information"]["I_C_G"])
    # Section 4.3 columns: the textbook formulas on the written labels give the same numbers
    labels = np.load(d / "labels.npy")
    hand = hand_information(labels, digits60.sensitive, digits60.y)
    for key, value in hand.items():
        assert summary[-1][key] == pytest.approx(value, abs=1e-9), key
    rows = read_csv(d / "tsne.csv")
    for it in (0, 2, 4, 6):
        pts = [r for r in rows if r["iteration"] == it]
        assert sum(r["kind"] == "centroid" for r in pts) == 10
        samples = [r for r in pts if r["kind"] == "sample"]
        assert len(samples) == 40 and {r["group"] for r in samples} == {"original", "reversed"}
        _png_ok(d / f"tsne_iter{it:05d}.png")
    final_points = [r for r in rows if r["iteration"] == 6 and r["kind"] == "sample"]
    assert [r["cluster"] for r in final_points] == [labels[r["index"]] for r in final_points]
    _png_ok(d / "tsne.png")
    # the panels plot exactly the CSV's coordinates
    res = tsne.plot(d / "tsne.csv", d / "tsne_metrics.csv", tmp_path, ["original", "reversed"],
                    dataset="digits-reverse", keep_figures=True)
    ax = res["figures"][0].axes[0]
    first = [r for r in rows if r["iteration"] == 0]
    for coll, sel in zip(ax.collections, [lambda r: r["group_code"] == 0, lambda r: r["group_code"] == 1,
                                          lambda r: r["kind"] == "centroid"]):
        want = np.array([[r["x"], r["y"]] for r in first if sel(r)])
        np.testing.assert_array_equal(np.asarray(coll.get_offsets()), want)


def test_tsne_keeps_separated_blobs_apart():
    """Two far-apart blobs in 8-D stay apart in 2-D: every point's nearest neighbour there is
    from its own blob; a handful of points works too (perplexity below the sample count)."""
    rng = np.random.default_rng(0)
    Z = np.concatenate([rng.normal(0, 1, (30, 8)), rng.normal(12, 1, (30, 8))])
    blob = np.repeat([0, 1], 30)
    xy = tsne.tsne_2d(Z, seed=3)
    d2 = ((xy[:, None] - xy[None]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    assert (blob[d2.argmin(1)] == blob).all()
    small = tsne.tsne_2d(Z[:5], seed=3)
    assert small.shape == (5, 2) and np.isfinite(small).all()


def test_matching_best_at_least_worst_and_bars_are_the_csv(runs, digits60, tmp_path):
    d = runs["matching"]
    rows = {r["method"]: r for r in read_csv(d / "matching.csv")}
    for part in ("k-means", "DEC teachers"):  # the reused model is faithful: the paper's teachers, named so
        best, worst = rows[f"best matching ({part})"], rows[f"worst matching ({part})"]
        assert best["accuracy"] >= worst["accuracy"]
    # --model reused the t-SNE run's model (fitted with fair labels): its labels_, its numbers
    assert rows["DFC"]["accuracy"] == pytest.approx(_metrics(d)["accuracy"]) == _metrics(runs["tsne"])["accuracy"]
    hand = hand_information(np.load(runs["tsne"] / "labels.npy"), digits60.sensitive, digits60.y)
    assert rows["DFC"]["I_C_G"] == pytest.approx(hand["I_C_G"], abs=1e-9)
    assert rows["DFC"]["I_Y_C"] == pytest.approx(hand["I_Y_C"], abs=1e-9)
    assert _metrics(d)["seed"] == 0  # the loaded model's seed
    res = matching.plot(d / "matching.csv", tmp_path, dataset="digits-reverse", keep_figures=True)
    heights = [p.get_height() for p in res["figures"][0].axes[0].patches][:len(rows)]
    assert heights == [r["accuracy"] for r in read_csv(d / "matching.csv")]
    _png_ok(d / "matching.png")


def test_matching_on_known_partitions():
    # two groups, 3 classes x 10 samples each; every group clustered perfectly, ids permuted
    y = np.tile(np.repeat([0, 1, 2], 10), 2)
    codes = np.repeat([0, 1], 30)
    part = np.concatenate([np.array([2, 0, 1])[y[:30]], np.array([1, 2, 0])[y[30:]]])
    best, worst = matching.best_and_worst(part, codes, y)
    from fairclust import metrics

    assert metrics.accuracy(y, best) == 1.0
    # one group matched against the truth everywhere: each label holds two classes half-half
    assert metrics.accuracy(y, worst) == pytest.approx(0.5)
    # more clusters than classes: unmatched clusters keep labels of their own
    lab = matching.map_to_classes(np.array([0, 1, 2, 3]), np.array([0, 1, 1, 0]), 2, maximize=True)
    assert sorted(lab[[0, 1]]) == [0, 1] and len(set(lab)) == 4


def test_params_sweeps_summary_is_the_runs_mean(runs, tmp_path):
    d = runs["params"]
    runs_rows, summary = read_csv(d / "params_runs.csv"), read_csv(d / "params.csv")
    assert [(r["sweep"], r["alpha_f"], r["alpha_s"]) for r in summary] == [
        ("alpha_f", 0.0, 0.0), ("alpha_f", 1.0, 0.0), ("alpha_s", 1.0, 0.0), ("alpha_s", 1.0, 1.0)]
    for s in summary:
        group = [r for r in runs_rows if r["sweep"] == s["sweep"] and r["value"] == s["value"]]
        assert s["balance_mean"] == pytest.approx(np.mean([r["balance"] for r in group]))
        assert s["nmi_mean"] == pytest.approx(np.mean([r["nmi"] for r in group]))
        assert {"I_Y_C", "sum_g_Pr_g_I_Y_g_C_g", "H_C", "sum_g_Pr_g_H_C_g", "I_C_G"} <= set(group[0])
    # the shared point (alpha_f = 1, alpha_s = 0) was trained once: identical numbers in both sweeps
    a, b = summary[1], summary[2]
    assert a["nmi_mean"] == b["nmi_mean"] and a["balance_mean"] == b["balance_mean"]
    res = params.plot(d / "params.csv", d / "params_runs.csv", tmp_path, dataset="digits-reverse",
                      keep_figures=True)
    ax_f, ax_s = res["figures"][0].axes[:2]
    np.testing.assert_array_equal(ax_f.lines[0].get_ydata(), [r["balance_mean"] for r in summary[:2]])
    np.testing.assert_array_equal(ax_s.lines[0].get_ydata(), [r["nmi_mean"] for r in summary[2:]])
    _png_ok(d / "params.png")
    # re-drawing from the same CSV gives the same picture, byte for byte
    assert (tmp_path / "params.png").read_bytes() == (d / "params.png").read_bytes()


def test_probe_unfair_encoder_sees_inverted_images(runs):
    d = runs["probe"]
    rows = read_csv(d / "probe.csv")
    unfair = rows[0]
    assert unfair["representation"].startswith("unfair")
    assert unfair["test_accuracy"] >= 0.95  # original vs inverted: trivially visible
    assert {r["representation"] for r in rows} >= {"fair: DFC encoder, frozen (mu)"}
    assert all(0.0 <= r["test_accuracy"] <= 1.0 and r["chance"] == pytest.approx(0.5) for r in rows)
    md = (d / "probe.md").read_text()
    assert "| unfair: encoder trained to predict the group |" in md


@pytest.mark.parametrize("kind", ["logreg", "mlp"])
def test_probe_recovers_a_visible_group_and_not_an_invisible_one(kind):
    """Held-out accuracy well above chance when the features carry the group, near chance when not."""
    from fairclust.experiments import probe

    rng = np.random.default_rng(0)
    codes = np.repeat([0, 1], 200)
    train, test = probe.split(codes, 0.3, seed=0)
    assert np.bincount(codes[test]).tolist() == [60, 60]  # stratified
    visible = rng.normal(size=(400, 5)) + 4.0 * codes[:, None] * np.eye(5)[0]  # Bayes accuracy 0.977
    invisible = rng.normal(size=(400, 5))
    acc = {name: float(np.mean(probe.probe_features(Z, codes, train, kind, seed=0)[test] == codes[test]))
           for name, Z in (("visible", visible), ("invisible", invisible))}
    # measured over data / split / probe seeds 0-3 (the test's 0): visible 0.958-1.0, invisible 0.475-0.575
    assert acc["visible"] > 0.9, acc
    assert abs(acc["invisible"] - 0.5) < 0.12, acc


def test_report_is_one_offline_page(runs):
    root = runs["root"]
    assert main(["report", str(root)]) == 0
    page = (root / "report.html").read_text()
    pngs = sorted(root.rglob("*.png"))
    own = [p for p in pngs if p.name in figures.FIGURE_NAMES]  # the DFC runs' own figures
    assert {p.parent.name for p in own} == {"tsne", "probe"}  # the runs that trained a DFC into their --out
    assert sorted(p.name for p in own if p.parent.name == "probe") == sorted(figures.FIGURE_NAMES)
    assert "teacher_matching.png" not in {p.name for p in own if p.parent.name == "tsne"}  # faithful: no matching
    assert page.count('src="data:image/png;base64,') == len(pngs) == 7 + len(own)  # 5 t-SNE, matching, params
    assert "http://" not in page and "https://" not in page  # nothing fetched from outside
    assert "matching/matching.csv" in page and "probe/probe.md" in page
    assert page.count("<tr>") > 10 and "I_C_G" in page


def test_bad_input_is_one_line(runs, tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no metrics.json" in capsys.readouterr().err
    bad = ["figure", "tsne", *TINY, "--cache-dir", str(tmp_path / "c"), "--snapshots", "0,999",
           "--out", str(tmp_path / "t")]
    assert main(bad) == 2
    assert "snapshots must lie in 0..6" in capsys.readouterr().err
    assert main(["figure", "params", *TINY, "--alpha-f-values", "x", "--out", str(tmp_path / "p")]) == 2
    assert "comma-separated numbers" in capsys.readouterr().err
    other = [a if a != "60" else "50" for a in TINY]  # a model fitted on other data is refused
    model = str(runs["tsne"] / "model.pt")
    assert main(["table", "probe", *other, "--model", model, "--out", str(tmp_path / "q")]) == 2
    assert "was not fitted on this data" in capsys.readouterr().err


def test_tsne_of_a_default_recipe_fit_follows_its_schedule(runs, tmp_path):
    """The default recipe sizes T from the data (epochs) and may stop early: the snapshots are
    spread over the fit's own schedule, and the last one is the iteration the fit ended at."""
    argv = [a for a in TINY if a not in ("--iters", "6")] + ["--epochs", "4", "--points", "20"]
    out = tmp_path / "tsne-default"
    assert main(["figure", "tsne", *argv, "--cache-dir", str(runs["root"].parent / "cache"), "--out", str(out)]) == 0
    schedule = json.loads((out / "config.json").read_text())["schedule"]
    per_epoch = int(np.ceil(60 / 32))
    assert schedule["n_iters"] == 4 * per_epoch and schedule["eval_every"] == per_epoch
    end = _metrics(out)["iterations_run"]
    summary = read_csv(out / "tsne_metrics.csv")
    planned = tsne.snapshot_points(schedule["n_iters"])
    assert [r["iteration"] for r in summary] == [i for i in planned if i < end] + [end]
    assert {r["n_iters"] for r in summary} == {schedule["n_iters"]}
    assert summary[-1]["accuracy"] == pytest.approx(_metrics(out)["accuracy"])


def test_a_loaded_model_keeps_the_seed_it_drew(digits60, tmp_path):
    """``--model`` reuses a DFC fitted with a drawn seed (``random_state=None``): the experiment's
    metrics.json records that seed, and its baselines pretrain with it (``random_state`` is None)."""
    from fairclust import DeepFairClustering
    from fairclust.experiments.common import dfc_model

    ds = digits60
    model = DeepFairClustering(10, random_state=None, n_iters=2, batch_size=16, pretrain_epochs=1, cache_dir=False,
                               recipe="faithful", teacher_epochs=1, dec_iters=2)
    model.fit(ds.X, sensitive_features=ds.sensitive)
    model.save(tmp_path / "model.pt")
    loaded, opts = dfc_model(ds, {"cache_dir": False}, seed=0, n_clusters=10, out=tmp_path,
                             model_path=str(tmp_path / "model.pt"))
    assert json.loads((tmp_path / "metrics.json").read_text())["seed"] == model.seed_ == loaded.seed_
    assert opts["recipe"] == "faithful" and opts["teacher_epochs"] == 1 and opts["pretrain_epochs"] == 1
