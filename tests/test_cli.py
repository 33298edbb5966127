"""`fairclust run` end to end on a tiny custom .npz: files, table, defaults, data without labels."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from fairclust import DeepFairClustering, metrics
from fairclust.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REQUIRED_KEYS = {"dataset", "method", "n_samples", "n_clusters", "accuracy", "nmi", "balance", "balance_max",
                 "entropy", "mnce", "seconds"}
N_PER = 10  # samples per (class, group)


def tiny_arrays(seed: int = 0):
    """Three classes x two groups (string names) of 6-d feature vectors, shuffled."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(3, 6))
    X, y, g = [], [], []
    for k in range(3):
        for grp in ("female", "male"):
            X.append(centres[k] + rng.normal(size=(N_PER, 6)) + (0.5 if grp == "male" else 0.0))
            y += [k] * N_PER
            g += [grp] * N_PER
    order = rng.permutation(len(y))
    return np.concatenate(X)[order].astype(np.float32), np.array(y)[order], np.array(g)[order]


def run_args(path, out, cache, *extra):
    return ["run", "--dataset", str(path), "--out", str(out), "--cache-dir", str(cache), "--seed", "0", "--quiet",
            "--iters", "30", "--pretrain-epochs", "1",
            "--batch-size", "16", *extra]


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    X, y, g = tiny_arrays()
    d = tmp_path_factory.mktemp("cli-data")
    np.savez(d / "toy.npz", X=X, y=y, sensitive=g)
    np.savez(d / "nolabels.npz", X=X, sensitive=g)
    return d


@pytest.fixture(scope="module")
def labelled_run(npz, tmp_path_factory):
    """One DFC run on data with labels, no --n-clusters; returns (out dir, printed text)."""
    out = tmp_path_factory.mktemp("cli-out") / "run"
    cache = tmp_path_factory.mktemp("cli-cache")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(run_args(npz / "toy.npz", out, cache))
    assert code == 0
    return out, buf.getvalue()


def test_metrics_json_has_the_required_keys_and_true_values(labelled_run, npz):
    out, _ = labelled_run
    rec = json.loads((out / "metrics.json").read_text())
    assert REQUIRED_KEYS <= set(rec)
    assert rec["dataset"] == "toy" and rec["method"] == "dfc"
    assert rec["n_samples"] == 6 * N_PER
    assert rec["n_clusters"] == 3  # --n-clusters defaults to the number of classes
    assert isinstance(rec["entropy"], list) and len(rec["entropy"]) == 2
    assert rec["seconds"] > 0
    # the numbers are those of the written labels on the input data
    with np.load(npz / "toy.npz") as f:
        y, g = f["y"], f["sensitive"]
    labels = np.load(out / "labels.npy")
    assert rec["accuracy"] == pytest.approx(metrics.accuracy(y, labels))
    assert rec["nmi"] == pytest.approx(metrics.nmi(y, labels))
    assert rec["balance"] == pytest.approx(metrics.balance(labels, sensitive_features=g))
    assert rec["balance_max"] == pytest.approx(1.0)
    assert rec["entropy"] == pytest.approx(metrics.entropy(labels, sensitive_features=g))
    assert rec["mnce"] == pytest.approx(metrics.mnce(labels, sensitive_features=g))
    assert rec["accuracy_per_group"] == pytest.approx([metrics.accuracy(y[g == h], labels[g == h])
                                                       for h in np.unique(g)])
    assert all(len(p["accuracy_per_group"]) == 2 for p in rec["fairness_curve"])
    # each stage's seconds and peak resident memory (MiB); "run" is the largest peak
    stages = ("pretraining", "teachers", "training", "evaluation")
    assert set(rec["stage_seconds"]) == {*stages, "fairness_curve", "total"}  # the curve: after the run's labels
    parts = sum(rec["stage_seconds"][k] for k in (*stages, "fairness_curve"))
    assert 0.5 * rec["stage_seconds"]["total"] <= parts <= rec["stage_seconds"]["total"]  # the rest: validation
    peaks = rec["peak_rss_mb"]
    assert set(peaks) == {"load", *stages, "run"} and min(peaks.values()) > 50  # torch alone is hundreds
    assert peaks["run"] == max(peaks.values())


def test_labels_one_per_sample_in_input_order(labelled_run, npz):
    out, _ = labelled_run
    labels = np.load(out / "labels.npy")
    with np.load(npz / "toy.npz") as f:
        X = f["X"]
    assert labels.shape == (len(X),) and labels.dtype.kind == "i"
    assert set(np.unique(labels)) <= {0, 1, 2}
    model = DeepFairClustering.load(out / "model.pt")
    # the saved model predicts, on the input rows in their order, exactly the written labels
    np.testing.assert_array_equal(model.predict(X), labels)


def test_config_json_records_the_run(labelled_run):
    out, _ = labelled_run
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["dataset"] == "toy" and cfg["method"] == "dfc" and cfg["seed"] == 0 and cfg["n_clusters"] == 3
    resolved = cfg["resolved"]
    assert resolved["n_iters"] == 30 and resolved["batch_size"] == 16
    assert resolved["pretrain_epochs"] == 1 and resolved["teacher"] == "auto" and resolved["epochs"] == 0
    assert cfg["schedule"]["n_iters"] == 30  # the fit's schedule: --iters replaced the recipe's epochs
    assert cfg["estimator"]["pretrain_epochs"] == 1 and cfg["estimator"]["random_state"] == 0


def test_printed_table_has_the_paper_columns(labelled_run):
    _, text = labelled_run
    header = next(line for line in text.splitlines() if line.startswith("|"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    for name in ("Acc", "NMI", "MNCE"):
        assert name in cols
    assert any(c.startswith("Balance") for c in cols) and any(c.startswith("Entropy") for c in cols)
    rec = json.loads((labelled_run[0] / "metrics.json").read_text())
    row = next(line for line in text.splitlines() if line.startswith("| toy"))
    assert f"{rec['balance']:.3f} of {rec['balance_max']:.3f}" in row
    assert " / ".join(f"{e:.3f}" for e in rec["entropy"]) in row
    assert "arithmetic" in text


def test_run_without_labels_reports_fairness(npz, tmp_path, capsys):
    out = tmp_path / "nolabels"
    assert main(run_args(npz / "nolabels.npz", out, tmp_path / "cache", "--n-clusters", "3")) == 0
    rec = json.loads((out / "metrics.json").read_text())
    assert rec["accuracy"] is None and rec["nmi"] is None
    assert rec["n_clusters"] == 3
    assert 0.0 <= rec["balance"] <= rec["balance_max"] == pytest.approx(1.0)
    assert len(rec["entropy"]) == 2 and 0.0 <= rec["mnce"] <= 1.0
    assert np.load(out / "labels.npy").shape == (6 * N_PER,)
    assert "| nolabels | dfc | - | - |" in capsys.readouterr().out


def test_run_without_labels_needs_n_clusters(npz, tmp_path, capsys):
    code = main(run_args(npz / "nolabels.npz", tmp_path / "o", tmp_path / "cache"))
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--n-clusters" in err and "Traceback" not in err


def kmeans_args(*argv):
    """``run_args`` less DFC's own settings (--iters, --batch-size), which k-means does not take."""
    args = run_args(*argv)
    for flag in ("--iters", "--batch-size"):
        i = args.index(flag)
        del args[i:i + 2]
    return args


def test_kmeans_method_and_explicit_n_clusters(npz, tmp_path, capsys):
    out = tmp_path / "km"
    assert main(kmeans_args(npz / "toy.npz", out, tmp_path / "cache", "--method", "kmeans", "--n-clusters", "4")) == 0
    rec = json.loads((out / "metrics.json").read_text())
    assert rec["method"] == "kmeans" and rec["n_clusters"] == 4
    assert len(np.unique(np.load(out / "labels.npy"))) == 4
    assert json.loads((out / "config.json").read_text())["estimator"]["pretrain_epochs"] == 1
    # a DFC setting given to k-means is refused before the data loads, naming the methods that take it
    assert main(run_args(npz / "absent.npz", tmp_path / "x", tmp_path / "cache", "--method", "kmeans")) == 2
    assert "method 'kmeans' does not take batch_size (--batch-size); the methods that do: dfc" in capsys.readouterr().err
    # so is a run option that only DFC acts on (it used to be accepted and ignored)
    for flag in (["--resume"], ["--checkpoint-every", "5"]):
        argv = kmeans_args(npz / "absent.npz", tmp_path / "y", tmp_path / "cache", "--method", "kmeans", *flag)
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"method 'kmeans' does not take {flag[0]}; the methods that do: dfc" in err and "absent" not in err


def test_default_seed_is_recorded(npz, tmp_path):
    """Without --seed the run uses 2019 (the authors' seed) and its files say so."""
    out = tmp_path / "km"
    argv = [a for a in kmeans_args(npz / "toy.npz", out, tmp_path / "cache", "--method", "kmeans") if a != "--seed"]
    argv.remove("0")
    assert main(argv) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["seed"] == cfg["estimator"]["random_state"] == 2019
    assert json.loads((out / "metrics.json").read_text())["seed"] == 2019


def test_new_training_flags_reach_the_model(npz, tmp_path):
    """--lr and --latent-dim set the estimator's lr and latent_dim; --checkpoint-every 0 is accepted."""
    out = tmp_path / "flags"
    assert main(run_args(npz / "toy.npz", out, tmp_path / "cache", "--lr", "0.003", "--latent-dim", "5",
                         "--checkpoint-every", "0")) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["estimator"]["lr"] == cfg["resolved"]["lr"] == 0.003
    assert cfg["estimator"]["latent_dim"] == cfg["resolved"]["latent_dim"] == 5
    assert cfg["estimator"]["checkpoint_every"] == 0
    assert DeepFairClustering.load(out / "model.pt").transform(np.load(npz / "toy.npz")["X"]).shape == (6 * N_PER, 5)


def test_a_recipe_typo_fails_before_the_data_loads(tmp_path, capsys):
    assert main(["run", "--dataset", str(tmp_path / "absent.npz"), "--recipe", "faithfull"]) == 2
    err = capsys.readouterr().err
    assert "argument --recipe: invalid choice: 'faithfull'" in err and "absent.npz" not in err


def test_table_loads_data_with_the_options_of_run(monkeypatch, tmp_path):
    import fairclust.cli.args
    from fairclust.errors import FairclustError

    seen = {}

    def fake_load(name, **kwargs):
        seen[name] = kwargs
        raise FairclustError("stop here")  # the cell fails, the grid goes on

    monkeypatch.setattr(fairclust.cli.args, "load_dataset", fake_load)
    assert main(["table", "--datasets", "a.csv,b.npz", "--methods", "kmeans", "--seeds", "1", "--out",
                 str(tmp_path / "t"), "--data-dir", "D", "--limit", "5", "--weights", "random", "--image-size", "16",
                 "--download", "--no-cache", "--quiet"]) == 0
    for name in ("a.csv", "b.npz"):
        assert seen[name] == {"data_dir": "D", "download": True, "limit": 5, "seed": 2019, "weights": "random",
                              "image_size": 16, "verbose": False, "cache_dir": False}
    assert "stop here" in (tmp_path / "t" / "table.md").read_text()
