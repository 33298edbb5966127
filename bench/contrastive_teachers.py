"""Within-group SimCLR teachers (docs/results.md, "SimCLR at 16 pixels a side"): per data set, group, seed and
(updates, side), a group's SimCLR features (:func:`fairclust.contrastive.contrastive_embedding`, seed ``seed +
group`` as the library runs it) -> the teachers' UMAP + GMM (the default recipe's options), its accuracy within
the group at the first fit and after the 30-restart refit (labels used only to score), the silhouette the
``auto`` pick compares, and the seconds of training. One JSON line per run to ``--out`` (appended).

    python bench/contrastive_teachers.py --dataset mnist-usps-mini --groups 0,1 --seeds 0,1 --runs 800@16,400@32
    python bench/contrastive_teachers.py --dataset fashion-mnist-reverse --limit 3000 --groups 0,1 --runs 800@16
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch

from fairclust import metrics
from fairclust.config import DFCConfig
from fairclust.contrastive import contrastive_embedding
from fairclust.data import load_dataset
from fairclust.teachers import UmapGmm, umap_gmm_options


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--limit", type=int, default=0, help="at most this many samples a group (sets that take it)")
    ap.add_argument("--groups", default="0,1")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--runs", default="800@16", help="updates@side, comma-separated")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/contrastive-teachers.jsonl")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(a.threads)
    ds = load_dataset(a.dataset, limit=a.limit) if a.limit else load_dataset(a.dataset)
    codes = np.unique(ds.sensitive, return_inverse=True)[1]
    options = umap_gmm_options(DFCConfig.resolve("default"))
    select = DFCConfig.resolve("default").teacher_select_samples
    for run in a.runs.split(","):
        steps, side = (int(v) for v in run.split("@"))
        for group in (int(g) for g in a.groups.split(",")):
            members, y = codes == group, ds.y[codes == group]
            for seed in (int(s) for s in a.seeds.split(",")):
                t0 = time.time()
                H = contrastive_embedding(ds.X[members], steps, seed + group, side=side)
                train_s = time.time() - t0
                fit = UmapGmm(H, ds.n_classes, seed, **options)
                first = metrics.accuracy(y, fit.assign().argmax(1))
                fit.refit_mixture(30, seed)
                row = {"dataset": a.dataset, "limit": a.limit, "group": group, "seed": seed, "steps": steps,
                       "side": side, "train_s": round(train_s, 1), "acc_first": round(first, 3),
                       "acc_refit": round(metrics.accuracy(y, fit.assign().argmax(1)), 3),
                       "silhouette": round(UmapGmm(H, ds.n_classes, seed, max_samples=select, **options).score, 3)}
                print(json.dumps(row), flush=True)
                with open(a.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
