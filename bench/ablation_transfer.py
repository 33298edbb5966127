"""Issue 19 ablation (a prototype, not in the library): pair the teachers' clusters across groups by
classifier transfer, and refine the teachers by self-labelling.

For each non-reference group: a small CNN trained (with resolution / affine / stroke
augmentation) on the reference group's teacher labels, in the canonical frame, predicts the
group, and one trained on the group predicts the reference; the pairing is the linear assignment
on the summed log-evidence. Then ``--rounds`` rounds of self-labelling: a CNN on all groups' matched
teacher labels (the most confident ``--frac`` of each cluster) relabels every sample. Labels only
score (fraction of pairs right, accuracy). This is the prototype that made the table in
docs/results.md, kept as it ran; the library's version is ``fairclust.align.transfer_evidence``
(``matching="transfer"``), which also removes the classifiers' biases before pairing.

    python bench/ablation_transfer.py --datasets mnist-usps-mini,mnist-digits,digits-reverse --seed 0 --cache-dir C
"""
import sys, time, argparse
from pathlib import Path
import numpy as np, torch
from torch import nn
from torch.nn import functional as F
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ablation_matching import right_pairs
from fairclust import metrics
from fairclust.align import align_teachers, canonical_frame
from fairclust.cache import StageCache
from fairclust.config import resolve
from fairclust.data import load_dataset
from fairclust.metrics import factorize
from fairclust.pretrain import Pretrainer
from scipy.optimize import linear_sum_assignment

def net(K, c):
    return nn.Sequential(nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, K))

def augment(x, g):
    n = x.shape[0]
    # random resolution: down to s x s and back (s in 6..16), random affine (scale, shift, rotate), thickness
    s = int(torch.randint(LO, 17, (1,), generator=g))
    if s < 16:
        x = F.interpolate(F.interpolate(x, size=(s, s), mode="area"), size=(16, 16), mode="bilinear", align_corners=False)
    ang = (torch.rand(n, generator=g) - 0.5) * 0.5
    sc = 1 + (torch.rand(n, generator=g) - 0.5) * 0.3
    tx, ty = (torch.rand(n, generator=g) - 0.5) * 0.2, (torch.rand(n, generator=g) - 0.5) * 0.2
    th = torch.zeros(n, 2, 3)
    th[:, 0, 0] = torch.cos(ang) * sc; th[:, 0, 1] = -torch.sin(ang) * sc; th[:, 0, 2] = tx
    th[:, 1, 0] = torch.sin(ang) * sc; th[:, 1, 1] = torch.cos(ang) * sc; th[:, 1, 2] = ty
    x = F.grid_sample(x, F.affine_grid(th, x.shape, align_corners=False), align_corners=False)
    r = torch.rand(1, generator=g).item()
    if r < 0.25:
        x = F.max_pool2d(x, 3, 1, 1)
    elif r < 0.5:
        x = -F.max_pool2d(-x, 3, 1, 1)
    return x

def normalise(X):
    # per-image: ink positive, scale to max 1 (sign handled by flipping so that ink > 0)
    flat = X.reshape(len(X), -1)
    sgn = np.sign(flat[np.arange(len(X)), np.abs(flat).argmax(1)])
    X = X * sgn[:, None, None, None]
    return (X / np.maximum(np.abs(flat).max(1), 1e-6)[:, None, None, None]).astype(np.float32)

def train_predict(Xtr, ytr, Xte, K, seed, epochs):
    torch.manual_seed(seed); g = torch.Generator().manual_seed(seed)
    m = net(K, Xtr.shape[1]); opt = torch.optim.Adam(m.parameters(), 1e-3)
    Xt, yt = torch.from_numpy(Xtr), torch.from_numpy(ytr).long()
    for ep in range(epochs):
        perm = torch.randperm(len(Xt), generator=g)
        for i in range(0, len(Xt), 128):
            b = perm[i:i+128]
            loss = F.cross_entropy(m(augment(Xt[b], g)), yt[b], label_smoothing=0.1)
            opt.zero_grad(); loss.backward(); opt.step()
    m.eval()
    with torch.no_grad():
        return torch.cat([F.softmax(m(torch.from_numpy(Xte[i:i+2048])), 1) for i in range(0, len(Xte), 2048)]).numpy()

ap = argparse.ArgumentParser(); ap.add_argument("--datasets", default="mnist-usps-mini,mnist-digits")
ap.add_argument("--seed", type=int, default=0); ap.add_argument("--epochs", type=int, default=5)
ap.add_argument("--threads", type=int, default=1); ap.add_argument("--cache-dir", default=None); ap.add_argument("--lo", type=int, default=6); ap.add_argument("--rounds", type=int, default=2); ap.add_argument("--frac", type=float, default=0.5)
a = ap.parse_args(); LO = a.lo; torch.set_num_threads(a.threads)
cfg = resolve("default")
for name in a.datasets.split(","):
    ds = load_dataset(name)
    codes = factorize(np.asarray(ds.sensitive))[1]; y = factorize(np.asarray(ds.y))[1]; K = int(y.max()) + 1
    Xt = torch.from_numpy(ds.X)
    pre = Pretrainer(Xt, codes, cfg, a.seed, torch.device("cpu"), StageCache(a.cache_dir), verbose=False)
    enc, key = pre.shared_encoder(); P = pre.teacher_assignments(K, enc, key)
    Xc = canonical_frame(ds.X); base = align_teachers(Xc, P, codes, kind="features", seed=a.seed)[0]
    within = [metrics.accuracy(y[codes == g], P[codes == g].argmax(1)) for g in np.unique(codes)]
    print(f"## {name} seed {a.seed} within {within} canonical right {right_pairs(base, codes, y):.2f} acc {metrics.accuracy(y, base.argmax(1)):.3f}", flush=True)
    Xn = normalise(Xc); lab = P.argmax(1)
    ref = int(np.argmax(np.bincount(codes))); t0 = time.time()
    out = P.copy()
    for gg in np.unique(codes):
        if gg == ref: continue
        mr, mg = codes == ref, codes == gg
        pr = train_predict(Xn[mr], lab[mr], Xn[mg], K, a.seed, a.epochs)   # ref classes on group g
        pg = train_predict(Xn[mg], lab[mg], Xn[mr], K, a.seed, a.epochs)   # g classes on ref
        Pg, Pr = P[mg] / P[mg].sum(0), P[mr] / P[mr].sum(0)
        M1 = pr.T @ Pg          # ref class i x group cluster j
        M2 = (pg.T @ Pr).T      # ref cluster i x g class j
        for nm, M in (("r->g", M1), ("g->r", M2), ("both", np.log(M1 + 1e-6) + np.log(M2 + 1e-6))):
            perm = linear_sum_assignment(M, maximize=True)[1]
            tmp = P.copy(); tmp[mg] = P[mg][:, perm]
            tmp[codes != gg] = base[codes != gg] if False else P[codes != gg]
            maj = right_pairs(np.where(np.isin(codes, [ref, gg])[:, None], tmp, P), np.where(np.isin(codes,[ref,gg]), codes, ref), y)
            print(f"  group {gg} {nm}: right {maj:.2f} diag-mean {M[np.arange(K), perm].mean():.2f}", flush=True)
            if nm == "both": out[mg] = P[mg][:, perm]
            def maj(m): return [int(np.bincount(y[m][lab[m]==j], minlength=K).argmax()) if (lab[m]==j).any() else -1 for j in range(K)]
            mr_, mg_ = maj(mr), maj(mg)
            print("    ref maj", mr_, " paired g maj", [mg_[p] for p in perm], flush=True)
    t1 = time.time(); lab2 = out.argmax(1); conf = out.max(1)
    keep = np.zeros(len(lab2), bool)
    for j in range(K):
        idx = np.where(lab2 == j)[0]
        if len(idx): keep[idx[conf[idx] >= np.quantile(conf[idx], 1 - a.frac)]] = True
    for it in range(a.rounds):
        pj = train_predict(Xn[keep], lab2[keep], Xn, K, a.seed + 7 + it, a.epochs)
        within = [metrics.accuracy(y[codes == g], pj[codes == g].argmax(1)) for g in np.unique(codes)]
        print(f"  refined round {it}: acc {metrics.accuracy(y, pj.argmax(1)):.3f} within {np.round(within,3)} ({time.time()-t1:.0f} s)", flush=True)
        lab2 = pj.argmax(1); conf = pj.max(1); keep[:] = False
        for j in range(K):
            idx = np.where(lab2 == j)[0]
            if len(idx): keep[idx[conf[idx] >= np.quantile(conf[idx], 1 - a.frac)]] = True
    print(f"  classifier pairing: right {right_pairs(out, codes, y):.2f} acc {metrics.accuracy(y, out.argmax(1)):.3f} ({time.time()-t0:.0f} s)", flush=True)
