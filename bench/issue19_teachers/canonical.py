"""Issue 19 item 3: a third teacher candidate, UMAP + GMM on the canonical frame (each image cropped to its
ink's bounding box, 16 x 16), beside the input's and the shared VAE's, chosen per group by silhouette.

For each data set and run seed: the default recipe's cached teachers (their pick and silhouettes), then the
canonical-frame teacher of each group: within-group accuracy of every candidate (labels only to score),
its silhouette, and what a three-way silhouette choice would keep.

    python bench/issue19_teachers/canonical.py mnist-usps-mini,digits-reverse,mnist-digits,three-sources-mini 0
"""
import sys
import time

import numpy as np
import torch

from fairclust import metrics
from fairclust.align import canonical_frame
from fairclust.cache import StageCache
from fairclust.config import resolve
from fairclust.data import load_dataset
from fairclust.embedding import embed
from fairclust.pretrain import Pretrainer
from fairclust.teachers import UMAP_GMM, UmapGmm

seed = int(sys.argv[2])
for name in sys.argv[1].split(","):
    ds = load_dataset(name)
    codes = np.unique(ds.sensitive, return_inverse=True)[1].astype(np.int64)
    k = ds.n_classes
    X = torch.from_numpy(ds.X)
    s = resolve("default")
    pre = Pretrainer(X, codes, s, seed, torch.device("cpu"), StageCache(None))
    enc, key = pre.shared_encoder()
    spaces = {"umap": ds.X, "vae-umap": embed(enc, X, torch.device("cpu")).numpy(), "canonical": canonical_frame(ds.X)}
    for g in np.unique(codes):
        m = codes == g
        row = {}
        for kind, Z in spaces.items():
            t = time.perf_counter()
            f = UmapGmm(Z[m], k, seed, max_samples=s.teacher_max_samples, **UMAP_GMM)
            row[kind] = (metrics.accuracy(ds.y[m], f.assign().argmax(1)), f.score, time.perf_counter() - t)
        two = max(("umap", "vae-umap"), key=lambda n: row[n][1])
        three = max(row, key=lambda n: row[n][1])
        print(f"| {name} | {ds.group_names[g]} | " + " | ".join(f"{a:.3f} (sil {sc:.2f}, {t:.0f} s)" for a, sc, t in row.values())
              + f" | {two} {row[two][0]:.3f} | {three} {row[three][0]:.3f} |", flush=True)
