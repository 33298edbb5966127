"""What the fair-labels step costs, against what any labelling under the same share bounds must cost
(docs/results.md, "The fair labels' price", issue 28).

Per data set and seed: DFC (default recipe) is fitted once; then, with the fit's own share bounds
(``fair_labels`` delta, one bound set per sensitive cell), the argmax of ``q``, the fair labels of
``q`` (the default), and of four candidate costs: ``q`` mixed half and half with its 10 nearest
neighbours' argmax votes in DFC's embedding, with the one-hot of its matched teacher's label (DFC's
own target), and with both, and ``q`` with each group's costs weighted by the mean group size over its size
(each group's mean cost counts alike); and the best fair labelling computed from the true labels (an oracle:
the least any fair labelling must lose from a perfect start, the labels used only here). Also the
share of samples the fair labels moved and how many of those the argmax had right; with
``--jsonl``, every labelling's accuracy within each group beside the matched teachers'.

    python bench/fair_labels_price.py --datasets mnist-usps-mini,mnist-digits --seeds 0 [--jsonl rows.jsonl]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.neighbors import NearestNeighbors

from fairclust import metrics
from fairclust.data import load_dataset
from fairclust.fair_lp import fair_labels
from fairclust.methods.dfc import DeepFairClustering


def knn_votes(q: np.ndarray, emb: np.ndarray, k: int = 10) -> np.ndarray:
    """``q`` averaged half and half with the argmax votes of each sample's k nearest neighbours."""
    idx = NearestNeighbors(n_neighbors=k + 1).fit(emb).kneighbors(emb, return_distance=False)
    votes = np.eye(q.shape[1])[q.argmax(1)][idx].mean(1)
    return 0.5 * votes + 0.5 * q


def teacher_votes(q: np.ndarray, teacher: np.ndarray) -> np.ndarray:
    """``q`` averaged half and half with the one-hot of each sample's matched teacher label (DFC's target)."""
    return 0.5 * np.eye(q.shape[1])[teacher] + 0.5 * q


def group_weighted(q: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``q`` raised per sample to its group's weight (mean group size / the group's size): the LP's costs
    ``-log q`` then count each group's mean cost alike, not each sample alike (a small group is moved less)."""
    _, codes, sizes = np.unique(g, return_inverse=True, return_counts=True)
    return np.clip(q, 1e-12, None) ** (sizes.mean() / sizes[codes])[:, None]


def within(y: np.ndarray, labels: np.ndarray, g: np.ndarray) -> list[float]:
    """Accuracy inside each group (its own best map of clusters to classes)."""
    return [metrics.accuracy(y[g == h], labels[g == h]) for h in np.unique(g)]


def oracle_cluster(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Each sample's class as a cluster of the argmax (classes mapped by Hungarian matching)."""
    k = q.shape[1]
    counts = np.zeros((k, k))
    np.add.at(counts, (q.argmax(1), y), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    cluster = np.empty(k, np.int64)
    cluster[cols] = rows
    return cluster[y]


def oracle(y: np.ndarray, q: np.ndarray, groups: np.ndarray, delta: float) -> np.ndarray:
    """The fair labels of the truth: the best labelling under the same share bounds."""
    truth = np.full(q.shape, 1e-3)
    truth[np.arange(len(y)), oracle_cluster(y, q)] = 1.0
    return fair_labels(truth, groups, delta)[0]


def one(name: str, seed: int, save_dir: str | None = None) -> dict:
    ds = load_dataset(name)
    with tempfile.TemporaryDirectory() as cache:
        model = DeepFairClustering(ds.n_classes, random_state=seed, cache_dir=cache)
        model.fit(ds.X, sensitive_features=ds.fit_sensitive)
    q, emb, delta = model.predict_proba(ds.X), model.transform(ds.X), model.config_["fair_labels"]
    g, y = np.asarray(ds.sensitive).astype(str), ds.y
    fair, info = fair_labels(q, g, delta)
    moved = fair != q.argmax(1)
    acc = lambda lab: metrics.accuracy(y, lab)  # noqa: E731
    right_before = float(np.mean(q.argmax(1)[moved] == oracle_cluster(y, q)[moved])) if moved.any() else float("nan")
    teach, best = model.teacher_labels_, oracle(y, q, g, delta)
    by_knn, by_teacher = knn_votes(q, emb), teacher_votes(q, teach)
    variants = {"fair": fair, "knn_votes": fair_labels(by_knn, g, delta)[0],
                "teacher_votes": fair_labels(by_teacher, g, delta)[0],
                "knn_teacher_votes": fair_labels(0.5 * by_knn + 0.5 * by_teacher, g, delta)[0],
                "group_weighted": fair_labels(group_weighted(q, g), g, delta)[0]}
    if save_dir:
        np.savez_compressed(f"{save_dir}/{name}-seed{seed}.npz", q=q, emb=emb, teacher=teach, y=y, g=g,
                            delta=delta)
    out = {"dataset": name, "seed": seed, "argmax": acc(q.argmax(1)), "moved": float(moved.mean()),
           "moved_right_before": right_before, "oracle": acc(best), "oracle_within": within(y, best, g),
           "teacher_within": within(y, teach, g)}
    for key, lab in variants.items():
        out[key] = acc(lab)
        out[key + "_within"] = within(y, lab, g)
        out[key + "_balance"] = metrics.balance(lab, sensitive_features=g) / metrics.balance_max(g)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="digits-reverse,mnist-usps-mini,mnist-digits,three-sources-mini")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--save", default=None, help="also write each fit's q, embedding, teacher labels, classes and "
                    "groups to DIR/<data set>-seed<seed>.npz, to compare more costs without refitting")
    ap.add_argument("--jsonl", default=None, help="also append every row, per-group accuracies included, here")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    print("| data set | seed | argmax Acc | fair labels Acc | moved | moved that the argmax had right "
          "| oracle fair labels | argmax - oracle's loss | kNN-vote costs | teacher-vote costs | both "
          "| group-weighted costs |\n|" + " --- |" * 12)
    for name in a.datasets.split(","):
        for seed in (int(s) for s in a.seeds.split(",")):
            r = one(name, seed, a.save)
            if a.jsonl:
                with open(a.jsonl, "a") as f:
                    f.write(json.dumps(r) + "\n")
            print(f"| {name} | {seed} | {r['argmax']:.3f} | {r['fair']:.3f} | {r['moved']:.1%} | "
                  f"{r['moved_right_before']:.0%} | {r['oracle']:.3f} | {r['argmax'] - (1 - r['oracle']):.3f} | "
                  f"{r['knn_votes']:.3f} | {r['teacher_votes']:.3f} | {r['knn_teacher_votes']:.3f} | "
                  f"{r['group_weighted']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
