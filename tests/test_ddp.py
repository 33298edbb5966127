"""DDP on CPU: two gloo processes train DFC as well as one process does.

Spawns 2 processes (``torch.multiprocessing.spawn``, the environment torchrun would set).
Checks (1) the all-gathered losses give exactly the one-process gradient of L_c + L_s,
and (2) a whole DFC fit (MLP encoder on real scikit-learn digits, group = original /
inverted) reaches the quality of a one-process fit: Balance far above k-means, Accuracy
within tolerance, pretraining computed once (rank 0) and read from the cache by rank 1,
identical labels on both ranks.
"""

import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from ddp_helpers import free_port, join
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from fairclust import DeepFairClustering, distributed, metrics
from fairclust.losses import dfc_loss_terms

WORLD = 2
FIT = dict(n_clusters=10, recipe="faithful", n_iters=120, batch_size=64, pretrain_epochs=8, teacher_epochs=8, dec_iters=150,
           random_state=0, device="cpu")


def _data():
    digits = load_digits()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(digits.data))[:500]
    x, y = digits.data[idx] / 16.0, digits.target[idx]
    X = np.concatenate([x, 1.0 - x]).astype(np.float32)
    return X, np.concatenate([y, y]), np.repeat([0, 1], len(idx))


def _worker(rank: int, port: int, cache: str, out: str) -> None:
    ctx = join(rank, port, WORLD)
    assert ctx is not None and ctx.world_size == WORLD
    # (1) gradient of the gathered losses == one-process gradient
    gen = torch.Generator().manual_seed(5)
    Q = torch.softmax(torch.randn(2 * 8, 10, generator=gen, dtype=torch.float64), 1).requires_grad_()
    P = torch.softmax(torch.randn(2 * 8, 10, generator=gen, dtype=torch.float64), 1)
    rows = torch.from_numpy(distributed.shard(ctx, np.arange(16), 2))
    q = Q.detach()[rows].clone().requires_grad_()
    l_c, l_s = dfc_loss_terms(distributed.gather_groups(q, 2), P, 2)
    (l_c + l_s).backward()
    ref_c, ref_s = dfc_loss_terms(Q, P, 2)
    (ref_c + ref_s).backward()
    grad_ok = torch.allclose(q.grad / WORLD, Q.grad[rows], rtol=1e-10, atol=1e-12)  # DDP averages by WORLD
    loss_ok = torch.allclose(l_c + l_s, ref_c + ref_s)
    # (2) a whole fit
    X, y, s = _data()
    est = DeepFairClustering(cache_dir=cache, **FIT).fit(X, y, sensitive_features=s)
    np.savez(os.path.join(out, f"rank{rank}.npz"), labels=est.labels_, grad_ok=grad_ok, loss_ok=loss_ok,
             hits=[est.pretrain_cache_hits_[k] for k in sorted(est.pretrain_cache_hits_)],
             n_evals=len(est.history_["evals"]))
    dist.destroy_process_group()


def test_two_gloo_processes_match_one_process(tmp_path):
    cache = str(tmp_path / "cache")
    mp.spawn(_worker, args=(free_port(), cache, str(tmp_path)), nprocs=WORLD, join=True)
    r0, r1 = (np.load(tmp_path / f"rank{r}.npz") for r in range(WORLD))
    assert bool(r0["grad_ok"]) and bool(r1["grad_ok"]) and bool(r0["loss_ok"])
    np.testing.assert_array_equal(r0["labels"], r1["labels"])  # every rank ends with rank 0's model
    assert not r0["hits"].any() and r1["hits"].all()  # rank 0 pretrained, rank 1 read the cache
    assert int(r0["n_evals"]) > 0 and int(r1["n_evals"]) == 0  # periodic metrics on rank 0 only

    X, y, s = _data()
    torch.set_num_threads(1)
    one = DeepFairClustering(cache_dir=cache, **FIT).fit(X, y, sensitive_features=s)
    assert all(one.pretrain_cache_hits_.values())  # same pretraining as the two processes
    km = KMeans(10, n_init=5, random_state=0).fit_predict(X)
    rep_km = metrics.report(km, sensitive_features=s, labels_true=y)
    rep_one = metrics.report(one.labels_, sensitive_features=s, labels_true=y)
    rep_ddp = metrics.report(r0["labels"], sensitive_features=s, labels_true=y)
    summary = {k: {m: round(r[m], 3) for m in ("accuracy", "nmi", "balance", "mnce")} | {
               "I_C_G": round(r["information"]["I_C_G"], 3)} for k, r in (("kmeans", rep_km), ("one", rep_one), ("ddp", rep_ddp))}
    # both fair where k-means is not. Judged by I(C;G), the dependence DFC's adversary removes:
    # Balance and MNCE are minima over clusters, and after 120 iterations on 1,000 samples one
    # small cluster can still lean to a group (seen: 36 vs 2), which zeroes them.
    # measured (one process, seeds 0-2; the test's 0): I(C;G) 0.022-0.059 of k-means'
    for rep in (rep_one, rep_ddp):
        assert rep["information"]["I_C_G"] < 0.2 * rep_km["information"]["I_C_G"], summary
    for m in ("accuracy", "nmi"):  # and as accurate as each other
        assert abs(rep_ddp[m] - rep_one[m]) < 0.1, summary


DEFAULT_FIT = dict(n_clusters=10, recipe="default", pretrain_epochs=8, batch_size=64, random_state=0, device="cpu")


def _worker_default(rank: int, port: int, cache: str, out: str) -> None:
    """The default recipe's stages under DDP: teachers and matching on rank 0 (cached), the
    stopping decision broadcast, fair labels from the shared model."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(WORLD))
    torch.set_num_threads(1)
    assert distributed.context("cpu") is not None
    X, y, s = _data()
    est = DeepFairClustering(cache_dir=cache, **DEFAULT_FIT).fit(X, y, sensitive_features=s)
    np.savez(os.path.join(out, f"default{rank}.npz"), labels=est.labels_, teachers=est.teacher_labels_,
             hits=[est.pretrain_cache_hits_[k] for k in sorted(est.pretrain_cache_hits_)],
             iterations=est.history_["iterations_run"], n_iters=est.config_["n_iters"])
    dist.destroy_process_group()


@pytest.mark.slow  # 20 s: two processes through every stage of the default recipe
def test_default_recipe_under_two_gloo_processes(tmp_path):
    cache = str(tmp_path / "cache")
    mp.spawn(_worker_default, args=(free_port(), cache, str(tmp_path)), nprocs=WORLD, join=True)
    r0, r1 = (np.load(tmp_path / f"default{r}.npz") for r in range(WORLD))
    np.testing.assert_array_equal(r0["labels"], r1["labels"])
    np.testing.assert_array_equal(r0["teachers"], r1["teachers"])  # one matching, broadcast
    assert not r0["hits"].any() and r1["hits"].all()  # rank 0 built the teachers, rank 1 read them
    assert int(r0["iterations"]) == int(r1["iterations"]) <= int(r0["n_iters"])  # one stopping decision
    X, y, s = _data()
    # measured (one process, seeds 0-2; the test's 0): Balance of the fair labels 0.906-0.939 (their guarantee
    # (1 - 0.05)^2 = 0.9025 up to rounding; 0.875 seen on other data), accuracy 0.820-0.873 (k-means 0.39)
    assert metrics.balance(r0["labels"], sensitive_features=s) >= 0.82
    assert metrics.accuracy(y, r0["labels"]) > 0.6
