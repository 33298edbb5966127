"""Issue 19, three sources (prototype, kept as it ran). Within-group UMAP + GMM teachers on the raw input vs the canonical frame.
    python bench/issue19_three_sources/teach.py three-sources-mini 0 raw,canon16,canon24
"""
import sys, time, numpy as np
from fairclust.align import canonical_frame, _transfer_input
from fairclust.teachers import UmapGmm
from fairclust.data import load_dataset
from fairclust.metrics import factorize
from fairclust import metrics
name, seed = sys.argv[1], int(sys.argv[2])
spaces = sys.argv[3].split(",")
ds = load_dataset(name)
codes = factorize(np.asarray(ds.sensitive))[1]; y = factorize(np.asarray(ds.y))[1]
for sp in spaces:
    t0 = time.time()
    if sp == "raw": X = ds.X
    elif sp.startswith("canon"): X = _transfer_input(canonical_frame(ds.X, size=int(sp[5:])))
    res = []
    for g in range(codes.max() + 1):
        m = codes == g
        f = UmapGmm(X[m], 10, seed)
        res.append((metrics.accuracy(y[m], f.assign().argmax(1)), f.score))
    print(sp, " ".join(f"{a:.3f}(sil {s:.2f})" for a, s in res), f"{time.time()-t0:.0f}s", flush=True)
