"""DFC ablations on an embedded data set (docs/results.md, "Why the faithful DFC falls short").

    python bench/ablation_dfc.py --dataset digits-reverse --seed 0 --cache-dir /tmp/fc_cache

Every variant shares the cached pretraining of the seed, so only the DFC stage differs.
Prints, per variant: Acc, NMI, Balance, accuracy within each group, the teachers' own accuracy.
"""

import argparse
import json
import time

from fairclust import DeepFairClustering, metrics
from fairclust.data import load_dataset

VARIANTS = [
    {"recipe": "faithful"},
    {"recipe": "faithful", "alpha_f": 0.0},
    {"recipe": "faithful", "alpha_s": 0.0},
    {"recipe": "faithful", "lr": 1e-3},
    {"recipe": "default"},  # the alignment extension
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="digits-reverse")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache-dir", default=None)
    args = ap.parse_args()
    ds = load_dataset(args.dataset)
    for v in VARIANTS:
        t = time.time()
        m = DeepFairClustering(ds.n_classes, random_state=args.seed, cache_dir=args.cache_dir, **v)
        m.fit(ds.X, ds.y, sensitive_features=ds.sensitive)
        r = metrics.report(m.labels_, sensitive_features=ds.sensitive, labels_true=ds.y)
        groups = sorted(set(ds.sensitive.tolist()))
        within = [metrics.accuracy(ds.y[ds.sensitive == g], m.labels_[ds.sensitive == g]) for g in groups]
        teach = [metrics.accuracy(ds.y[ds.sensitive == g], m.teacher_labels_[ds.sensitive == g]) for g in groups]
        print(json.dumps(v), f"acc={r['accuracy']:.3f} nmi={r['nmi']:.3f} bal={r['balance']:.3f}",
              "within=" + "/".join(f"{a:.3f}" for a in within), "teachers=" + "/".join(f"{a:.3f}" for a in teach),
              f"t={time.time() - t:.0f}s", flush=True)


if __name__ == "__main__":
    main()
