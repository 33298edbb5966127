"""The cross-group matching's confidence against whether it paired right (docs/results.md).

    python bench/matching_confidence.py   # the default recipe's cached teachers, seeds 0-2, 3 embedded sets
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from fairclust.align import align_teachers, canonical_frame
from fairclust.cache import StageCache
from fairclust.config import resolve
from fairclust.data import load_dataset
from fairclust.metrics import factorize
from fairclust.pretrain import Pretrainer


def main() -> None:
    torch.set_num_threads(1)
    from ablation_matching import right_pairs  # this script's folder is on sys.path

    for name in ("mnist-digits", "mnist-usps-mini", "digits-reverse"):
        ds = load_dataset(name)
        codes, y = factorize(np.asarray(ds.sensitive))[1], factorize(np.asarray(ds.y))[1]
        for seed in (0, 1, 2):
            pre = Pretrainer(torch.from_numpy(ds.X), codes, resolve("default"), seed, torch.device("cpu"),
                             StageCache(None))
            enc, key = pre.shared_encoder()
            P = pre.teacher_assignments(10, enc, key)
            for space, Xs in (("input", ds.X), ("canonical", canonical_frame(ds.X))):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    Pa, rec = align_teachers(Xs, P, codes, kind="features", seed=seed)
                c = [r for r in rec if not r["reference"]][0]["confidence"]
                print(name, seed, space, f"right {right_pairs(Pa, codes, y):.1f}", c, flush=True)


if __name__ == "__main__":
    main()
