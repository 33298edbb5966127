"""Per group, every auto candidate fitted on the capped group (+ mixture refit); dump P per candidate,
silhouettes (selection subset), canonical space, labels -> npz for offline choice rules."""
import sys, json, time, numpy as np, torch
from fairclust import DeepFairClustering
from fairclust.data import load_dataset
from fairclust.pretrain import Pretrainer
from fairclust.cache import StageCache
from fairclust.teachers import UmapGmm, umap_gmm_options
from fairclust.utils import seed_everything

ds, seed, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
kw = {"limit": limit} if limit else {}
d = load_dataset(ds, **kw)
m = DeepFairClustering(10, contrastive_steps=steps, random_state=seed, cache_dir="/work/measure/s7/cache")
cfg = m._config()
X, codes = m._validate_fit(d.X, d.sensitive, cfg.fairness)
seed = m._fit_seed()
Xt = torch.from_numpy(m._fit_scaler(X))
seed_everything(seed)
pre = Pretrainer(Xt, codes, cfg, seed, torch.device("cpu"), StageCache(m.cache_dir), input_scale=m.scaler_scale_)
t = time.time()
enc, key = pre.shared_encoder()
spaces = {"umap": pre.X.numpy(), "vae-umap": pre.embedding(enc), "canonical": pre.canonical()}
if steps:
    spaces["contrastive"] = pre.contrastive_space(10)
print("spaces", time.time() - t, flush=True)
opts = umap_gmm_options(cfg)
out = {"y": np.asarray(d.y), "codes": codes, "canonical": spaces["canonical"], "input": pre.input_space()}
sil = {}
for g in range(codes.max() + 1):
    mem = codes == g
    for name, S in spaces.items():
        f = UmapGmm(S[mem], 10, seed, max_samples=cfg.teacher_select_samples, **opts)
        sil[f"{g}/{name}"] = f.score
        out[f"idx_{g}"] = np.flatnonzero(mem)[f.fit_idx]
        out[f"S_{g}_{name}"] = f.gmm.predict_proba(f.E_fit).astype(np.float32)
        from fairclust import metrics
        print(g, name, "sil %.3f" % f.score, "acc(sub) %.3f" % metrics.accuracy(np.asarray(d.y)[out[f"idx_{g}"]], f.fit_labels), flush=True)
out["sil"] = json.dumps(sil)
np.savez_compressed(f"/work/measure/s7/{ds}_{seed}_{steps}.npz", **out)
print("total", time.time() - t)
