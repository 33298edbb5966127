"""Where the per-group teachers lose, and what more restarts of their mixture give (docs/results.md,
"The teachers' mixture"). Labels only score.

    python bench/teacher_mixture.py ceiling --datasets mnist-usps-mini,mnist-digits --seeds 0,1 --cache-dir C
    python bench/teacher_mixture.py restarts --datasets digits-reverse,mnist-usps-mini,mnist-digits,three-sources-mini \
        --seeds 0,1,2 --cache-dir C --out restarts.jsonl
    python bench/teacher_mixture.py choose --runs restarts.jsonl

``ceiling``: per group and space (shared VAE, input), a 10-nearest-neighbour vote (5-fold) in the space and
in its UMAP embedding (how well the space holds the classes) against the partitions of the Gaussian mixture
(the teacher), k-means, Ward, single linkage and spectral clustering on that UMAP embedding.
``restarts``: per group and candidate space (whole-group fits), the mixture's accuracy, log-likelihood and
silhouette with 3, 10 and 30 restarts on the same UMAP embedding. ``choose``: rules for the teacher ``auto``
keeps, from those runs (space by the silhouette of 3 or 30 restarts, partition of 3 or 30 restarts).
The shared VAE is the default recipe's, from ``--cache-dir`` (trained there when missing).
"""
from __future__ import annotations

import argparse
import collections
import json
import time
import warnings

import numpy as np


def _groups(name: str, seed: int, cache_dir: str, canonical: bool, limit: int | None = None):
    import torch

    from fairclust.cache import StageCache
    from fairclust.config import DFCConfig
    from fairclust.data import load_dataset
    from fairclust.pretrain import Pretrainer

    ds = load_dataset(name, limit=limit)
    codes = np.unique(ds.sensitive, return_inverse=True)[1].astype(np.int64)
    cfg = DFCConfig.resolve("default")
    pre = Pretrainer(torch.from_numpy(ds.X), codes, cfg, seed, torch.device("cpu"), StageCache(cache_dir))
    encoder, _ = pre.shared_encoder()
    spaces = {"vae": pre.embedding(encoder), "input": ds.X.reshape(len(ds.X), -1)}
    if canonical and ds.X.ndim == 4:
        spaces["canonical"] = pre.canonical()
    return ds, codes, cfg, spaces


def ceiling(args: argparse.Namespace) -> None:
    from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    from fairclust import metrics
    from fairclust.teachers import UmapGmm, umap_gmm_options

    for name in args.datasets.split(","):
        for seed in map(int, args.seeds.split(",")):
            ds, codes, cfg, spaces = _groups(name, seed, args.cache_dir, canonical=False, limit=args.limit)
            k = ds.n_classes
            for g in np.unique(codes):
                m = codes == g
                y = ds.y[m]
                for space, Z in spaces.items():
                    f = UmapGmm(Z[m], k, seed, **umap_gmm_options(cfg))
                    U = f.E_fit
                    knn = KNeighborsClassifier(10)
                    row = {"set": name, "seed": seed, "group": int(g), "space": space,
                           "knn_space": cross_val_score(knn, f.Z, y, cv=5).mean(),
                           "knn_umap": cross_val_score(knn, U, y, cv=5).mean(),
                           "gmm": metrics.accuracy(y, f.fit_labels),
                           "kmeans": metrics.accuracy(y, KMeans(k, n_init=10, random_state=seed).fit_predict(U)),
                           "ward": metrics.accuracy(y, AgglomerativeClustering(k).fit_predict(U)),
                           "single": metrics.accuracy(y, AgglomerativeClustering(k, linkage="single").fit_predict(U)),
                           "spectral": metrics.accuracy(y, SpectralClustering(
                               k, affinity="nearest_neighbors", n_neighbors=15, random_state=seed).fit_predict(U))}
                    _emit(row, args.out)


RESTARTS = (3, 10, 30)


def restarts(args: argparse.Namespace) -> None:
    from sklearn.metrics import silhouette_score
    from sklearn.mixture import GaussianMixture

    from fairclust import metrics
    from fairclust.teachers import UmapGmm, umap_gmm_options

    for name in args.datasets.split(","):
        for seed in map(int, args.seeds.split(",")):
            ds, codes, cfg, spaces = _groups(name, seed, args.cache_dir, canonical=True, limit=args.limit)
            opts, k = umap_gmm_options(cfg), ds.n_classes
            for g in np.unique(codes):
                m = codes == g
                for space, Z in spaces.items():
                    f = UmapGmm(Z[m], k, seed, max_samples=cfg.teacher_max_samples, **opts)
                    U, y = f.E_fit, ds.y[m][f.fit_idx]
                    sub = np.random.default_rng(seed).permutation(len(U))[:2000]
                    row = {"set": name, "seed": seed, "group": int(g), "space": space, "n": len(U)}
                    for n in RESTARTS:
                        t = time.perf_counter()
                        gm = GaussianMixture(k, covariance_type="full", n_init=n, reg_covar=opts["reg_covar"],
                                             random_state=seed).fit(U)
                        labels = gm.predict(U)
                        row.update({f"acc{n}": metrics.accuracy(y, labels), f"ll{n}": gm.score(U),
                                    f"sil{n}": float(silhouette_score(U[sub], labels[sub])),
                                    f"t{n}": time.perf_counter() - t})
                    _emit(row, args.out)


def choose(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for line in open(args.runs)]
    by = collections.defaultdict(dict)
    for r in rows:
        by[(r["set"], r["seed"], r["group"])][r["space"]] = r
    rules = {
        "space by silhouette, 3 restarts (before)": ("sil3", "acc3"),
        "space by silhouette, 30 restarts": ("sil30", "acc30"),
        "space by silhouette of 3, partition of 30 (now)": ("sil3", "acc30"),
        "space by silhouette of 3, partition of 10": ("sil3", "acc10"),
    }
    sets = sorted({key[0] for key in by})
    print("| rule | " + " | ".join(sets) + " | all groups |")
    print("| --- |" + " --- |" * (len(sets) + 1))
    for label, (pick, score) in rules.items():
        per = {s: [S[max(S, key=lambda sp: S[sp][pick])][score] for key, S in by.items() if key[0] == s] for s in sets}
        every = [v for s in sets for v in per[s]]
        print(f"| {label} | " + " | ".join(f"{np.mean(per[s]):.3f} ({len(per[s])} groups)" for s in sets)
              + f" | {np.mean(every):.3f} |")


def _emit(row: dict, out: str | None) -> None:
    row = {key: round(v, 4) if isinstance(v, float) else v for key, v in row.items()}
    print(row, flush=True)
    if out:
        with open(out, "a") as fh:
            fh.write(json.dumps(row) + "\n")


def main() -> None:
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    for mode in ("ceiling", "restarts"):
        p = sub.add_parser(mode)
        p.add_argument("--datasets", default="mnist-usps-mini,mnist-digits")
        p.add_argument("--seeds", default="0,1,2")
        p.add_argument("--cache-dir", required=True, help="pretraining cache (the default recipe's shared VAE)")
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--out", default=None)
        p.add_argument("--limit", type=int, default=None, help="samples kept per group (seeded), as fairclust run's")
    c = sub.add_parser("choose")
    c.add_argument("--runs", required=True)
    args = ap.parse_args()
    if args.mode != "choose":
        import torch

        torch.set_num_threads(args.threads)
    {"ceiling": ceiling, "restarts": restarts, "choose": choose}[args.mode](args)


if __name__ == "__main__":
    main()
