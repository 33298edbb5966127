"""Issue 19, three sources (prototype, kept as it ran). DFC's q, the matched teachers and their geometric mean, argmax and fair labels.
    python bench/issue19_three_sources/ens.py three-sources-mini RUN_DIR 0
"""
import sys, numpy as np, torch
from fairclust.data import load_dataset
from fairclust.metrics import factorize
from fairclust import metrics
from fairclust.methods import DeepFairClustering as DFC
from fairclust.methods.falg import fair_labels
from fairclust.align import align_teachers, canonical_frame
from fairclust.cache import StageCache
from fairclust.config import resolve
from fairclust.pretrain import Pretrainer
name, run, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = load_dataset(name)
codes = factorize(np.asarray(ds.sensitive))[1]; y = factorize(np.asarray(ds.y))[1]
model = DFC.load(run + "/model.pt")
q = model.predict_proba(ds.X)
cfg = resolve("default")
pre = Pretrainer(torch.from_numpy(ds.X), codes, cfg, seed, torch.device("cpu"), StageCache(None), verbose=False)
enc, key = pre.shared_encoder(); P = pre.teacher_assignments(10, enc, key)
Pm, rec = align_teachers(canonical_frame(ds.X), P, codes, kind="auto", seed=seed)
def show(tag, p):
    for fl in (False, True):
        lab = fair_labels(p, codes, 0.05)[0] if fl else p.argmax(1)
        print(f"{tag:28s} {'fair' if fl else 'argmax'} acc {metrics.accuracy(y, lab):.3f} nmi {metrics.nmi(y, lab):.3f} bal {metrics.balance(lab, sensitive_features=codes)/metrics.balance_max(codes):.2f}", flush=True)
show("DFC q", q)
show("matched teachers", Pm)
e = np.exp(0.5*np.log(q+1e-9) + 0.5*np.log(Pm+1e-9)); e /= e.sum(1, keepdims=True)
show("geo mean q, P", e)
