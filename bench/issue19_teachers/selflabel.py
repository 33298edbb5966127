"""Issue 19 item 3 (prototype): self-labelling of the matched teachers with an augmented classifier.

For one data set and run seed, with the default recipe's cached shared VAE and teachers: match the teachers
across groups as a run does, then train the transfer classifier (augmented, canonical frame) on
(a) each group alone, on its own teacher's labels, (b) all groups pooled on the matched labels, using the
samples the teacher is most sure of, and predict every sample. Prints within-group and overall accuracy
(labels only to score) of the teachers and of each self-labelled variant, and the seconds.

    python bench/issue19_teachers/selflabel.py mnist-usps-mini 1
"""
import sys
import time

import numpy as np
import torch

from fairclust import metrics
from fairclust.align import _transfer_input, _transfer_probs, align_teachers, canonical_frame
from fairclust.cache import StageCache
from fairclust.config import resolve
from fairclust.data import load_dataset
from fairclust.pretrain import Pretrainer

name, seed = sys.argv[1], int(sys.argv[2])
frac = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
ds = load_dataset(name)
codes = np.unique(ds.sensitive, return_inverse=True)[1].astype(np.int64)
k = ds.n_classes
X = torch.from_numpy(ds.X)
s = resolve("default")
torch.set_num_threads(2)
pre = Pretrainer(X, codes, s, seed, torch.device("cpu"), StageCache(None))
enc, key = pre.shared_encoder()
P = pre.teacher_assignments(k, enc, key)
C = canonical_frame(ds.X)
P, rec = align_teachers(C, P, codes, kind=s.matching, seed=seed)
T = _transfer_input(C)


def confident(Pm, frac):
    lab, conf = Pm.argmax(1), Pm.max(1)
    keep = np.zeros(len(lab), bool)
    for c in range(Pm.shape[1]):
        idx = np.flatnonzero(lab == c)
        if len(idx):
            keep[idx[np.argsort(-conf[idx])[:max(1, int(np.ceil(frac * len(idx))))]]] = True
    return keep


def report(tag, lab, sec=0.0):
    within = [metrics.accuracy(ds.y[codes == g], lab[codes == g]) for g in np.unique(codes)]
    print(f"{name} seed {seed} {tag:28s} within {' / '.join(f'{a:.3f}' for a in within)} overall "
          f"{metrics.accuracy(ds.y, lab):.3f}  {sec:.0f}s", flush=True)


report("matched teachers", P.argmax(1))
# (a) per group, its own teacher's confident labels
t = time.perf_counter()
lab_a = P.argmax(1).copy()
for g in np.unique(codes):
    m = np.flatnonzero(codes == g)
    keep = confident(P[m], frac)
    lab_a[m] = _transfer_probs(T[m][keep], P[m].argmax(1)[keep], T[m], k, int(seed + g)).argmax(1)
report(f"self-label per group f={frac}", lab_a, time.perf_counter() - t)
# (b) pooled, matched labels
t = time.perf_counter()
keep = np.zeros(len(codes), bool)
for g in np.unique(codes):
    m = np.flatnonzero(codes == g)
    keep[m] = confident(P[m], frac)
Q = _transfer_probs(T[keep], P.argmax(1)[keep], T, k, seed)
report(f"self-label pooled f={frac}", Q.argmax(1), time.perf_counter() - t)
