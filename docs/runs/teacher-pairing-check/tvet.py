import sys, json, time, numpy as np
from scipy.optimize import linear_sum_assignment
from fairclust.transfer import _transfer_input, _transfer_probs
from fairclust.align import confidence
from fairclust import metrics
for path in sys.argv[1:]:
    f = np.load(path); y, codes = f["y"], f["codes"]; sil = json.loads(str(f["sil"]))
    G = codes.max() + 1
    pick = {g: max([k.split("/")[1] for k in sil if k.startswith(f"{g}/")], key=lambda n: sil[f"{g}/{n}"]) for g in range(G)}
    ref = 0
    X = f["canonical"]
    t = time.time()
    A = _transfer_input(X[f[f"idx_{ref}"]]); on = {}
    for g in range(1, G):
        B = _transfer_input(X[f[f"idx_{g}"]])
        on[g] = _transfer_probs(A, f[f"S_{ref}_{pick[ref]}"].argmax(1), B, 10, 0)
    print(path.split("/")[-1], "train %.0fs" % (time.time() - t), "ref pick", pick[ref])
    for g in range(1, G):
        for n in [k.split("/")[1] for k in sil if k.startswith(f"{g}/")]:
            P = f[f"S_{g}_{n}"]
            M = on[g].T @ (P / np.maximum(P.sum(0), 1e-12))
            L = np.log(M + 1e-6); L = L - L.mean(0, keepdims=True) - L.mean(1, keepdims=True) + L.mean()
            perm = linear_sum_assignment(L, maximize=True)[1]
            z = confidence(L, perm, 0)["z"]
            acc = metrics.accuracy(y[f[f"idx_{g}"]], P.argmax(1))
            print(f"  g{g} {n:11s} sil {sil[f'{g}/{n}']:.3f} acc {acc:.3f} z {z:.2f} agree {np.mean(on[g].argmax(1) == perm.argsort()[P.argmax(1)]):.3f}", "*" if n == pick[g] else "")
