"""Issue 19, three sources (prototype, kept as it ran). Per-group accuracy of a run's labels, within the group and under the global cluster->class map.
    python bench/issue19_three_sources/pergroup.py three-sources-mini RUN_DIR
"""
import sys, numpy as np
from fairclust.data import load_dataset
from fairclust import metrics
from scipy.optimize import linear_sum_assignment
ds = load_dataset(sys.argv[1])
lab = np.load(sys.argv[2] + "/labels.npy")
y, s = ds.y, ds.sensitive
K = 10
# global matching cluster->class
T = np.zeros((K, K)); np.add.at(T, (lab, y), 1)
r, c = linear_sum_assignment(-T); glob = dict(zip(r, c))
for g in np.unique(s):
    m = s == g
    Tg = np.zeros((K, K)); np.add.at(Tg, (lab[m], y[m]), 1)
    rg, cg = linear_sum_assignment(-Tg)
    own = dict(zip(rg, cg))
    agree = sum(own[k] == glob[k] for k in range(K))
    print(ds.group_names[g], "within", round(metrics.accuracy(y[m], lab[m]), 3), "under global map", round(np.mean([glob[l] == t for l, t in zip(lab[m], y[m])]), 3), "clusters mapped same as global", agree)
print("overall", metrics.accuracy(y, lab))
