"""Plain PyTorch DistributedDataParallel for DFC, launched by ``torchrun``.

``torchrun --nproc_per_node N -m fairclust run --dataset ...`` starts N processes, one per
device (GPU ``LOCAL_RANK``, or CPU cores with the gloo backend). What changes against one
process, and nothing else:

* **pretraining** (cached): rank 0 computes every stage first; the other ranks wait at a
  barrier, then read the same stages from the cache. The teachers' table and the k-means
  centres are then broadcast from rank 0, so every rank starts from rank 0's state
  (DDP also broadcasts the parameters when it wraps the trainer).
* **sampling**: every rank draws the same global batch (same seeded sampler) and keeps
  its own disjoint share of *each group's* ``b`` samples (``b / N`` per group per rank).
* **one DDP wrapper** around the whole trainer (encoder, centres, critic): the single
  optimizer with gradient reversal needs no second one. L_c and L_s are computed on the
  all-gathered assignments of the whole batch (see :func:`gather_groups`), L_f is a mean
  over the local share; with DDP's gradient averaging the gradient is exactly that of the
  one-process losses on the same batch. BatchNorm normalises each rank's share
  (SyncBatchNorm on CUDA, where it is available, makes it the whole batch's).
* **files and logging** from rank 0 only; at the end every rank holds rank 0's model.

Nothing here runs in a single process: :func:`context` returns ``None`` there.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from .errors import FairclustError
from .utils import resolve_device


@dataclass(frozen=True)
class Context:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched() -> bool:
    """Whether this process was started by ``torchrun`` with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def context(device: str | torch.device | None = None) -> Context | None:
    """The process group of this run (initialised on first use), or ``None`` in one process.

    ``device``: the requested device; ``cuda`` means this rank's GPU ``LOCAL_RANK``.
    """
    if not (dist.is_available() and (dist.is_initialized() or launched())):
        return None
    dev = resolve_device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    if dist.get_world_size() == 1:
        return None
    return Context(dist.get_rank(), dist.get_world_size(), dev)


def is_main() -> bool:
    """True in a single process and on rank 0: the process that logs and writes files."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


@contextlib.contextmanager
def main_first(ctx: Context | None) -> Iterator[None]:
    """Rank 0 runs the body first (fills the cache); the others run it after a barrier."""
    if ctx is not None and not ctx.is_main:
        dist.barrier()
    yield
    if ctx is not None and ctx.is_main:
        dist.barrier()


def broadcast_array(ctx: Context | None, arr: np.ndarray) -> np.ndarray:
    """Rank 0's copy of ``arr`` (same shape and dtype on every rank)."""
    if ctx is None:
        return arr
    t = torch.from_numpy(np.ascontiguousarray(arr)).to(ctx.device)
    dist.broadcast(t, src=0)
    return t.cpu().numpy()


def broadcast_flag(ctx: Context | None, flag: bool) -> bool:
    """Rank 0's ``flag`` on every rank (e.g. an early-stopping decision)."""
    if ctx is None:
        return bool(flag)
    return bool(broadcast_array(ctx, np.array([int(flag)], dtype=np.int64))[0])


def broadcast_module(ctx: Context | None, module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers into every rank's ``module``."""
    if ctx is None:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def per_rank_batch(ctx: Context | None, batch_size: int) -> int:
    """The per-group batch rounded up to a multiple of the number of processes."""
    if ctx is None:
        return batch_size
    return -(-batch_size // ctx.world_size) * ctx.world_size


def shard(ctx: Context | None, idx: np.ndarray, n_groups: int) -> np.ndarray:
    """This rank's share of every group's rows of a global batch ``idx`` (groups in order)."""
    if ctx is None:
        return idx
    per_group = idx.reshape(n_groups, -1)
    share = per_group.shape[1] // ctx.world_size
    return per_group[:, ctx.rank * share:(ctx.rank + 1) * share].reshape(-1)


class _GatherGroups(torch.autograd.Function):
    """All-gather rank shares ``(M * s, K)`` into the global batch ``(M * N * s, K)``, group-major."""

    @staticmethod
    def forward(ctx, q: torch.Tensor, n_groups: int) -> torch.Tensor:
        world, rank = dist.get_world_size(), dist.get_rank()
        parts = [torch.empty_like(q) for _ in range(world)]
        dist.all_gather(parts, q.contiguous())
        ctx.world, ctx.rank, ctx.n_groups = world, rank, n_groups
        k = q.shape[1]
        # (N, M, s, K) -> (M, N, s, K): group g's rows of rank 0, rank 1, ... (the sampler's order)
        return torch.stack(parts).view(world, n_groups, -1, k).transpose(0, 1).reshape(-1, k)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        # every rank's loss depends on every share: sum their gradients, keep our rows
        grad = grad.contiguous()
        dist.all_reduce(grad)
        k = grad.shape[1]
        mine = grad.view(ctx.n_groups, ctx.world, -1, k)[:, ctx.rank]
        return mine.reshape(-1, k), None


def gather_groups(q: torch.Tensor, n_groups: int) -> torch.Tensor:
    """Differentiable all-gather of every rank's soft assignments, in the global batch's order.

    Each rank then computes L_c and L_s on the whole batch. The backward all-reduces
    (sums) the gradients of the ranks' identical losses, so after DDP's averaging the
    parameters receive exactly the one-process gradient.
    """
    return _GatherGroups.apply(q, n_groups)


def wrap(ctx: Context | None, trainer: nn.Module) -> nn.Module | None:
    """The one DDP wrapper around a :class:`~fairclust.methods.dfc_training.DFCTrainer` (``None`` in one process)."""
    if ctx is None:
        return None
    from torch.nn.parallel import DistributedDataParallel

    if ctx.device.type == "cuda":
        nn.SyncBatchNorm.convert_sync_batchnorm(trainer)  # in place for children; same Parameters
    trainer.gather = gather_groups
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(trainer, device_ids=ids)


def shutdown() -> None:
    """Leave the process group (end of a torchrun command)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def check_supported(ctx: Context | None, *, resume: bool) -> None:
    if ctx is not None and resume:
        raise FairclustError("--resume is not supported under torchrun yet; resume with one process")
