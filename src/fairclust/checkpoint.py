"""Checkpoints of the DFC training loop, so an interrupted run resumes exactly.

A checkpoint is written every ``every`` iterations and, on SIGINT / SIGTERM, at the end
of the iteration that was running (never mid-step), then training stops with
:class:`TrainingInterrupted`. It holds everything the remaining iterations depend on:
encoder, centres and critic (``trainer.state_dict()``), the optimizer (Adam moments, step
counts, learning rates), the next iteration, the :class:`~fairclust.sampling.BalancedSampler`
state, the torch / CUDA / NumPy / Python RNG states and the history so far. Resuming
therefore gives exactly the labels of an uninterrupted run with the same seed (on the same
machine and settings).

Files are written atomically (temporary file + rename) and hold tensors, numbers and
strings only; they are read with ``torch.load(..., weights_only=True)``, so loading one
never executes code from the file. A ``key`` (hash of the data, the settings, K and the
seed) stops a checkpoint from being resumed by a different run.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import signal
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from .errors import FairclustError
from .files import atomic_save

FORMAT = "fairclust-dfc-checkpoint"
FORMAT_VERSION = 1
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on a signal after writing a checkpoint; ``signum`` is the signal."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


def load_safely(path: str | Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)``; anything unreadable or unsafe is one FairclustError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise FairclustError(f"{str(path)!r} is not a readable {what}: {_load_problem(exc)}; "
                             "delete it or pass another file") from None


def _load_problem(exc: Exception) -> str:
    """torch's weights_only errors are long (and suggest unsafe loading): say what matters."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    unsafe = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if unsafe:
        return f"it holds a Python object ({unsafe.group(1)}) whose loading would run code; fairclust never runs it"
    if "Weights only load failed" in text:
        return "not a file of tensors and plain values (corrupt or foreign)"
    first = (text.strip().splitlines() or [""])[0].split(". ")[0][:150]
    return f"corrupt or truncated ({type(exc).__name__}{': ' + first if first else ''})"


def rng_state() -> dict:
    """torch (CPU and initialised CUDA devices), NumPy's global and Python's RNG states."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return {"torch": torch.get_rng_state(), "cuda": list(cuda),
            "numpy_keys": torch.from_numpy(keys.astype(np.int64)),
            "numpy": json.dumps([name, int(pos), int(has_gauss), float(gauss)]),
            "python": json.dumps(random.getstate())}


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    name, pos, has_gauss, gauss = json.loads(state["numpy"])
    np.random.set_state((name, state["numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss_next))


class Checkpointer:
    """Save / restore the state of one DFC training loop at ``path`` (``None``: do nothing).

    ``every``: write a checkpoint after every ``every`` iterations (0 or ``None``: only on a
    signal). ``key``: identifies the run; ``resume``: continue from an existing checkpoint.
    """

    def __init__(self, path: str | Path | None, *, every: int | None, key: str, resume: bool = False):
        self.path = None if path is None else Path(path)
        self.every = int(every or 0)
        self.key = key
        self.resume = resume
        self.signum: int | None = None
        if self.path is not None and self.path.exists() and not resume:
            raise FairclustError(f"checkpoint {str(self.path)!r} already exists; pass resume=True (--resume) to "
                                 "continue from it, or delete it (--overwrite) to start afresh")

    @property
    def enabled(self) -> bool:
        if self.path is None:
            return False
        dist = torch.distributed
        return not (dist.is_available() and dist.is_initialized() and dist.get_rank() != 0)

    # ------------------------------------------------------------------ restore
    def restore(self, trainer: torch.nn.Module, sampler: Any, history: dict) -> tuple[int, list[dict]]:
        """Load the checkpoint (when resuming and one exists) into ``trainer``, ``sampler``,
        ``history`` and the RNGs; return ``(first iteration to run, pending loss records)``."""
        if not (self.resume and self.path is not None and self.path.exists()):
            return 0, []
        obj = load_safely(self.path, "fairclust checkpoint")
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise FairclustError(f"{str(self.path)!r} is not a fairclust DFC checkpoint; delete it or pass --overwrite")
        if obj.get("key") != self.key:
            raise FairclustError(f"checkpoint {str(self.path)!r} was written by a run with other data, settings, K or "
                                 "seed; rerun with the original arguments, or pass --overwrite to start afresh")
        trainer.load_state_dict(obj["model"])
        trainer.optimizer.load_state_dict(obj["optimizer"])
        sampler.load_state_dict(json.loads(obj["sampler"]))
        history.clear()
        history.update(json.loads(obj["history"]))
        set_rng_state(obj["rng"])
        return int(obj["iteration"]), json.loads(obj["pending"])

    # ------------------------------------------------------------------ save
    def save(self, iteration: int, trainer: torch.nn.Module, sampler: Any, history: dict,
             pending: list[dict]) -> None:
        """Write the state after ``iteration`` iterations, atomically."""
        if not self.enabled:
            return
        obj = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "key": self.key,
            "iteration": int(iteration),
            "model": {k: v.detach().cpu() for k, v in trainer.state_dict().items()},
            "optimizer": trainer.optimizer.state_dict(),
            "sampler": json.dumps(sampler.state_dict()),
            "history": json.dumps(history),
            "pending": json.dumps([{k: float(v) for k, v in d.items()} for d in pending]),
            "rng": rng_state(),
        }
        atomic_save(self.path, lambda fh: torch.save(obj, fh))

    def after_iteration(self, iteration: int, n_iters: int, trainer: torch.nn.Module, sampler: Any,
                        history: dict, pending: list[dict]) -> None:
        """Call at the end of every iteration: periodic checkpoint; on a signal, checkpoint and stop."""
        if self.path is None:
            return
        if self.signum is not None:
            self.save(iteration, trainer, sampler, history, pending)
            raise TrainingInterrupted(
                f"interrupted after iteration {iteration} of {n_iters}; checkpoint written to {str(self.path)!r}; "
                "run the same command with --resume (resume=True) to continue", self.signum)
        if self.every and iteration % self.every == 0 and iteration < n_iters:
            self.save(iteration, trainer, sampler, history, pending)

    def finish(self) -> None:
        """Training completed: the checkpoint is obsolete."""
        if self.enabled:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    @contextlib.contextmanager
    def catch_signals(self) -> Iterator[None]:
        """While active, SIGINT / SIGTERM only set a flag (acted upon by :meth:`after_iteration`);
        a second signal gets the previous handler (e.g. Ctrl-C twice stops at once).

        A signal the process ignores (``SIG_IGN``: ``nohup``, a shell's ``trap "" INT``, a
        background job) is not caught, so it stays ignored; nor is one whose handler was set
        outside Python (``getsignal`` gives ``None``: it could not be put back). On exit every
        handler is the one found on entry.
        """
        if self.path is None or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.getsignal(s) for s in SIGNALS}
        caught = [s for s in SIGNALS if previous[s] not in (signal.SIG_IGN, None)]

        def handler(signum, frame):
            self.signum = signum
            signal.signal(signum, previous[signum])

        for s in caught:
            signal.signal(s, handler)
        try:
            yield
        finally:
            for s in caught:
                signal.signal(s, previous[s])
