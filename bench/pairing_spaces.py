"""The teachers' pairing across groups in several spaces, on the same teachers (docs/results.md, "The groups'
clusters paired in the shared SimCLR space").

For every data set x seed: the default recipe's teachers (from ``--cache-dir`` where they are there), then
``align_teachers`` with transfer in the canonical frame, and features / fused / transfer on the shared SimCLR
features; per pairing the fraction of clusters whose majority class is the same in every group, the paired
teachers' accuracy (labels used only to score), the confidence z of each pairing and its seconds. One JSON line per
data set and seed to stdout.

    python bench/pairing_spaces.py --datasets mnist-digits,three-sources-mini --seeds 0,1,2 --cache-dir C
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from fairclust import metrics
from fairclust.align import align_teachers
from fairclust.data import load_dataset
from quality import default_pretrainer, right_matches  # bench/quality.py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="mnist-digits,three-sources-mini")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--cache-dir", required=True, help="pretraining cache (the shared VAE and teachers are reused)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for name in a.datasets.split(","):
        ds = load_dataset(name)
        k = ds.n_classes
        for seed in (int(s) for s in a.seeds.split(",")):
            _, _, codes, pre = default_pretrainer(ds, seed, a.cache_dir)
            encoder, key = pre.shared_encoder()
            P = pre.teacher_assignments(k, encoder, key)
            row = {"set": name, "seed": seed}
            C = pre.contrastive_space(k)
            for label, space, kind in (("transfer@canonical", pre.canonical(), "transfer"),
                                       ("features@contrastive", C, "features"), ("fused@contrastive", C, "fused"),
                                       ("transfer@contrastive", C, "transfer")):
                t = time.perf_counter()
                aligned, records = align_teachers(space, P, codes, kind=kind, seed=seed)
                row[label] = {"right": right_matches(ds.y, aligned.argmax(1), codes, k),
                              "accuracy": metrics.accuracy(ds.y, aligned.argmax(1)),
                              "z": [r["confidence"]["z"] for r in records if "confidence" in r],
                              "seconds": round(time.perf_counter() - t, 1)}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
