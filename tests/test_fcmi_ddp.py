"""FCMI under DDP on CPU: two gloo processes (the environment torchrun sets).

(1) The clustering terms computed on the all-gathered representations give each rank, after
DDP's averaging, exactly the one-process gradient of its rows. (2) A small fit ends with the
same labels on both ranks, the warm-up computed once and read back from the cache by a
second fit.
"""

import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from ddp_helpers import free_port, join
from sklearn.datasets import load_digits

from fairclust import distributed
from fairclust.methods.fcmi import FCMI
from fairclust.methods.fcmi_losses import fcmi_objective

WORLD = 2
FIT = dict(n_clusters=10, total_epochs=4, warmup_epochs=2, batch_total=64, random_state=0, device="cpu")


def _data():
    d = load_digits()
    x = d.data[:200] / 16.0
    return np.concatenate([x, 1.0 - x]).astype(np.float32), np.repeat([0, 1], 200)


def _worker(rank: int, port: int, cache: str, out: str) -> None:
    join(rank, port, WORLD)
    gen = torch.Generator().manual_seed(3)
    H = torch.nn.functional.normalize(torch.randn(16, 6, generator=gen, dtype=torch.float64), dim=1)
    C = torch.nn.functional.normalize(torch.randn(4, 6, generator=gen, dtype=torch.float64), dim=1)
    g = torch.randint(0, 3, (16,), generator=gen)
    kw = dict(alpha=0.04, beta=0.2, tau_balance=0.1, tau_onehot=0.1)
    full = H.clone().requires_grad_()
    fcmi_objective(full, C, g, 3, **kw)[0].backward()
    mine = H.view(WORLD, -1, 6)[rank].clone().requires_grad_()
    fcmi_objective(distributed.gather_groups(mine, 1), C, g, 3, **kw)[0].backward()
    grad_ok = torch.allclose(mine.grad / WORLD, full.grad.view(WORLD, -1, 6)[rank], rtol=1e-10, atol=1e-12)
    X, s = _data()
    first = FCMI(cache_dir=cache, **FIT).fit(X, sensitive_features=s)
    second = FCMI(cache_dir=cache, beta=0.0, **FIT).fit(X, sensitive_features=s)
    np.savez(os.path.join(out, f"rank{rank}.npz"), grad_ok=grad_ok, labels=first.labels_, labels0=second.labels_,
             hits=[first.warmup_from_cache_, second.warmup_from_cache_])
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_gloo_processes(tmp_path):
    mp.spawn(_worker, args=(free_port(), str(tmp_path / "cache"), str(tmp_path)), nprocs=WORLD, join=True)
    r0, r1 = (np.load(tmp_path / f"rank{r}.npz") for r in range(WORLD))
    assert bool(r0["grad_ok"]) and bool(r1["grad_ok"])
    np.testing.assert_array_equal(r0["labels"], r1["labels"])
    np.testing.assert_array_equal(r0["labels0"], r1["labels0"])
    assert list(r0["hits"]) == [False, True] and list(r1["hits"]) == [False, True]
    assert len(np.unique(r0["labels"])) > 1
