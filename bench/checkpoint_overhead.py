"""Cost of DFC's training checkpoints, as a share of the training time they protect.

Times one ``DFCTrainer.step`` (conv encoder, 32x32 images, b per group, 2 groups) and one
``Checkpointer.save`` (model, Adam state, a sampler over N samples, RNG states, history)
in the same process, and prints the overhead at the default ``checkpoint_every=100``.

    python bench/checkpoint_overhead.py [--n 120000] [--batch 128] [--every 100]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch

from fairclust.checkpoint import Checkpointer
from fairclust.config import DFCConfig
from fairclust.methods.dfc_training import DFCTrainer
from fairclust.nn import make_encoder
from fairclust.sampling import BalancedSampler
from fairclust.schedule import make_schedule


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=120_000, help="samples (sampler state size); 120,000 = reverse-mnist")
    ap.add_argument("--batch", type=int, default=128, help="samples per group per batch")
    ap.add_argument("--every", type=int, default=100, help="iterations between checkpoints")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.manual_seed(0)
    k, m = 10, 2
    trainer = DFCTrainer(make_encoder((1, 32, 32), 64), np.random.rand(k, 64), m, DFCConfig.resolve("default"),
                         make_schedule(DFCConfig.resolve("default"), [10 * args.batch] * m))
    x = torch.rand(m * args.batch, 1, 32, 32)
    p = torch.softmax(torch.rand(m * args.batch, k), 1)
    g = torch.arange(m).repeat_interleave(args.batch)
    trainer.step(0, x, p, g)  # warm-up
    t0 = time.perf_counter()
    for i in range(args.repeats):
        trainer.step(i, x, p, g)
    step = (time.perf_counter() - t0) / args.repeats
    sampler = BalancedSampler(np.repeat(np.arange(m), args.n // m), args.batch, 0)
    history = {"iteration": list(range(1000)), "loss": [1.0] * 1000, "evals": []}
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Checkpointer(os.path.join(tmp, "ckpt.pt"), every=args.every, key="bench")
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            ckpt.save(args.every, trainer, sampler, history, [])
        save = (time.perf_counter() - t0) / args.repeats
        size = os.path.getsize(ckpt.path) / 1e6
    print(f"threads {torch.get_num_threads()}; one step (2 x {args.batch} images 32x32): {1000 * step:.0f} ms; "
          f"one checkpoint ({size:.1f} MB, sampler over {args.n:,} samples): {1000 * save:.0f} ms")
    print(f"checkpoint / step = {save / step:.3f}; overhead every {args.every} iterations = "
          f"{100 * save / (args.every * step):.2f}% of training time")


if __name__ == "__main__":
    main()
