"""Where FCMI's warm-up lands (issue 29): after every reconstruction-only epoch, k-means on the
representation (accuracy and Balance, the clustering's start) and how well the representation tells the
groups apart (accuracy of the nearest group mean; 0.5 for two equal groups is none).

    python bench/fcmi_warmup.py --dataset reverse-mnist5k --seed 2 --batch 128 --epochs 25 > curve.jsonl

One JSON line per epoch. ``--calm-batch B --calm-updates U`` first runs the default recipe's calm start
(U updates of B samples, whole epochs) and reports those epochs too. One thread.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from fairclust import metrics
from fairclust.data import load_dataset
from fairclust.methods import FCMI
from fairclust.methods.fcmi import calm_length
from fairclust.methods.fcmi_net import FCMINet, changed_share, fit_centroids, represent_all, train_epoch
from fairclust.utils import seed_everything


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="reverse-mnist5k")
    p.add_argument("--limit", type=int, default=None, help="samples per group (seeded)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--calm-batch", type=int, default=0)
    p.add_argument("--calm-updates", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(1)
    ds = load_dataset(args.dataset, limit=args.limit) if args.limit else load_dataset(args.dataset)
    k = len(np.unique(ds.y))
    est = FCMI(k, random_state=args.seed)
    s = est._config()
    X, codes = est._validate_fit(ds.X, ds.sensitive, s.fairness)
    est.tanh_output_ = bool(X.ndim == 4 and X.min() >= 0.0 and X.max() <= 1.0)
    Xt = torch.from_numpy(est._inputs(est._fit_scaler(X)))
    seed_everything(args.seed)
    net = FCMINet(tuple(X.shape[1:]), k, len(est.groups_), est.tanh_output_)
    opt = torch.optim.Adam(net.parameters(), lr=s.lr, betas=s.betas)
    n, cpu, ct = len(X), torch.device("cpu"), torch.from_numpy(codes)
    rng = np.random.default_rng([args.seed, 0])
    calm, calm_batch = calm_length(s.replace(calm_batch=args.calm_batch, calm_updates=args.calm_updates), n)
    prev, updates = None, 0
    for e in range(calm + args.epochs):
        t = time.perf_counter()
        b = calm_batch if e < calm else args.batch
        terms = train_epoch(net, None, opt, Xt, ct, b, n // b, rng, None, s, None, cpu)
        updates += n // b
        H = represent_all(net, Xt, cpu).numpy()
        _, lab = fit_centroids(H, k, s, args.seed + e)
        rep = metrics.report(lab, sensitive_features=codes, labels_true=ds.y)
        means = np.stack([H[codes == g].mean(0) for g in np.unique(codes)])
        print(json.dumps({"dataset": args.dataset, "n": n, "seed": args.seed, "epoch": e + 1, "batch": b,
                          "updates": updates, "kmeans_acc": round(rep["accuracy"], 4),
                          "kmeans_balance": round(rep["balance"], 4),
                          "group_told_apart": round(float(((H @ means.T).argmax(1) == codes).mean()), 3),
                          "changed": None if prev is None else round(changed_share(prev, lab), 4),
                          "L_rec": round(terms["L_rec"], 4), "s": round(time.perf_counter() - t, 1)}), flush=True)
        prev = lab


if __name__ == "__main__":
    main()
