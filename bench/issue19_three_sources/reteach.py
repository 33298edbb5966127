"""Issue 19, three sources (prototype, kept as it ran). EM-style step measured: teachers re-fitted on a finished DFC run's fair embedding, per group and jointly.
    python bench/issue19_three_sources/reteach.py three-sources-mini RUN_DIR 0
"""
import sys, time, numpy as np
from fairclust.teachers import UmapGmm
from fairclust.data import load_dataset
from fairclust.metrics import factorize
from fairclust import metrics
from fairclust.methods import DeepFairClustering as DFC
name, run, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = load_dataset(name)
codes = factorize(np.asarray(ds.sensitive))[1]; y = factorize(np.asarray(ds.y))[1]
model = DFC.load(run + "/model.pt")
Z = model.transform(ds.X)
lab = np.load(run + "/labels.npy")
print("Z", Z.shape)
for g in ([] if len(sys.argv) > 4 else range(codes.max() + 1)):
    m = codes == g
    t0 = time.time()
    f = UmapGmm(Z[m], 10, seed)
    print(ds.group_names[g], "DFC within", round(metrics.accuracy(y[m], lab[m]), 3), "re-teacher on DFC embedding", round(metrics.accuracy(y[m], f.assign().argmax(1)), 3), f"sil {f.score:.2f} {time.time()-t0:.0f}s", flush=True)
f = UmapGmm(Z, 10, seed)
print("joint UMAP+GMM on DFC embedding", round(metrics.accuracy(y, f.assign().argmax(1)), 3))
jl = f.assign().argmax(1)
np.save(run + "/joint_labels.npy", jl)
print("balance", metrics.balance(jl, sensitive_features=codes), "nmi", metrics.nmi(y, jl))
