"""Issue 19 ablation: DFC default recipe at lr 1e-2 vs 3e-3 on the quality test's small setting
(digits-reverse pooled to 8x8, latent 10, T = 500 at b = 64), seeds 0-2, one thread. docs/results.md.

    python bench/ablation_lr_small.py
"""
import torch
from torch.nn import functional as F
from fairclust import DeepFairClustering, metrics
from fairclust.data import load_dataset
torch.set_num_threads(1)
ds = load_dataset("digits-reverse"); X = F.avg_pool2d(torch.from_numpy(ds.X), 4).numpy(); y, g = ds.y, ds.sensitive
for seed in (0, 1, 2):
    for lr in (0.01, 0.003):
        m = DeepFairClustering(10, recipe="default", random_state=seed, cache_dir=None, pretrain_epochs=20, latent_dim=10, n_iters=500, batch_size=64, lr=lr, verbose=False)
        m.fit(X, y, sensitive_features=g)
        r = metrics.report(m.labels_, sensitive_features=g, labels_true=y, n_clusters=10)
        am = metrics.report(m.predict(X), sensitive_features=g, labels_true=y, n_clusters=10)
        t = metrics.accuracy(y, m.teacher_labels_)
        print(seed, lr, f"acc {r['accuracy']:.3f} nonempty {r['n_nonempty_clusters']} argmax nonempty {am['n_nonempty_clusters']} teachers {t:.3f}", flush=True)
