"""Record, per group, 30 single-start mixtures on the kept teacher's UMAP embedding (ll, silhouette, size entropy,
labels) plus the library's first fit and refit; stop after the teachers. Labels only scored offline.

    python rec.py DATASET SEED CONTRASTIVE_STEPS [LIMIT]     (writes rec_DATASET_SEED_STEPS.npz here)
WARM_VAE: a folder of cached shared VAEs (a cache's shared_vae/) to start from; optional."""
import sys, time, shutil, os, numpy as np, torch
from sklearn.mixture import GaussianMixture
from sklearn.metrics import silhouette_score
from fairclust import DeepFairClustering
from fairclust.data import load_dataset
from fairclust import teachers, pretrain
torch.set_num_threads(2)
ds_name, seed, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
d = load_dataset(ds_name, **({"limit": limit} if limit else {}))
cache = f"cache_{ds_name}_{seed}_{steps}"
shutil.rmtree(cache, ignore_errors=True); os.makedirs(cache)
if os.environ.get("WARM_VAE"):
    shutil.copytree(os.environ["WARM_VAE"], cache + "/shared_vae")
rec = {}
calls = []
orig = teachers.UmapGmm.refit_mixture
def refit(self, restarts, seed_):
    g = len(calls); calls.append(g)
    E = self.E_fit; n = len(E); K = self.n_clusters
    first = self.fit_labels.copy()
    sub = np.random.default_rng(seed_).permutation(n)[:2000]
    rows, labs = [], []
    for r in range(30):
        gm = GaussianMixture(K, covariance_type="full", n_init=1, reg_covar=self.gmm.reg_covar, random_state=1000 * seed_ + r).fit(E)
        lab = gm.predict(E); sizes = np.bincount(lab, minlength=K) / n
        sil = silhouette_score(E[sub], lab[sub]) if len(np.unique(lab[sub])) > 1 else -1
        rows.append((gm.score(E), sil, -(sizes * np.log(sizes + 1e-12)).sum(), sizes.min() * K))
        labs.append(lab.astype(np.int8))
    out = orig(self, restarts, seed_)
    rec[g] = dict(E=E.astype(np.float32), fit_idx=self.fit_idx, rows=np.array(rows), labs=np.array(labs), first=first.astype(np.int8), refit=self.fit_labels.astype(np.int8), refit_ll=self.gmm.score(E))
    return out
teachers.UmapGmm.refit_mixture = refit
class Stop(Exception): pass
orig_t = pretrain.Pretrainer._umap_teachers
holder = {}
def ut(self, *a, **k):
    P = orig_t(self, *a, **k); holder["choice"] = self.teacher_choice; holder["codes"] = self.codes.copy(); holder["P"] = P; raise Stop()
pretrain.Pretrainer._umap_teachers = ut
class Tuned(DeepFairClustering):
    def _config(self):
        return super()._config().replace(contrastive_steps=steps)
m = Tuned(d.n_classes, random_state=seed, cache_dir=cache)
t0 = time.time()
try:
    m.fit(d.X, sensitive_features=d.sensitive)
except Stop:
    pass
codes = holder["codes"]; y = np.asarray(d.y)
save = {"y": y, "codes": codes, "kinds": np.array([c["kind"] for c in holder["choice"]])}
for g, r in rec.items():
    members = np.flatnonzero(codes == g)
    for k2, v in r.items():
        save[f"g{g}_{k2}"] = v
    save[f"g{g}_yfit"] = y[members][r["fit_idx"]]
np.savez_compressed(f"rec_{ds_name}_{seed}_{steps}.npz", **save)
print(ds_name, seed, steps, "kinds", save["kinds"], "%.0f s" % (time.time() - t0), flush=True)
