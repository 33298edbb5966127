import sys, json, numpy as np, warnings
from types import SimpleNamespace as NS
from fairclust.teachers import pairing_vetted
from fairclust.align import align_teachers
from fairclust import metrics
for path in sys.argv[1:]:
    f = np.load(path); y, codes = f["y"], f["codes"]; sil = json.loads(str(f["sil"]))
    G = codes.max() + 1
    members = [np.flatnonzero(codes == g) for g in range(G)]
    fitted = []
    for g in range(G):
        rel = np.searchsorted(members[g], f[f"idx_{g}"])
        names = [k.split("/")[1] for k in sil if k.startswith(f"{g}/")]
        fitted.append({n: NS(fit_idx=rel, E_fit=f[f"S_{g}_{n}"], gmm=NS(predict_proba=lambda E: E), score=sil[f"{g}/{n}"], refit_mixture=None) for n in names})
    for c in fitted:
        for o in c.values(): o.refit_mixture = (lambda o: (lambda r, s: o))(o)
    picks = [max(c, key=lambda n: c[n].score) for c in fitted]
    kept, info = pairing_vetted(fitted, picks, f["canonical"], members, 0)
    idx = np.concatenate([f[f"idx_{g}"] for g in range(G)]); c = codes[idx]
    def acc(choice):
        P = np.concatenate([f[f"S_{g}_{n}"] for g, n in enumerate(choice)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Pa = align_teachers(f["canonical"][idx], P, c, kind="features", seed=0)[0]
        return metrics.accuracy(y[idx], Pa.argmax(1)), [round(metrics.accuracy(y[idx][c == g], P[c == g].argmax(1)), 3) for g in range(G)]
    print(path.split("/")[-1], picks, acc(picks), "->", kept, acc(kept) if kept != picks else "", {k: round(v, 2) for k, v in info.items()})
