"""The cost of one update of the library's convolutional networks with channels-last tensors (the library's layout)
against PyTorch's default NCHW, measured side by side in one process (docs/benchmarks.md):

* ``simclr``: the SimCLR encoder of the contrastive teacher candidate (:mod:`fairclust.contrastive`): two views of
  256 images at ``--sides`` pixels, NT-Xent;
* ``vae``: the shared VAE's pretraining (:func:`fairclust.pretrain.train_vae`): the conv encoder and its mirrored
  decoder on 256 images of 32 x 32 (two groups of 128, the default batch), Bernoulli reconstruction + KL.

    python bench/layout_step.py --nets simclr,vae --threads 2 --sides 8,16 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch
from torch import nn

from fairclust.contrastive import CONTRASTIVE_BATCH, CONTRASTIVE_FEATURES, _image_encoder, image_view, nt_xent
from fairclust.losses import vae_loss
from fairclust.nn import make_decoder, make_encoder, nhwc, nhwc_input, sample_z


def simclr_update(side: int, channels_last: bool) -> Callable[[], None]:
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
    return update


def vae_update(side: int, channels_last: bool) -> Callable[[], None]:
    x = torch.rand(256, 1, side, side)
    enc, dec = make_encoder((1, side, side), 64, center_input=True), make_decoder((1, side, side), 64)
    if channels_last:
        nhwc(enc, dec)
        x = nhwc_input(x)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), 1e-3)

    def update() -> None:
        mu, logvar = enc(x)
        loss = vae_loss(x, dec(sample_z(mu, logvar, True)), mu, logvar, "bce", 1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return update


NETS = {"simclr": simclr_update, "vae": vae_update}


def seconds_per_update(net: str, side: int, channels_last: bool, updates: int) -> float:
    torch.manual_seed(0)
    update = NETS[net](side, channels_last)
    for _ in range(3):  # warm-up
        update()
    t0 = time.perf_counter()
    for _ in range(updates):
        update()
    return (time.perf_counter() - t0) / updates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default="simclr,vae", help=f"comma-separated, of {', '.join(NETS)}")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sides", default="8,16", help="SimCLR's image sides in pixels (the library sees at most 16); "
                    "the VAE's images are 32 x 32")
    ap.add_argument("--updates", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    nets = args.nets.split(",")
    unknown = sorted(set(nets) - set(NETS))
    if unknown:
        raise SystemExit(f"unknown net(s) {', '.join(unknown)}: choose from {', '.join(NETS)}")
    torch.set_num_threads(args.threads)
    print(f"| net | side | NCHW s/update | channels-last s/update | ratio |  (batch 256, {args.threads} threads, "
          f"medians of {args.repeats})")
    print("| --- | --- | --- | --- | --- |")
    for net in nets:
        for side in [int(s) for s in args.sides.split(",")] if net == "simclr" else [32]:
            base, fast = [], []
            for _ in range(args.repeats):  # interleaved, so that machine noise hits both alike
                base.append(seconds_per_update(net, side, False, args.updates))
                fast.append(seconds_per_update(net, side, True, args.updates))
            b, f = statistics.median(base), statistics.median(fast)
            print(f"| {net} | {side} | {b:.4f} | {f:.4f} | {b / f:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
