"""Run-time helpers: devices, seeding and determinism, seed checks, progress bars."""

from __future__ import annotations

import os
import random
import re
import sys
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .errors import FairclustError


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` means CUDA when available, else CPU. A CUDA request without CUDA is an error."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise FairclustError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise FairclustError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu")
    return dev


def images_at_most(X: np.ndarray, side: int) -> np.ndarray:
    """Images ``X`` (N x C x H x W) resized (bilinear, antialiased) so that their larger side is at most ``side``
    pixels, the aspect kept, but the smaller side not below 8 (the conv encoders halve it up to three times);
    ``X`` itself where they are that small already, or ``side`` is 0, or ``X`` is not images. Float32, in chunks
    (no full-size float64 copy of a large set)."""
    if side <= 0 or np.ndim(X) != 4:
        return X
    h, w = X.shape[2:]
    scale = min(1.0, max(side / max(h, w), 8 / min(h, w)))
    if scale == 1.0:
        return X
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    out = np.empty((len(X), X.shape[1], *size), dtype=np.float32)
    for i in range(0, len(X), 8192):
        chunk = torch.from_numpy(np.ascontiguousarray(X[i:i + 8192], dtype=np.float32))
        out[i:i + 8192] = torch.nn.functional.interpolate(chunk, size=size, mode="bilinear", antialias=True,
                                                          align_corners=False).numpy()
    return out


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def use_deterministic_algorithms() -> None:
    """Bit-reproducible GPU runs: deterministic kernels only (an error where none exists), no
    cuDNN autotuning, and the cuBLAS workspace setting that CUDA >= 10.2 requires for them.
    Call it before the first CUDA operation. CPU runs are reproducible without it."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def check_seed(seed: Any, name: str = "random_state") -> int:
    """A seed is a non-negative integer or its decimal text (``None`` draws one and returns it).

    ``name`` is what an error message calls it (the command line says "the seed").
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**31))
    if isinstance(seed, str) and re.fullmatch(r"\s*-?\d+\s*", seed):
        seed = int(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise FairclustError(f"{name} must be an integer, got {seed!r}; pass e.g. --seed 0")
    seed = int(seed)
    if seed < 0:
        raise FairclustError(f"{name} must be non-negative, got {seed}; pass e.g. --seed 0")
    return seed


def progress(iterable=None, *, total=None, desc: str = "", enabled: bool = True, **kw) -> tqdm:
    """A tqdm bar on stderr, silent when ``enabled`` is false."""
    return tqdm(iterable, total=total, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True, **kw)


_FORKED_JOB: tuple | None = None  # (fn, items) while fork_map's workers run: they inherit it, nothing is pickled


def _forked_call(i: int):
    from threadpoolctl import threadpool_limits

    fn, items = _FORKED_JOB
    with threadpool_limits(1, user_api="openmp"):  # GNU OpenMP's thread pool does not survive a fork
        return fn(items[i])


def fork_map(fn, items: list, workers: int) -> list:
    """``[fn(x) for x in items]``, computed in up to ``workers`` forked processes at once where that can help
    (Linux, two or more workers and items), in the calling process otherwise: for work that is mostly
    single-threaded and done one item after another otherwise (umap-learn's seeded fits: the teachers' candidates).
    ``fn`` and ``items`` reach the workers by the fork (no pickling; the data copied on write only); the results come
    back pickled, in order. The workers run OpenMP single-threaded and BLAS with the caller's threads, so that the
    values are the caller's own (BLAS results can depend on its threads: umap-learn's spectral initialisation's do).
    ``fn`` must not use torch or numba's parallel kernels (their thread pools do not survive a fork). An exception in
    ``fn`` is raised here; a worker that dies (killed, out of memory) costs the time spent: the items are then
    computed here, one after another."""
    global _FORKED_JOB
    workers = min(int(workers), len(items))
    if workers < 2 or sys.platform != "linux" or _FORKED_JOB is not None:  # nested calls run serially
        return [fn(x) for x in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _FORKED_JOB = (fn, items)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_forked_call, range(len(items))))
    except BrokenProcessPool:
        pass
    finally:
        _FORKED_JOB = None
    return [fn(x) for x in items]
