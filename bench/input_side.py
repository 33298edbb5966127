"""The networks' iteration cost at each input side, against 32 x 32 in the same run (docs/benchmarks.md, "The
networks at 16 pixels a side").

The default recipe's ``input_side`` (16) resizes images before the shared VAE, DFC and DEC's teachers read them.
This times, on random data (the cost does not depend on the values), for each side:

* one DFC iteration: :meth:`fairclust.methods.dfc_training.DFCTrainer.step` on ``2 x --batch`` images (the
  default recipe's 2 x 128; channels-last, as fits run);
* one VAE pretraining iteration: the SPEC 1.1 encoder and decoder, reconstruction + KL, Adam, on the same batch.

Each is the mean of ``--repeats`` iterations after 5 untimed ones; sides alternate ``--rounds`` times and the
median of the rounds is printed with its ratio to the first side's (32: the paper's).

    python bench/input_side.py --threads 2 --sides 32,24,16
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch.nn import functional as F

from fairclust.config import DFCConfig
from fairclust.methods.dfc_training import DFCTrainer
from fairclust.nn import make_decoder, make_encoder, nhwc, nhwc_input
from fairclust.schedule import make_schedule


def dfc_step_seconds(side: int, batch: int, repeats: int) -> float:
    cfg = DFCConfig.resolve("default")
    trainer = DFCTrainer(make_encoder((1, side, side), cfg.latent_dim, cfg.center_input),
                         np.random.default_rng(0).standard_normal((10, cfg.latent_dim)).astype(np.float32), 2, cfg,
                         make_schedule(cfg, [10_000, 10_000]))
    x = torch.rand(2 * batch, 1, side, side)
    p, g = torch.softmax(torch.randn(2 * batch, 10), 1), torch.arange(2 * batch) // batch
    for t in range(5):
        trainer.step(t, x, p, g)
    t0 = time.perf_counter()
    for t in range(repeats):
        trainer.step(t, x, p, g)
    return (time.perf_counter() - t0) / repeats


def vae_step_seconds(side: int, batch: int, repeats: int) -> float:
    enc, dec = make_encoder((1, side, side), 64, True), make_decoder((1, side, side), 64)
    nhwc(enc, dec)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    x = torch.rand(2 * batch, 1, side, side)
    xin = nhwc_input(x)

    def step() -> None:
        mu, logvar = enc(xin)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()
        loss = F.binary_cross_entropy_with_logits(dec(z), x, reduction="sum") / len(x) + kl
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    t0 = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - t0) / repeats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sides", default="32,24,16")
    ap.add_argument("--batch", type=int, default=128, help="images per group (2 groups)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sides = [int(s) for s in args.sides.split(",")]
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.rounds):
        for side in sides:
            times.setdefault(("dfc", side), []).append(dfc_step_seconds(side, args.batch, args.repeats))
            times.setdefault(("vae", side), []).append(vae_step_seconds(side, args.batch, args.repeats))
    print(f"threads {torch.get_num_threads()}, 2 x {args.batch} images, median of {args.rounds} rounds")
    print("| side | DFC iteration (ms) | vs first | VAE iteration (ms) | vs first |")
    print("| --- | --- | --- | --- | --- |")
    ref = {k: statistics.median(times[(k, sides[0])]) for k in ("dfc", "vae")}
    for side in sides:
        d, v = statistics.median(times[("dfc", side)]), statistics.median(times[("vae", side)])
        print(f"| {side} | {1e3 * d:.0f} | {d / ref['dfc']:.2f} | {1e3 * v:.0f} | {v / ref['vae']:.2f} |")


if __name__ == "__main__":
    main()
