"""Per-group teachers: each group clustered on its own into K clusters (soft assignments).

DFC's structural loss and its clustering targets come from one teacher per group, and
measured end to end, the teachers bound what DFC reaches (docs/results.md). Two kinds:

* ``dec``: the paper's teacher, a VAE + DEC per group (:mod:`fairclust.pretrain`). Kept
  exactly for the ``faithful`` and ``paper`` recipes.
* ``umap``: manifold clustering with no network to train: the group's samples (flattened;
  PCA to at most 50 dimensions) -> UMAP (``umap-learn``, K dimensions, ``min_dist=0``) -> a
  Gaussian mixture with K components, the best of several restarts by likelihood. Its
  posterior is the soft assignment. Seconds per group, deterministic per seed (UMAP runs
  single-threaded under a seed).
* ``vae-umap``: the same on the shared VAE's embedding ``mu`` instead of the input (N2D:
  autoencoder -> UMAP -> GMM). Better where the VAE has learnt the data (MNIST: 0.93 vs
  0.82 within a group), far worse where it has not (800 tiny 8x8 digits: 0.63 vs 0.89).
* ``canonical``: the same on the images' canonical frame (:func:`fairclust.canonical.canonical_frame`:
  each image cropped to the square around its ink, 16 x 16). Where a source draws its images
  small and not exactly centred, a pixel's shift moves every stroke and the input's teacher falls
  to chance (0.26-0.29 on small, +-1 pixel digits); in the canonical frame it is 0.77-0.84.
* ``auto`` (default recipe): all of these that apply (``canonical`` for images only), and per
  group the partition whose clusters are best separated in its own UMAP embedding (silhouette;
  unsupervised model selection), each candidate fitted and scored on at most ``teacher_select_samples``
  of the group and the chosen one refitted on the (capped) group. The silhouette ranked the
  better one first on every group measured (docs/results.md).

Every kept teacher's mixture is refitted with ``teacher_restarts`` restarts on its UMAP embedding
(:meth:`UmapGmm.refit_mixture`; the candidates are scored with the cheaper ``gmm_restarts``): with 3
restarts the mixture can stop in a worse optimum that cuts two classes at the wrong place (MNIST's
4s and 9s: 0.870 within the group where the best of 30 restarts reaches 0.935, docs/results.md).
On overlapping classes the groups' likeliest mixtures can instead land in unlike optima that pair
worse across groups: the pretrainer keeps the first fits beside the refit, and DFC keeps them where
the refit's pairing is weak and theirs clearer (``refit_by_pairing``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

from .cache import default_cache_dir
from .config import DFCConfig


def umap_gmm_options(cfg: DFCConfig) -> dict:
    """:class:`UmapGmm`'s keyword arguments from DFC's settings (recipe constants: ``umap_neighbors`` ...)."""
    return {"n_neighbors": cfg.umap_neighbors, "min_dist": cfg.umap_min_dist, "pca_dim": cfg.pca_dim,
            "gmm_restarts": cfg.gmm_restarts, "reg_covar": cfg.gmm_reg_covar, "score_sample": cfg.silhouette_samples}


UMAP_GMM = umap_gmm_options(DFCConfig())  # the defaults: every recipe's values


def _umap():
    # umap-learn prints TensorFlow / numba notices on import; keep the CLI quiet
    # numba's compiled kernels beside the pretraining cache ($FAIRCLUST_CACHE, $XDG_CACHE_HOME/fairclust or
    # ~/.cache/fairclust), not in site-packages, which may be read-only; a NUMBA_CACHE_DIR of the user's wins
    os.environ.setdefault("NUMBA_CACHE_DIR", str(default_cache_dir() / "numba"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap
    return umap


def umap_gmm(X: np.ndarray, n_clusters: int, seed: int, **settings) -> np.ndarray:
    """Soft assignment ``N x K`` of one group's samples: PCA -> UMAP -> Gaussian mixture."""
    return umap_gmm_scored(X, n_clusters, seed, **settings)[0]


def umap_gmm_scored(X: np.ndarray, n_clusters: int, seed: int, **settings) -> tuple[np.ndarray, float]:
    """:func:`umap_gmm` and the silhouette of its partition in the UMAP embedding (:class:`UmapGmm`)."""
    fitted = UmapGmm(X, n_clusters, seed, **settings)
    return fitted.assign(), fitted.score


class UmapGmm:
    """One group's UMAP + GMM teacher, fitted; :meth:`assign` gives the soft assignment of all its samples.

    ``max_samples``: PCA, UMAP and the mixture are fitted on at most this many samples (drawn
    with ``seed``) and the others are placed out of sample by :meth:`assign` (``UMAP.transform``,
    then the mixture's posterior), so a large group costs a fit of fixed size plus a transform,
    and a choice between teachers (``score``) costs only the fits. ``score``: the silhouette of
    the fitted samples' partition in the UMAP embedding (on at most ``score_sample`` of them,
    drawn with ``seed``; -1 when undefined: a single cluster, or as many clusters as samples).
    """

    def __init__(self, X: np.ndarray, n_clusters: int, seed: int, *, n_neighbors: int = UMAP_GMM["n_neighbors"],
                 min_dist: float = UMAP_GMM["min_dist"], pca_dim: int = UMAP_GMM["pca_dim"],
                 gmm_restarts: int = UMAP_GMM["gmm_restarts"], reg_covar: float = UMAP_GMM["reg_covar"],
                 score_sample: int = UMAP_GMM["score_sample"], max_samples: int | None = None):
        Z = np.asarray(X, dtype=np.float32).reshape(X.shape[0], -1)
        n_all = Z.shape[0]
        fit = np.arange(n_all)
        if max_samples is not None and n_all > max_samples:
            fit = np.sort(np.random.default_rng(seed).choice(n_all, max_samples, replace=False))
        n = len(fit)
        if Z.shape[1] > pca_dim and n > pca_dim:
            pca = PCA(pca_dim, random_state=seed)
            Z = pca.fit_transform(Z) if n == n_all else pca.fit(Z[fit]).transform(Z).astype(np.float32)
        self.Z, self.fit_idx, self.n_clusters, self.reducer = Z, fit, n_clusters, None
        self._E_all = None  # every sample's UMAP embedding, placed by assign() once
        if n_clusters == 1:  # one cluster: nothing to learn (and a group may then have a single sample)
            self.score = -1.0
            self.fit_labels = np.zeros(len(fit), dtype=np.int64)
            return
        dim = max(2, min(n_clusters, n - 2))
        if n < 3:  # UMAP needs 2 neighbours: a group of 1 or 2 samples is clustered as it is
            self.E_fit = Z[fit]
        else:
            with _umap_calls() as umap:
                self.reducer = umap.UMAP(n_components=dim, n_neighbors=min(n_neighbors, n - 1), min_dist=min_dist,
                                            random_state=seed, n_jobs=1, init="spectral" if n > dim + 1 else "random")
                self.E_fit = self.reducer.fit_transform(Z[fit])
        self._fit_mixture(gmm_restarts, reg_covar, seed)
        labels = self.fit_labels  # the fitted samples' partition (the same samples for every candidate of a group)
        sub = np.random.default_rng(seed).permutation(n)[:score_sample]
        # defined for 2 .. n-1 clusters: a group of exactly K samples split into K singletons has none
        defined = 1 < len(np.unique(labels[sub])) < len(sub)
        self.score = float(silhouette_score(self.E_fit[sub], labels[sub])) if defined else -1.0

    def refit_mixture(self, restarts: int, seed: int) -> UmapGmm:
        """Refit the Gaussian mixture on the same UMAP embedding with ``restarts`` restarts (the best by
        likelihood). Under the same ``seed`` the first restarts are those of the first fit, so the likelihood
        can only rise. ``score`` is kept: it scored the candidate's embedding, not this partition."""
        if self.n_clusters > 1 and restarts > self.gmm.n_init:
            self._fit_mixture(restarts, self.gmm.reg_covar, seed)
        return self

    def _fit_mixture(self, restarts: int, reg_covar: float, seed: int) -> None:
        self.gmm = GaussianMixture(self.n_clusters, covariance_type="full", n_init=restarts, reg_covar=reg_covar,
                                   random_state=seed).fit(self.E_fit)
        self.fit_labels = self.gmm.predict(self.E_fit)

    def assign(self) -> np.ndarray:
        """Soft assignment ``N x K`` of every sample of the group (the rest placed out of sample)."""
        n_all = self.Z.shape[0]
        if self.n_clusters == 1:
            return np.ones((n_all, 1), dtype=np.float32)
        if len(self.fit_idx) == n_all:
            E = self.E_fit
        else:  # placed once: a refitted mixture (refit_mixture) assigns the same embedding again
            if self._E_all is None:
                E = np.empty((n_all, self.E_fit.shape[1]), dtype=np.float32)
                E[self.fit_idx] = self.E_fit
                rest = np.setdiff1d(np.arange(n_all), self.fit_idx)
                with _umap_calls():
                    E[rest] = self.reducer.transform(self.Z[rest])
                self._E_all = E
            E = self._E_all
        return self.gmm.predict_proba(E).astype(np.float32)


@contextlib.contextmanager
def _umap_calls():
    """umap-learn as the teachers call it (yields the module), with three measured costs removed and put back
    after the call, so that no other use of umap-learn in the process is touched:

    * a small data set's (under 4,096 samples: every candidate teacher) distances: umap-learn hands scikit-learn's
      ``pairwise_distances`` its own numba metric, which scikit-learn then calls once per pair from Python (a fit
      of 1,797 x 50: 6.8 s, 3.4 s without it; bench/umap_calls.py); Euclidean is handed over by name instead (BLAS;
      the same distances up to float rounding);
    * its per-row graph kernels (:func:`_serial_kernels`) compiled serially and cached on disk instead of compiled
      in parallel mode in every process (the first fit in a process: 22.6 s, serial 12.4 s, cached 4.0 s);
    * a larger data set's neighbours (4,096 samples or more: a refitted teacher, out-of-sample placement): umap-learn
      finds them with pynndescent, whose search numba compiles in every process, uncached (the first fit of 5,000
      MNIST images in a new process: 81.8 s, 10.4 s with the exact search; bench/umap_calls.py); Euclidean
      neighbours are found exactly instead (:class:`ExactNeighbors`: scikit-learn's brute-force search, BLAS, in
      chunks), the fit's own and ``transform``'s (the same neighbours up to ties, where pynndescent's are approximate);
    * UMAP ends by restoring numba's thread count (the machine's core count, whatever OMP_NUM_THREADS says), and
      numba's OpenMP layer shares torch's runtime: torch would then train on every core. Torch's count is put back.

    Warnings (n_jobs overridden by random_state, spectral initialisation fallbacks) are silenced."""
    umap = _umap()
    graph = umap.umap_
    swaps = {**_serial_kernels(graph), "pairwise_distances": _named_euclidean(graph.pairwise_distances,
                                                                              umap.distances.euclidean),
             "nearest_neighbors": _exact_euclidean_neighbors(graph.nearest_neighbors)}
    kept = {name: getattr(graph, name) for name in swaps}
    threads = torch.get_num_threads()
    try:
        for name, fn in swaps.items():
            setattr(graph, name, fn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield umap
    finally:
        for name, fn in kept.items():
            setattr(graph, name, fn)
        torch.set_num_threads(threads)


def _named_euclidean(pairwise_distances, euclidean):
    """``pairwise_distances`` that computes umap-learn's numba ``euclidean`` as scikit-learn's own "euclidean"."""
    def distances(X, Y=None, metric="euclidean", **kwds):
        return pairwise_distances(X, Y, metric="euclidean" if metric is euclidean and not kwds else metric, **kwds)
    return distances


def _exact_euclidean_neighbors(nearest_neighbors):
    """umap-learn's ``nearest_neighbors`` that finds Euclidean neighbours of dense data exactly
    (:class:`ExactNeighbors`), and hands anything else to the library's own."""
    def neighbors(X, n_neighbors, metric, metric_kwds, angular, random_state, *args, **kwargs):
        if metric != "euclidean" or metric_kwds or not isinstance(X, np.ndarray):
            return nearest_neighbors(X, n_neighbors, metric, metric_kwds, angular, random_state, *args, **kwargs)
        index = ExactNeighbors(X)
        return (*index.query(X, n_neighbors), index)
    return neighbors


class ExactNeighbors:
    """A Euclidean neighbour index with the interface umap-learn asks of pynndescent's (``query``, which
    ``UMAP.transform`` calls, and ``_angular_trees``): scikit-learn's exact brute-force search (BLAS distances,
    in chunks of bounded memory). A point queried against the data it indexes is its own first neighbour, as in
    pynndescent's graph."""

    _angular_trees = False

    def __init__(self, data: np.ndarray):
        from sklearn.neighbors import NearestNeighbors

        self._search = NearestNeighbors(algorithm="brute", metric="euclidean").fit(data)

    def query(self, X: np.ndarray, k: int, epsilon: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest indexed points of every row of ``X`` (indices int32, distances float32, nearest first);
        ``epsilon`` (pynndescent's search breadth) has no meaning for an exact search."""
        dists, idx = self._search.kneighbors(X, n_neighbors=k)
        return idx.astype(np.int32), dists.astype(np.float32)


SERIAL_KERNELS = ("fast_knn_indices", "smooth_knn_dist", "compute_membership_strengths", "submatrix")


@functools.cache
def _serial_kernels(graph) -> dict:
    """umap-learn's per-row kernels of its neighbour graph as serial numba functions cached on disk (the same
    Python functions and typing; each row is computed alone, so nothing but the compilation changes). The teachers
    fit UMAP single-threaded (``n_jobs=1`` under a seed), where parallel mode only adds compilation, and in
    forked workers (:func:`fairclust.utils.fork_map`), where numba's GNU OpenMP layer aborts if the parent used it.
    Kernels this umap-learn version lacks or defines otherwise are left as they are."""
    import numba

    serial = {}
    for name in SERIAL_KERNELS:
        fn = getattr(graph, name, None)
        if fn is None or not hasattr(fn, "py_func") or not getattr(fn, "targetoptions", {}).get("parallel"):
            continue
        serial[name] = numba.njit(cache=True, locals=dict(getattr(fn, "locals", {}) or {}))(fn.py_func)
    return serial


@functools.cache
def load_umap_kernels() -> None:
    """Compile or load from numba's cache, once per process, the kernels a teacher's UMAP fit runs: a fit of 64
    random points. A process that then forks its fits (:func:`fairclust.utils.fork_map`) hands them to every
    worker instead of each importing umap-learn and loading them again (~7 s a worker)."""
    points = np.random.default_rng(0).random((64, 8), dtype=np.float32)
    with _umap_calls() as umap:
        umap.UMAP(n_components=2, n_neighbors=5, min_dist=UMAP_GMM["min_dist"], random_state=0, n_jobs=1,
                  init="spectral", n_epochs=10).fit_transform(points)


def most_agreeing(fitted: dict[str, "UmapGmm"]) -> str | None:
    """The candidate whose partition agrees most with the others' (mean NMI on the samples they were
    all fitted on): the medoid of the candidates, a consensus pick. None with fewer than three
    candidates (two agree with each other alike)."""
    if len(fitted) < 3:
        return None
    from sklearn.metrics import normalized_mutual_info_score

    names = list(fitted)
    agree = {a: np.mean([normalized_mutual_info_score(fitted[a].fit_labels, fitted[b].fit_labels)
                         for b in names if b != a]) for a in names}
    return max(names, key=lambda a: agree[a])
