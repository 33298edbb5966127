"""USPS group: SimCLR (800 @ 16) -> UMAP (all 2,007) -> 30 single-start mixtures: likelihood vs silhouette vs accuracy."""
import sys, numpy as np, torch
from sklearn.mixture import GaussianMixture
from sklearn.metrics import silhouette_score
from fairclust import DeepFairClustering, metrics
from fairclust.data import load_dataset
from fairclust.teachers import UmapGmm, umap_gmm_options
from fairclust.contrastive import contrastive_embedding
ds, seed, g = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = load_dataset(ds, **({"limit": int(sys.argv[4])} if len(sys.argv) > 4 else {}))
m = DeepFairClustering(10, random_state=seed)
cfg = m._config()
X, codes = m._validate_fit(d.X, d.sensitive, cfg.fairness)
X = m._fit_scaler(X)
mem = codes == g; y = np.asarray(d.y)[mem]
H = contrastive_embedding(X[mem], 800, seed + g)
f = UmapGmm(H, 10, seed, max_samples=20000, **umap_gmm_options(cfg))
E = f.E_fit
rows = []
for r in range(30):
    gm = GaussianMixture(10, covariance_type="full", n_init=1, reg_covar=cfg.gmm_reg_covar, random_state=1000 * seed + r).fit(E)
    lab = gm.predict(E)
    sizes = np.bincount(lab, minlength=10) / len(lab)
    rows.append((gm.score(E), silhouette_score(E, lab, sample_size=min(len(E), 2000), random_state=0), -(sizes * np.log(sizes + 1e-12)).sum(), metrics.accuracy(y, lab)))
rows = np.array(rows)
print(ds, seed, g, "likeliest acc %.3f | best silhouette acc %.3f | highest size entropy acc %.3f | acc range %.3f-%.3f, share >= 0.9: %.2f" % (
    rows[rows[:, 0].argmax(), 3], rows[rows[:, 1].argmax(), 3], rows[rows[:, 2].argmax(), 3], rows[:, 3].min(), rows[:, 3].max(), (rows[:, 3] >= 0.9).mean()))
print("corr(ll, acc) %.2f corr(sil, acc) %.2f corr(entropy, acc) %.2f" % tuple(np.corrcoef(rows[:, i], rows[:, 3])[0, 1] for i in range(3)))
