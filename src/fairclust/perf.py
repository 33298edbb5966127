"""Process-level performance settings (no torch import: safe to call first thing)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import resource
import sys
import time

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_TUNED = False


def tune_allocator() -> bool:
    """Keep freed activations in the process instead of returning them to the system.

    PyTorch's CPU allocator is plain ``malloc``. glibc serves blocks above its mmap
    threshold (at most 32 MiB) with a fresh ``mmap`` and unmaps them on ``free``, so every
    large activation of every training step is page-faulted and zeroed by the kernel
    again. With mmap disabled and a high trim threshold, freed memory is reused by the
    next step: the DFC iteration runs ~2x faster on CPU (docs/benchmarks.md). Peak memory
    is unchanged; memory is just not handed back between steps.

    The ``fairclust`` command calls this at start. Returns whether it applied (glibc
    only; ``FAIRCLUST_MALLOC_TUNE=0`` turns it off).
    """
    global _TUNED
    if _TUNED:
        return True
    if os.environ.get("FAIRCLUST_MALLOC_TUNE", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _TUNED = mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, 2**30) == 1
    return _TUNED


# ----------------------------------------------------------------------------- memory per stage
def peak_rss_mb() -> float:
    """The process's peak resident set since start or since the last :func:`reset_peak_rss`, MiB.

    Linux: ``VmHWM`` of ``/proc/self/status``; elsewhere ``ru_maxrss`` (never reset).
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024.0 if sys.platform.startswith("linux") else 2**20)


def reset_peak_rss() -> bool:
    """Restart the peak-RSS count at the current RSS (Linux >= 4.0: ``/proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class Stages:
    """Wall seconds and peak resident memory (MiB) of named stages of one fit.

    ``with stages.measure("teachers"):`` restarts the process's peak count, runs the stage,
    then records its seconds (added up over repeats) and its own peak. Where the peak cannot
    be restarted, a stage's peak is the process's peak so far (still an upper bound).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}

    @contextlib.contextmanager
    def measure(self, name: str):

        reset_peak_rss()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
            self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), peak_rss_mb())
