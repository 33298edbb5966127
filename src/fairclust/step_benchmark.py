"""Throughput of one DFC training iteration (what ``fairclust bench step`` prints).

The iteration timed is exactly :meth:`fairclust.methods.dfc_training.DFCTrainer.step` with the
SPEC section 1.1 networks on ``1 x 32 x 32`` inputs, ``n_groups x batch_size`` images and
K clusters, plus what the method needs from the frozen teachers: drawing the balanced
batch and gathering its samples and their (precomputed) teacher assignments. Data are
random; the cost does not depend on the values.

Timing: ``warmup`` untimed iterations, then the median of ``repeats`` timed ones
(CUDA is synchronised around each). :func:`bench_step` returns one record with
``ms_per_iter``, ``img_per_s`` and the peak memory; the command (:mod:`fairclust.cli.bench`)
prints it as JSON.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .config import DFCConfig
from .methods.dfc_training import DFCTrainer
from .nn import make_encoder
from .perf import tune_allocator
from .sampling import BalancedSampler
from .schedule import make_schedule
from .utils import resolve_device

__all__ = ["StepProblem", "make_problem", "time_ms", "sgemm_gflops", "step_flops",
           "peak_memory_mb", "bench_step"]


@dataclass
class StepProblem:
    """A DFC trainer and a pool of samples with their teacher assignments, on one device."""

    trainer: torch.nn.Module
    X: torch.Tensor
    P: torch.Tensor
    g: torch.Tensor
    sampler: BalancedSampler
    device: torch.device
    t: int = 0

    def step(self) -> dict[str, torch.Tensor]:
        """One iteration as ``DeepFairClustering.fit`` runs it: batch, gather, step."""
        idx = torch.from_numpy(self.sampler.next()).to(self.device)
        out = self.trainer.step(self.t, self.X[idx], self.P[idx], self.g)
        self.t += 1
        return out


def make_problem(batch_size: int, device: torch.device, *, n_groups: int = 2, n_clusters: int = 10,
                 in_shape: tuple[int, ...] = (1, 32, 32), pool_per_group: int | None = None,
                 seed: int = 0) -> StepProblem:
    """Random images (a pool of ``pool_per_group`` per group) and random teacher assignments."""

    torch.manual_seed(seed)
    pool = pool_per_group or 2 * batch_size
    n = pool * n_groups
    X = torch.rand(n, *in_shape, device=device)
    P = torch.softmax(3 * torch.randn(n, n_clusters, device=device), 1)
    codes = np.repeat(np.arange(n_groups), pool)
    cfg = DFCConfig(batch_size=batch_size, n_iters=20000)
    enc = make_encoder(in_shape, cfg.latent_dim)
    centers = torch.randn(n_clusters, cfg.latent_dim).numpy()
    trainer = DFCTrainer(enc, centers, n_groups, cfg, make_schedule(cfg, [pool] * n_groups)).to(device).train()
    g = torch.arange(n_groups, device=device).repeat_interleave(batch_size)
    return StepProblem(trainer, X, P, g, BalancedSampler(codes, batch_size, seed), device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_ms(fn: Callable[[], object], device: torch.device, *, warmup: int = 3, repeats: int = 10,
            cpu_times: list[float] | None = None) -> list[float]:
    """Wall milliseconds of each of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones.

    ``cpu_times``, when given, receives the process CPU milliseconds of each call (all
    threads): on a machine shared with other jobs it is far steadier than wall time.
    """
    for _ in range(warmup):
        fn()
    _sync(device)
    out = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        out.append(1e3 * (time.perf_counter() - t0))
        if cpu_times is not None:
            cpu_times.append(1e3 * (time.process_time() - c0))
    return out


def peak_memory_mb(device: torch.device) -> float:
    """Peak GPU memory allocated by torch (CUDA) or the process's peak resident set (CPU), MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def sgemm_gflops(device: torch.device, n: int = 2048, repeats: int = 5) -> tuple[float, float]:
    """Measured float32 matrix-multiply rate (best of ``repeats``): the practical peak.

    Returns GFLOP per wall second and GFLOP per CPU second (all threads together).
    """
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    cpu: list[float] = []
    best = min(time_ms(lambda: a @ b, device, warmup=2, repeats=repeats, cpu_times=cpu))
    return 2.0 * n**3 / (best / 1e3) / 1e9, 2.0 * n**3 / (min(cpu) / 1e3) / 1e9


def step_flops(problem: StepProblem) -> float:
    """Floating-point operations of one iteration (forward + backward), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        problem.step()
    return float(counter.get_total_flops())


def bench_step(batch_size: int, device: str | None = None, *, n_groups: int = 2, n_clusters: int = 10,
               warmup: int = 3, repeats: int = 10, peak: bool = True) -> dict:
    """Time one DFC iteration; returns the record ``fairclust bench step`` prints."""
    dev = resolve_device(device)
    tuned = tune_allocator() if dev.type == "cpu" else False
    problem = make_problem(batch_size, dev, n_groups=n_groups, n_clusters=n_clusters)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    cpu: list[float] = []
    times = time_ms(problem.step, dev, warmup=warmup, repeats=repeats, cpu_times=cpu)
    ms = statistics.median(times)
    n_img = n_groups * batch_size
    rec = {
        "benchmark": "dfc_step",
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu",
        "threads": torch.get_num_threads(),
        "batch_size": batch_size,
        "n_groups": n_groups,
        "n_clusters": n_clusters,
        "images_per_iter": n_img,
        "warmup": warmup,
        "repeats": repeats,
        "ms_per_iter": ms,
        "ms_min": min(times),
        "ms_max": max(times),
        "img_per_s": n_img / (ms / 1e3),
        "cpu_ms_per_iter": statistics.median(cpu),
        "load_average": os.getloadavg()[0],
        "peak_memory_mb": peak_memory_mb(dev),
        "peak_memory_kind": "torch max_memory_allocated" if dev.type == "cuda" else "process peak RSS",
        "malloc_tuned": tuned,
        "torch": torch.__version__,
    }
    if peak:
        gflop = step_flops(problem) / 1e9
        gflops, gflops_cpu = sgemm_gflops(dev)
        rec.update({"gflop_per_iter": gflop, "sgemm_gflop_per_s": gflops,
                    "achieved_gflop_per_s": gflop / (ms / 1e3),
                    "fraction_of_sgemm_peak": gflop / (ms / 1e3) / gflops,
                    "img_per_s_at_sgemm_peak": n_img * gflops / gflop})
        if dev.type == "cpu":  # the same ratio in CPU seconds: robust when other jobs share the cores
            cpu_s = statistics.median(cpu) / 1e3
            rec.update({"sgemm_gflop_per_cpu_s": gflops_cpu, "achieved_gflop_per_cpu_s": gflop / cpu_s,
                        "fraction_of_sgemm_peak_cpu": gflop / cpu_s / gflops_cpu})
    return rec
