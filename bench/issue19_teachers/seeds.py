"""Issue 19 item 3: does choosing among several UMAP seeds by silhouette give stronger teachers?

For one data set and run seed: the shared VAE of the default recipe (from the cache), then per group the
UMAP + GMM teacher on the input and on the VAE embedding with UMAP seeds seed, seed+1, ..., printing each
one's within-group accuracy (labels only to score) and silhouette (what a run can see), and what the
rules "auto" (today: seed only, best kind by silhouette) and "best of R by silhouette" keep.

    python bench/issue19_teachers/seeds.py mnist-usps-mini 0 4
"""
import sys
import time

import numpy as np
import torch

from fairclust import metrics
from fairclust.cache import StageCache
from fairclust.config import resolve
from fairclust.data import load_dataset
from fairclust.embedding import embed
from fairclust.pretrain import Pretrainer
from fairclust.teachers import UMAP_GMM, UmapGmm

name, seed, R = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ds = load_dataset(name)
codes = np.unique(ds.sensitive, return_inverse=True)[1].astype(np.int64)
k = ds.n_classes
X = torch.from_numpy(ds.X)
s = resolve("default")
pre = Pretrainer(X, codes, s, seed, torch.device("cpu"), StageCache(None))
enc, _ = pre.shared_encoder()
spaces = {"umap": ds.X, "vae-umap": embed(enc, X, torch.device("cpu")).numpy()}
for g in np.unique(codes):
    m = codes == g
    rows = []
    for kind, Z in spaces.items():
        for r in range(R):
            t = time.perf_counter()
            f = UmapGmm(Z[m], k, seed + r, max_samples=s.teacher_max_samples, **UMAP_GMM)
            acc = metrics.accuracy(ds.y[m], f.assign().argmax(1))
            rows.append((kind, seed + r, acc, f.score, time.perf_counter() - t))
            print(name, seed, ds.group_names[g], kind, seed + r, f"acc {acc:.3f} sil {f.score:.3f} {rows[-1][4]:.0f}s", flush=True)
    auto = max([x for x in rows if x[1] == seed], key=lambda x: x[3])
    best = max(rows, key=lambda x: x[3])
    print(f"SUMMARY {name} seed {seed} {ds.group_names[g]}: auto {auto[2]:.3f} ({auto[0]}) | best-of-{R} by sil "
          f"{best[2]:.3f} ({best[0]} s{best[1]}) | mean {np.mean([x[2] for x in rows]):.3f} | oracle {max(x[2] for x in rows):.3f}",
          flush=True)
