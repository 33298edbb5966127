"""Issue 19, three sources (prototype, kept as it ran). Pairing variants (transfer in the raw input / canonical frames of 8-24 px; direct to the reference or
joint over all groups by coordinate ascent) on the default recipe's cached teachers; labels score only.
    python bench/issue19_three_sources/pairs.py three-sources-mini 0 raw,canon8,canon12,canon16,canon24  (TE=15: epochs)
"""
import sys, time, numpy as np, torch
from scipy.optimize import linear_sum_assignment
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from fairclust import metrics
from fairclust.align import transfer_evidence, canonical_frame, confidence
from fairclust.cache import StageCache
from fairclust.config import resolve
from fairclust.data import load_dataset
from fairclust.metrics import factorize
from fairclust.pretrain import Pretrainer

def centred_log(M):
    L = np.log(M + 1e-6)
    return L - L.mean(0, keepdims=True) - L.mean(1, keepdims=True) + L.mean()

def majority(P, codes, y, g):
    m = codes == g; lab = P[m].argmax(1)
    return np.array([np.bincount(y[m][lab == j], minlength=10).argmax() if (lab == j).any() else -1 for j in range(P.shape[1])])

name, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
variants = sys.argv[3].split(",") if len(sys.argv) > 3 else ["raw", "canon"]
import os, fairclust.align as al; al.TRANSFER_EPOCHS = int(os.environ.get("TE", 5))
cfg = resolve("default")
ds = load_dataset(name)
codes = factorize(np.asarray(ds.sensitive))[1]; y = factorize(np.asarray(ds.y))[1]
G = codes.max() + 1; ref = int(np.argmax(np.bincount(codes)))
for seed in seeds:
    pre = Pretrainer(torch.from_numpy(ds.X), codes, cfg, seed, torch.device("cpu"), StageCache(None), verbose=False)
    enc, key = pre.shared_encoder()
    P = pre.teacher_assignments(10, enc, key)
    maj = [majority(P, codes, y, g) for g in range(G)]
    within = [metrics.accuracy(y[codes == g], P[codes == g].argmax(1)) for g in range(G)]
    print(f"## {name} seed {seed} teachers within {np.round(within, 3)}", flush=True)
    for v in variants:
        X = ds.X if v == "raw" else canonical_frame(ds.X, size=int(v[5:] or 16))
        t0 = time.time()
        L = {}
        for a in range(G):
            for b in range(a + 1, G):
                ma, mb = codes == a, codes == b
                L[(a, b)] = centred_log(transfer_evidence(X[ma], P[ma], X[mb], P[mb], seed + b))
                L[(b, a)] = L[(a, b)].T
        perms = {ref: np.arange(10)}
        for g in range(G):
            if g == ref: continue
            p = linear_sum_assignment(L[(ref, g)], maximize=True)[1]
            perms[g] = p
            right = np.mean(maj[ref] == maj[g][p])
            c = confidence(L[(ref, g)], p, seed)
            print(f"  {v} direct group {g}: right {right:.1f} z {c['z']:.2f} clear {c['clear_pairs']}", flush=True)
        if G > 2:  # joint: coordinate ascent on the sum of all pairs' evidence, in reference indices
            for it in range(5):
                for g in range(G):
                    if g == ref: continue
                    S = L[(ref, g)].copy()
                    for h in range(G):
                        if h in (ref, g): continue
                        S += L[(h, g)][perms[h]]  # row i: group h's cluster paired to ref i
                    perms[g] = linear_sum_assignment(S, maximize=True)[1]
            for g in range(G):
                if g == ref: continue
                print(f"  {v} joint group {g}: right {np.mean(maj[ref] == maj[g][perms[g]]):.1f}", flush=True)
        print(f"  ({v}: {time.time() - t0:.0f} s)", flush=True)
