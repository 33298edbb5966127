"""The teachers' UMAP calls against umap-learn's own, in the same run (docs/benchmarks.md, "The teachers' UMAP").

umap-learn computes a small data set's distances (under 4,096 samples) with scikit-learn's
``pairwise_distances`` called with its numba metric, which scikit-learn evaluates once per pair
from Python, and compiles its per-row graph kernels in parallel mode in every process.
:func:`fairclust.teachers._umap_calls` hands Euclidean over by name and compiles the kernels
serially, cached on disk. Measured here on real data (scikit-learn's 1,797 digits, and the
first group of ``mnist-usps-mini`` when it is at hand), each the way a candidate teacher runs
(PCA to 50 dimensions, UMAP to K = 10 dimensions, ``n_jobs=1`` under a seed):

* steady state: fit (and ``transform`` of the samples beyond the fit), both ways alternately,
  ``--repeats`` times, in this process after a warm-up (compilation excluded);
* the first fit in a new process (``--first-fit``; compilation included), each way in its own
  subprocess on one fresh numba cache, ours twice (the first compiles and caches the kernels, the
  second loads them); umap-learn's own cached functions are on disk for all three;
* the first fit of a large group in a new process (``--first-fit-large``: ``mnist-usps-mini``'s 5,000 MNIST
  images, all fitted, as a refitted teacher runs), each way in its own subprocess on the usual numba cache
  (the kernels cached): there umap-learn searches neighbours with pynndescent, compiled in every process,
  where the teachers' calls search exactly (:class:`fairclust.teachers.ExactNeighbors`).

    python bench/umap_calls.py --threads 1 --repeats 3 --first-fit --first-fit-large
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

FIRST_FIT = """
import time, warnings, numpy as np
t = time.perf_counter()
from fairclust.teachers import _umap, _umap_calls
from sklearn.decomposition import PCA
{data}
x = PCA(50, random_state=0).fit_transform(x).astype(np.float32)
imported = time.perf_counter() - t
umap = _umap()
t = time.perf_counter()
if {ours}:
    with _umap_calls():
        umap.UMAP(n_components=10, min_dist=0.0, random_state=0, n_jobs=1).fit(x)
else:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        umap.UMAP(n_components=10, min_dist=0.0, random_state=0, n_jobs=1).fit(x)
print(imported, time.perf_counter() - t)
"""

DIGITS = "from sklearn.datasets import load_digits; x = load_digits().data / 16.0"
MNIST_GROUP = ("from fairclust.data import load_dataset; ds = load_dataset('mnist-usps-mini'); "
               "g = np.asarray(ds.sensitive); x = np.asarray(ds.X)[g == g[0]].reshape(int((g == g[0]).sum()), -1)")


def first_fit(ours: bool, data: str, env: dict) -> float:
    """Seconds of the first UMAP fit of ``data`` (code that sets ``x``) in a new process, ours or umap-learn's."""
    code = FIRST_FIT.format(ours=ours, data=data)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.split()[-1])


def data_sets() -> dict[str, tuple[np.ndarray, int]]:
    """name -> (PCA-50 features, samples fitted); the rest of the set is placed by ``transform``."""
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    sets = {"digits (1,797, all fitted)": (load_digits().data / 16.0, 1797)}
    try:
        from fairclust.data import load_dataset

        ds = load_dataset("mnist-usps-mini")
        g = np.asarray(ds.sensitive)
        first = np.asarray(ds.X)[g == g[0]].reshape(int((g == g[0]).sum()), -1)
        sets[f"mnist-usps-mini group 0 ({len(first):,}: 2,000 fitted, rest placed)"] = (first, 2000)
    except Exception as err:  # the embedded MNIST needs its files: the digits alone then
        print(f"mnist-usps-mini not at hand ({err}); digits only", file=sys.stderr)
    return {name: (PCA(50, random_state=0).fit_transform(X).astype(np.float32), n) for name, (X, n) in sets.items()}


def fit_place(umap, x: np.ndarray, n_fit: int) -> float:
    t = time.perf_counter()
    reducer = umap.UMAP(n_components=10, min_dist=0.0, random_state=0, n_jobs=1)
    reducer.fit(x[:n_fit])
    if n_fit < len(x):
        reducer.transform(x[n_fit:])
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--first-fit", action="store_true", help="also time the first fit in new processes")
    ap.add_argument("--first-fit-large", action="store_true",
                    help="also time the first fit of 5,000 MNIST images in new processes (neighbour search)")
    args = ap.parse_args()
    import warnings

    import torch

    from fairclust.teachers import _umap, _umap_calls

    torch.set_num_threads(args.threads)
    umap = _umap()
    rows = []
    for name, (x, n_fit) in data_sets().items():
        with _umap_calls():
            fit_place(umap, x[:300], 300)  # compile both ways' kernels before timing
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_place(umap, x[:300], 300)
        times = {"umap-learn": [], "fairclust": []}
        for _ in range(args.repeats):  # alternately, so that the machine's drift hits both alike
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                times["umap-learn"].append(fit_place(umap, x, n_fit))
            with _umap_calls():
                times["fairclust"].append(fit_place(umap, x, n_fit))
        med = {k: float(np.median(v)) for k, v in times.items()}
        rows.append({"data": name, "threads": args.threads, **{f"{k} s": round(v, 2) for k, v in med.items()},
                     "ratio": round(med["umap-learn"] / med["fairclust"], 2)})
        print(json.dumps(rows[-1]), flush=True)
    if args.first_fit:  # one fresh numba cache: umap-learn's own cached functions are loaded by every measured run
        import os
        import tempfile

        first = {}
        with tempfile.TemporaryDirectory() as numba_cache:
            env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "NUMBA_CACHE_DIR": numba_cache}
            for label, ours in (("warm-up", False), ("umap-learn", False), ("fairclust (kernels compiled)", True),
                                ("fairclust (kernels cached)", True)):
                first[label] = first_fit(ours, DIGITS, env)
        first.pop("warm-up")
        print(json.dumps({"first fit in a new process, digits (s)": {k: round(v, 2) for k, v in first.items()},
                          "ratios": [round(first["umap-learn"] / first[k], 2) for k in list(first)[1:]]}), flush=True)
    if args.first_fit_large:  # the usual numba cache: only what is compiled in every process differs
        import os

        large = {}
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        for label, ours in (("fairclust (warm-up)", True), ("umap-learn", False), ("fairclust", True)):
            large[label] = first_fit(ours, MNIST_GROUP, env)
        large.pop("fairclust (warm-up)")
        print(json.dumps({"first fit in a new process, 5,000 MNIST images (s)":
                          {k: round(v, 2) for k, v in large.items()},
                          "ratio": round(large["umap-learn"] / large["fairclust"], 2)}), flush=True)
    print("\n| data | umap-learn's calls (s) | fairclust's (s) | ratio |\n| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['data']} | {r['umap-learn s']} | {r['fairclust s']} | {r['ratio']} |")


if __name__ == "__main__":
    main()
