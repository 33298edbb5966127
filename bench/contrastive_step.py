"""The cost of one SimCLR update (fairclust.contrastive) with channels-last tensors (the library's) against
PyTorch's default NCHW layout, measured side by side in one process (docs/benchmarks.md).

    python bench/contrastive_step.py --threads 2 --sides 8,16 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from fairclust.contrastive import CONTRASTIVE_BATCH, CONTRASTIVE_FEATURES, _image_encoder, image_view, nt_xent


def seconds_per_update(side: int, channels_last: bool, updates: int) -> float:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.rand(CONTRASTIVE_BATCH, 1, side, side)
    encoder = _image_encoder(1).to(memory_format=fmt)
    head = nn.Sequential(nn.Linear(CONTRASTIVE_FEATURES, CONTRASTIVE_FEATURES), nn.ReLU(), nn.Linear(CONTRASTIVE_FEATURES, 64))
    opt = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), 1e-3)

    def update() -> None:
        v1 = image_view(x, gen).contiguous(memory_format=fmt)
        v2 = image_view(x, gen).contiguous(memory_format=fmt)
        loss = nt_xent(head(encoder(v1)), head(encoder(v2)))
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):  # warm-up
        update()
    t0 = time.perf_counter()
    for _ in range(updates):
        update()
    return (time.perf_counter() - t0) / updates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sides", default="8,16", help="image sides in pixels (the library sees at most 16)")
    ap.add_argument("--updates", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"| side | NCHW s/update | channels-last s/update | ratio |  (batch {CONTRASTIVE_BATCH}, {args.threads} threads, "
          f"medians of {args.repeats})")
    print("| --- | --- | --- | --- |")
    for side in (int(s) for s in args.sides.split(",")):
        base, fast = [], []
        for _ in range(args.repeats):  # interleaved, so that machine noise hits both alike
            base.append(seconds_per_update(side, False, args.updates))
            fast.append(seconds_per_update(side, True, args.updates))
        b, f = statistics.median(base), statistics.median(fast)
        print(f"| {side} | {b:.4f} | {f:.4f} | {b / f:.2f}x |")


if __name__ == "__main__":
    main()
