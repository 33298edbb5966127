"""Offline: per group, accuracy of the restart each rule keeps."""
import sys, glob, numpy as np
from fairclust import metrics
from sklearn.metrics import adjusted_rand_score as ari

def rules(rows, labs):
    ll, sil, ent, minshare = rows.T
    R = len(rows)
    out = {}
    out["likeliest"] = ll.argmax()
    out["silhouette"] = sil.argmax()
    out["entropy"] = ent.argmax()
    for m in (0.02, 0.05, 0.1, 0.2):
        ok = np.flatnonzero(ll >= ll.max() - m)
        out[f"sil|ll-{m}"] = ok[sil[ok].argmax()]
    for f in (0.9, 0.95, 0.97):
        ok = np.flatnonzero(ent >= f * ent.max())
        out[f"sil|ent>{f}"] = ok[sil[ok].argmax()]
    # rank sum
    rs = np.argsort(np.argsort(sil)) + np.argsort(np.argsort(ent))
    out["rank sil+ent"] = rs.argmax()
    rl = np.argsort(np.argsort(sil)) + np.argsort(np.argsort(ll))
    out["rank sil+ll"] = rl.argmax()
    r3 = rs + np.argsort(np.argsort(ll))
    out["rank3"] = r3.argmax()
    # z-scores
    z = lambda v: (v - v.mean()) / (v.std() + 1e-12)
    out["z sil+ll"] = (z(sil) + z(ll)).argmax()
    out["z sil+ent"] = (z(sil) + z(ent)).argmax()
    # medoid of restarts (consensus)
    A = np.array([[ari(labs[i], labs[j]) if i != j else 0 for j in range(R)] for i in range(R)])
    out["medoid"] = A.sum(1).argmax()
    return out

tab = {}
for f in sorted(glob.glob("rec_*.npz")):
    d = np.load(f)
    gs = sorted({int(k.split("_")[0][1:]) for k in d.files if k.startswith("g") and k[1].isdigit()})
    for g in gs:
        y = d[f"g{g}_yfit"]; rows = d[f"g{g}_rows"]; labs = d[f"g{g}_labs"]
        accs = np.array([metrics.accuracy(y, l) for l in labs])
        picks = rules(rows, labs)
        name = f[4:-4] + f" g{g}"
        r = {"first": metrics.accuracy(y, d[f"g{g}_first"]), "refit": metrics.accuracy(y, d[f"g{g}_refit"]), "oracle": accs.max()}
        r.update({k: accs[v] for k, v in picks.items()})
        tab[name] = r
cols = list(next(iter(tab.values())))
print("%-34s" % "group" + "".join("%9s" % c[:9] for c in cols))
for name, r in tab.items():
    print("%-34s" % name + "".join("%9.3f" % r[c] for c in cols))
M = np.array([[r[c] for c in cols] for r in tab.values()])
print("%-34s" % "mean" + "".join("%9.3f" % v for v in M.mean(0)))
print("%-34s" % "worst drop vs refit" + "".join("%9.3f" % v for v in (M - M[:, [1]]).min(0)))
for c in cols: print(c, end="; ")
print()
