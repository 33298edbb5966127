"""Small shared utilities: devices, seeding, atomic writes, progress bars, batched inference."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

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


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half-written."""
    atomic_save(path, lambda fh: fh.write(data))


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import, before any thread starts
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_save(path: str | Path, writer: Callable[[Any], None]) -> None:
    """Call ``writer(file_object)`` on a temporary file, then rename it onto ``path``.

    A crash (exception, signal, power loss after the fsync) leaves either the old file or
    the new one, never a partial one; the temporary file is removed on an exception. The
    result gets the usual permissions (0666 minus the umask), not mkstemp's private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=_json_default) + "\n").encode())


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def progress(iterable=None, *, total=None, desc: str = "", enabled: bool = True, **kw) -> tqdm:
    """A tqdm bar on stderr, silent when ``enabled`` is false."""
    return tqdm(iterable, total=total, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True, **kw)


@torch.no_grad()
def batched(fn: Callable[[torch.Tensor], Any], X: torch.Tensor | np.ndarray, *, batch_size: int = 4096,
            device: torch.device | None = None) -> Iterator[Any]:
    """Apply ``fn`` to consecutive batches of ``X`` moved to ``device`` (memory independent of N)."""
    n = X.shape[0]
    for start in range(0, n, batch_size):
        xb = X[start:start + batch_size]
        if isinstance(xb, np.ndarray):
            xb = torch.from_numpy(np.ascontiguousarray(xb))
        if device is not None:
            xb = xb.to(device, non_blocking=True)
        yield fn(xb)


def batched_map(fn: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor | np.ndarray, *, batch_size: int = 4096,
           device: torch.device | None = None) -> torch.Tensor:
    """``fn`` over batches of ``X`` (see :func:`batched`), the results stacked along dim 0.

    The CPU output is allocated once from the first batch's shape and filled in place, so it
    is held once (a list of batches followed by ``torch.cat`` holds it twice at the end).
    """
    out = None
    start = 0
    for yb in batched(fn, X, batch_size=batch_size, device=device):
        yb = yb.cpu()
        if out is None:
            out = torch.empty((X.shape[0],) + tuple(yb.shape[1:]), dtype=yb.dtype)
        out[start:start + yb.shape[0]] = yb
        start += yb.shape[0]
    return out if out is not None else torch.empty(0)


class BalancedSampler:
    """Draws ``batch_size`` indices from every group per batch.

    Each group has its own shuffled order, restarted (reshuffled) when exhausted, so
    small groups are oversampled. The state is a plain dict so it can be checkpointed.
    """

    def __init__(self, group_codes: np.ndarray, batch_size: int, seed: int):
        self.members = [np.flatnonzero(group_codes == g) for g in range(int(group_codes.max()) + 1)]
        self.batch_size = int(batch_size)
        self.rng = np.random.default_rng(seed)
        self.orders = [self.rng.permutation(m) for m in self.members]
        self.pos = [0] * len(self.members)

    def _take(self, g: int) -> np.ndarray:
        out = []
        need = self.batch_size
        while need > 0:
            order = self.orders[g]
            take = order[self.pos[g]:self.pos[g] + need]
            out.append(take)
            self.pos[g] += len(take)
            need -= len(take)
            if self.pos[g] >= len(order):
                self.orders[g] = self.rng.permutation(self.members[g])
                self.pos[g] = 0
        return np.concatenate(out)

    def next(self) -> np.ndarray:
        """Indices of the next batch: group 0's ``batch_size`` first, then group 1's, ..."""
        return np.concatenate([self._take(g) for g in range(len(self.members))])

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state, "orders": [o.tolist() for o in self.orders], "pos": list(self.pos)}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.orders = [np.asarray(o, dtype=np.int64) for o in state["orders"]]
        self.pos = list(state["pos"])
