import sys, json, itertools, numpy as np, warnings
from fairclust.align import align_teachers, pairing_clearness
from fairclust import metrics
from fairclust.config import DFCConfig
from fairclust import DeepFairClustering
cfg = DeepFairClustering(10)._config()
KIND = sys.argv[2] if len(sys.argv) > 2 else "features"
f = np.load(sys.argv[1]); y, codes = f["y"], f["codes"]; sil = json.loads(str(f["sil"]))
G = codes.max() + 1
names = sorted({k.split("/")[1] for k in sil})
idx = np.concatenate([f[f"idx_{g}"] for g in range(G)]); c = codes[idx]; ys = y[idx]
space = f["canonical"][idx]
pick = [max(names, key=lambda n: sil[f"{g}/{n}"]) for g in range(G)]
rows = []
for combo in itertools.product(names, repeat=G):
    P = np.concatenate([f[f"S_{g}_{n}"] for g, n in enumerate(combo)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Pa, rec = align_teachers(space, P, c, kind=KIND, seed=0)
    cl = pairing_clearness(rec)
    accs = [metrics.accuracy(ys[c == g], P[c == g].argmax(1)) for g in range(G)]
    rows.append((combo, cl, metrics.accuracy(ys, Pa.argmax(1))))
    print(("*" if list(combo) == pick else " "), " ".join(f"{n:11s}" for n in combo), "sil", " ".join("%.3f" % sil[f"{g}/{n}"] for g, n in enumerate(combo)),
          "| acc", " ".join("%.3f" % a for a in accs), "| aligned %.3f" % rows[-1][2], "| clear %.2f" % cl,
          " z:", " ".join("%.2f" % r["confidence"]["z"] for r in rec if not r.get("reference") and "confidence" in r))
