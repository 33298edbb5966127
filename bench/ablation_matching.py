"""Which representation pairs the teachers' clusters right across groups (issue 19).

For each data set: the default recipe's per-group teachers (cached), then the cross-group
matching computed from cluster centroids in several spaces: the input (``features`` /
``fused``, both contrast signs), the shared VAE's embedding, and the embedding of a VAE
whose decoder is given the group (``condition``: the latent need not encode a source's
style). Labels only score: the fraction of the reference's clusters whose partner has the
same majority class, and the accuracy of the matched teachers.

    python bench/ablation_matching.py --datasets mnist-usps-mini,mnist-digits,digits-reverse --seed 0
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from fairclust import metrics
from fairclust.align import align_teachers, centroids
from fairclust.cache import StageCache
from fairclust.canonical import canonical_frame
from fairclust.config import DFCConfig
from fairclust.data import load_dataset
from fairclust.embedding import embed
from fairclust.metrics import factorize
from fairclust.nn import make_encoder
from fairclust.pretrain import Pretrainer, train_vae


def right_pairs(P: np.ndarray, codes: np.ndarray, y: np.ndarray) -> float:
    """Fraction of (reference cluster, partner) pairs with the same majority class (labels score only)."""
    ref = int(np.argmax(np.bincount(codes)))
    lab = P.argmax(1)
    k = P.shape[1]

    def majority(g):
        m = codes == g
        return np.array([np.bincount(y[m][lab[m] == j], minlength=int(y.max()) + 1).argmax()
                         if (lab[m] == j).any() else -1 for j in range(k)])
    maj_ref = majority(ref)
    fr = [np.mean(majority(g) == maj_ref) for g in np.unique(codes) if g != ref]
    return float(np.mean(fr))


def latent_match(Z: np.ndarray, P: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Match each group's clusters to the reference's by group-centred latent centroids (cosine), one sign."""
    ref = int(np.argmax(np.bincount(codes)))
    out = P.copy()
    m_ref = codes == ref
    C_ref = centroids(Z[m_ref], P[m_ref])
    C_ref = C_ref - Z[m_ref].mean(0)
    for g in np.unique(codes):
        if g == ref:
            continue
        m = codes == g
        C = centroids(Z[m], P[m]) - Z[m].mean(0)
        sim = (C_ref / np.linalg.norm(C_ref, axis=1, keepdims=True)) @ (C / np.linalg.norm(C, axis=1, keepdims=True)).T
        perm = linear_sum_assignment(sim, maximize=True)[1]
        out[m] = P[m][:, perm]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", default="mnist-usps-mini")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10, help="epochs of the conditioned VAE")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-conditioned", action="store_true", help="skip the conditioned VAE (minutes)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = DFCConfig.resolve("default")
    dev = torch.device("cpu")
    for name in args.datasets.split(","):
        ds = load_dataset(name)
        codes = factorize(np.asarray(ds.sensitive))[1]
        y = factorize(np.asarray(ds.y))[1]
        K = int(y.max()) + 1
        Xt = torch.from_numpy(ds.X)
        pre = Pretrainer(Xt, codes, cfg, args.seed, dev, StageCache(None), verbose=False)
        enc, key = pre.shared_encoder()
        P = pre.teacher_assignments(K, enc, key)
        rows = {}
        for kind in ("features", "fused"):
            Pa, _ = align_teachers(Xt.numpy(), P, codes, kind=kind, seed=args.seed)
            rows[f"input/{kind}"] = Pa
        rows["vae/latent"] = latent_match(pre.embedding(enc), P, codes)
        Xc = canonical_frame(ds.X)
        for kind in ("features", "fused"):
            rows[f"canonical/{kind}"] = align_teachers(Xc, P, codes, kind=kind, seed=args.seed)[0]
        if not args.no_conditioned:
            rows.update(conditioned(Xt, codes, P, cfg, args, dev))
        within = [metrics.accuracy(y[codes == g], P[codes == g].argmax(1)) for g in np.unique(codes)]
        print(f"## {name} seed {args.seed}: teachers within groups {' / '.join(f'{w:.3f}' for w in within)}")
        for r, Pa in rows.items():
            print(f"| {name} | {r} | right pairs {right_pairs(Pa, codes, y):.2f} | "
                  f"matched teachers acc {metrics.accuracy(y, Pa.argmax(1)):.3f} |", flush=True)


def conditioned(Xt, codes, P, cfg, args, dev) -> dict:
    """Matchings on the embedding of a VAE whose decoder reads the group."""
    t0 = time.perf_counter()
    state = train_vae(Xt, codes, cfg, args.seed, dev, epochs=args.epochs, desc="cond VAE", verbose=False,
                      condition=True)
    print(f"(conditioned VAE: {time.perf_counter() - t0:.0f} s)")
    enc_c = make_encoder(tuple(Xt.shape[1:]), cfg.latent_dim, cfg.center_input)
    enc_c.load_state_dict(state)
    Zc = embed(enc_c, Xt, dev).numpy()
    return {"cond-vae/latent": latent_match(Zc, P, codes),
            "cond-vae/fused": align_teachers(Zc, P, codes, kind="fused", seed=args.seed)[0]}


if __name__ == "__main__":
    main()
