"""One group: each auto candidate alone and concatenations of their spaces (each block PCA <= 50, scaled to unit
total variance) -> UMAP + GMM (30-restart refit). Silhouette (selection subset rule) and accuracy."""
import sys, time, numpy as np, torch
from sklearn.decomposition import PCA
from fairclust import DeepFairClustering, metrics
from fairclust.data import load_dataset
from fairclust.pretrain import Pretrainer
from fairclust.cache import StageCache
from fairclust.teachers import UmapGmm, umap_gmm_options
from fairclust.contrastive import contrastive_embedding
from fairclust.utils import seed_everything

ds, seed, g = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = load_dataset(ds, **({"limit": int(sys.argv[4])} if len(sys.argv) > 4 else {}))
m = DeepFairClustering(10, random_state=seed, cache_dir="/work/measure/s7/cache")
cfg = m._config()
X, codes = m._validate_fit(d.X, d.sensitive, cfg.fairness)
seed = m._fit_seed(); Xt = torch.from_numpy(m._fit_scaler(X)); seed_everything(seed)
pre = Pretrainer(Xt, codes, cfg, seed, torch.device("cpu"), StageCache(m.cache_dir), input_scale=m.scaler_scale_)
enc, key = pre.shared_encoder()
mem = codes == g; y = np.asarray(d.y)[mem]
t = time.time()
sp = {"umap": pre.X.numpy()[mem].reshape(mem.sum(), -1), "vae-umap": pre.embedding(enc)[mem],
      "canonical": pre.canonical()[mem].reshape(mem.sum(), -1),
      "contrastive": contrastive_embedding(pre.X.numpy()[mem], 800, seed + g)}
print("contrastive %.0fs" % (time.time() - t), flush=True)
def block(Z):
    Z = Z.astype(np.float32)
    if Z.shape[1] > 50: Z = PCA(50, random_state=seed).fit_transform(Z)
    Z = Z - Z.mean(0)
    return Z / np.sqrt((Z ** 2).sum(1).mean())
combos = {n: [n] for n in sp}
# the first runs (USPS seeds 0-2) also had "contrastive+canonical" and "all"; the later ones left them out
combos.update({"contrastive+umap": ["contrastive", "umap"], "contrastive+canonical": ["contrastive", "canonical"],
               "contrastive+vae": ["contrastive", "vae-umap"], "all": list(sp)})
opts = umap_gmm_options(cfg)
for name, parts in combos.items():
    Z = sp[name] if len(parts) == 1 else np.concatenate([block(sp[p]) for p in parts], 1)
    f = UmapGmm(Z, 10, seed, max_samples=cfg.teacher_select_samples, **opts)
    a1 = metrics.accuracy(y[f.fit_idx], f.fit_labels)
    f.refit_mixture(30, seed)
    print(f"{ds} s{seed} g{g} {name:22s} sil {f.score:.3f} first {a1:.3f} refit {metrics.accuracy(y[f.fit_idx], f.fit_labels):.3f}", flush=True)
