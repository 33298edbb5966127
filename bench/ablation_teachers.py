"""Teachers x matching, before any DFC training (docs/results.md, "Teachers and matching").

For each data set (one seed): the shared VAE of the default recipe, then per group the
UMAP + GMM teacher on the input (``umap``) and on the VAE's embedding (``vae-umap``), each
with its within-group accuracy, silhouette and seconds, and which one ``auto`` keeps. Then,
for every teacher kind x matching kind: the fraction of clusters matched to the right
partner (majority class per cluster; labels only score), the matched teachers' accuracy
over all samples and their Balance. Prints markdown tables.

    python bench/ablation_teachers.py --datasets digits-reverse,reverse-mnist5k,mnist-digits,mnist-usps-mini
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from quality import right_matches  # noqa: E402  (bench/ is the working directory's sibling)

from fairclust import metrics
from fairclust.align import KINDS, align_teachers
from fairclust.cache import StageCache
from fairclust.config import DFCConfig
from fairclust.data import load_dataset
from fairclust.embedding import embed
from fairclust.pretrain import Pretrainer
from fairclust.teachers import umap_gmm_scored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="digits-reverse,reverse-mnist5k,mnist-digits,mnist-usps-mini")
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    teach_rows, match_rows = [], []
    for name in args.datasets.split(","):
        ds = load_dataset(name)
        codes = np.unique(ds.sensitive, return_inverse=True)[1].astype(np.int64)
        k = ds.n_classes
        X = torch.from_numpy(ds.X)
        t0 = time.perf_counter()
        pre = Pretrainer(X, codes, DFCConfig.resolve("default"), args.seed, torch.device("cpu"), StageCache(False))
        encoder, _ = pre.shared_encoder()
        spaces = {"umap": ds.X, "vae-umap": embed(encoder, X, torch.device("cpu")).numpy()}
        t_vae = time.perf_counter() - t0
        P = {kind: np.zeros((len(codes), k), dtype=np.float32) for kind in ("umap", "vae-umap", "auto")}
        for g in np.unique(codes):
            m = codes == g
            scored = {}
            for kind, Z in spaces.items():
                t = time.perf_counter()
                Pg, sil = umap_gmm_scored(Z[m], k, args.seed)
                scored[kind] = (Pg, sil, time.perf_counter() - t)
                P[kind][m] = Pg
            best = max(scored, key=lambda kind: scored[kind][1])
            P["auto"][m] = scored[best][0]
            teach_rows.append(
                f"| {name} | {ds.group_names[g] if ds.group_names else g} | "
                + " | ".join(f"{metrics.accuracy(ds.y[m], scored[kind][0].argmax(1)):.3f} "
                             f"(sil {scored[kind][1]:.2f}, {scored[kind][2]:.0f} s)" for kind in spaces)
                + f" | {best} |")
        for kind, Pk in P.items():
            for how in KINDS:
                t = time.perf_counter()
                aligned, _ = align_teachers(ds.X, Pk, codes, kind=how, seed=args.seed)
                sec = time.perf_counter() - t
                lab = aligned.argmax(1)
                match_rows.append(f"| {name} | {kind} | {how} | {right_matches(ds.y, lab, codes, k):.2f} | "
                                  f"{metrics.accuracy(ds.y, lab):.3f} | {metrics.balance(lab, sensitive_features=codes):.3f} "
                                  f"(max {metrics.balance_max(codes):.3f}) | {sec:.2f} |")
        print(f"{name}: shared VAE {t_vae:.0f} s", flush=True)
    print("\n| data set | group | umap: within-group Acc (silhouette, s) | vae-umap: within-group Acc (silhouette, s) | auto keeps |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(teach_rows))
    print("\n| data set | teachers | matching | right matches | matched teachers' Acc | their Balance | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(match_rows))


if __name__ == "__main__":
    main()
