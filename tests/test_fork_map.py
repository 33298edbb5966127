"""fairclust.utils.fork_map: a loop's results, computed in forked worker processes (OpenMP single-threaded, BLAS
with the caller's threads), the same values as the loop's (the teachers' UMAP + GMM fits run through it)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

from fairclust.teachers import UmapGmm
from fairclust.utils import fork_map

PARENT = os.getpid()
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="fork_map forks on Linux only")


def _threads(api: str) -> int:
    from threadpoolctl import threadpool_info

    return max((info["num_threads"] for info in threadpool_info() if info["user_api"] == api), default=1)


def _square_where(x: int) -> tuple[int, int, int, int]:
    return x * x, os.getpid(), _threads("blas"), _threads("openmp")


@linux_only
def test_fork_map_returns_the_loops_results_in_order_from_worker_processes():
    from threadpoolctl import threadpool_limits

    items = list(range(7))
    with threadpool_limits(2, user_api="blas"):  # the caller's BLAS threads, kept in the workers
        out = fork_map(_square_where, items, workers=2)
    assert [v for v, *_ in out] == [x * x for x in items]
    assert all(pid != PARENT for _, pid, _, _ in out) and len({pid for _, pid, _, _ in out}) <= 2
    assert all(blas == 2 and openmp == 1 for _, _, blas, openmp in out)
    here = fork_map(_square_where, items, workers=1)  # one worker: the calling process, as it is
    assert [v for v, *_ in here] == [x * x for x in items] and all(pid == PARENT for _, pid, _, _ in here)


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def _dies_in_a_worker(x: int) -> int:
    if os.getpid() != PARENT:
        os._exit(1)  # a worker killed mid-task (out of memory, a signal)
    return -x


@linux_only
def test_fork_map_raises_the_functions_error_and_survives_a_dead_worker():
    with pytest.raises(ValueError, match="three"):
        fork_map(_fails_on_three, list(range(5)), workers=2)
    assert fork_map(_dies_in_a_worker, [1, 2, 3], workers=2) == [-1, -2, -3]  # computed here instead


def test_teachers_umap_fits_are_the_same_with_two_workers_as_with_one():
    """The teachers' UMAP + GMM fits give identical assignments in forked workers and in the calling process,
    with BLAS at 2 threads (where its results differ from 1 thread's: PCA, the distances and UMAP's spectral
    initialisation do, measured on 1,797 digits)."""
    from threadpoolctl import threadpool_limits

    x = (load_digits().data / 16.0).astype(np.float32)[:1200]
    parts = [x[:600], x[600:]]

    def fit(i: int) -> np.ndarray:
        return UmapGmm(parts[i], 10, seed=0).assign()

    with threadpool_limits(2, user_api="blas"):
        one, two = fork_map(fit, [0, 1], workers=1), fork_map(fit, [0, 1], workers=2)
    for a, b in zip(one, two):
        assert a.shape == (600, 10)
        np.testing.assert_array_equal(a, b)
