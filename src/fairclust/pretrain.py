"""Pretraining, SPEC section 1.2: the shared VAE, per-group DEC teachers, initial centres.

The authors never released this part; every stage here is deterministic under its seed
and cached on disk (see :mod:`fairclust.cache`), keyed by the data's fingerprint, the
stage's settings and the seed, so a re-run (or another method on the same data) skips it.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .align import centroids
from .cache import StageCache, fingerprint
from .canonical import canonical_frame
from .contrastive import (CONTRASTIVE_FEATURES, CONTRASTIVE_VERSION, contrastive_applies, contrastive_embedding,
                          contrastive_updates)
from .config import (
    DEC_TEACHERS,
    INIT_CENTERS,
    MATCHING,
    SHARED_VAE,
    UMAP_TEACHERS,
    DFCConfig,
    EncoderConfig,
)
from .embedding import embed, kmeans, soft_assign
from .errors import FairclustError, FairclustWarning
from .losses import dec_divergence, dec_target, vae_loss
from .nn import make_decoder, make_encoder, nhwc, nhwc_input, sample_z, student_t
from .perf import Stages
from .persist import plain
from .sampling import BalancedSampler, sample_per_group
from .teachers import UmapGmm, load_umap_kernels, most_agreeing, umap_gmm_options
from .utils import fork_map, images_at_most, progress

# each cached stage's code version: bump a stage's number when what it computes changes, so that entries
# computed by the old code are not reused (the settings it reads are in its key already: Config.stage_values)
STAGE_VERSIONS = {SHARED_VAE: 3, DEC_TEACHERS: 3, UMAP_TEACHERS: 4, INIT_CENTERS: 2, MATCHING: 1}
# feature vectors are taken as on one scale (the auto teacher may cluster them unstandardised) when the ranges of
# their non-constant features are within this factor of the median range: an order of magnitude
UNSCALED_RANGE_RATIO = 10.0


def recon_kind(X: torch.Tensor | np.ndarray) -> str:
    """Bernoulli (BCE) reconstruction for images in [0, 1], Gaussian (MSE) otherwise."""
    if X.ndim == 4 and float(X.min()) >= 0.0 and float(X.max()) <= 1.0:
        return "bce"
    return "mse"


def vae_group_batch(n: int, n_groups: int, batch_size: int) -> int:
    """Samples per group in one VAE batch (at most ``batch_size``, at least 2)."""
    return min(batch_size, max(2, n // n_groups))


def vae_iterations(n: int, batch: int, epochs: float, max_samples: int = 0) -> int:
    """Iterations of ``epochs`` passes over ``n`` samples in batches of ``batch``, capped at
    ``max_samples`` samples drawn (0: no cap): on large data the budget, not the data, sets the length."""
    iters = max(1, math.ceil(epochs * n / batch))
    return min(iters, max(1, math.ceil(max_samples / batch))) if max_samples > 0 else iters


def train_vae(X: torch.Tensor, group_codes: np.ndarray, s: DFCConfig, seed: int, device: torch.device,
              *, epochs: int, desc: str, verbose: bool, condition: bool = False, max_samples: int = 0) -> dict:
    """Train encoder + mirrored decoder as a VAE on group-balanced batches; return the encoder's state.

    Length: ``epochs`` passes over ``X``, or fewer when that would draw more than
    ``max_samples`` samples (all groups together; 0: no cap): :func:`vae_iterations`.

    ``condition``: the decoder also reads the sample's group (one-hot beside ``z``), so the
    latent need not encode what tells the groups apart (a source's style); the encoder, and
    so every later use of it, never sees the group.
    """
    torch.manual_seed(seed)
    shape = tuple(X.shape[1:])
    n_groups = int(group_codes.max()) + 1
    condition = condition and n_groups > 1
    enc = make_encoder(shape, s.latent_dim, s.center_input).to(device)
    dec = make_decoder(shape, s.latent_dim + (n_groups if condition else 0)).to(device)
    nhwc(enc, dec)  # the returned state holds the same values in NCHW-loaded encoders
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=s.pretrain_lr)
    if condition:
        onehot = torch.eye(n_groups, device=device)[torch.from_numpy(np.asarray(group_codes, dtype=np.int64)).to(device)]
    per_group = vae_group_batch(X.shape[0], n_groups, s.pretrain_batch_size)
    sampler = BalancedSampler(group_codes, per_group, seed)
    iters = vae_iterations(X.shape[0], per_group * n_groups, epochs, max_samples)
    kind = recon_kind(X)
    enc.train()
    dec.train()
    bar = progress(range(iters), desc=desc, enabled=verbose)
    for it in bar:
        idx = torch.from_numpy(sampler.next())
        xb = nhwc_input(X[idx].to(device, non_blocking=True))
        mu, logvar = enc(xb)
        z = sample_z(mu, logvar, True)
        if condition:
            z = torch.cat([z, onehot[idx.to(device)]], 1)
        loss = vae_loss(xb, dec(z), mu, logvar, kind, s.kl_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.1f}")
    return {k: v.detach().cpu() for k, v in enc.state_dict().items()}


def train_dec(encoder: torch.nn.Module, X: torch.Tensor, n_clusters: int, s: DFCConfig, seed: int,
              device: torch.device, *, desc: str, verbose: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """DEC (Xie et al. 2016) on ``X``: k-means init in mu-space, then self-training.

    The full target distribution is refreshed every ``dec_update_interval`` iterations.
    Returns the centres and the final soft assignment of every sample of ``X``.
    """
    torch.manual_seed(seed)
    km = kmeans(embed(encoder, X, device).numpy(), n_clusters, s.kmeans_n_init, seed)
    centers = torch.nn.Parameter(torch.tensor(km.cluster_centers_, dtype=torch.float32, device=device))
    opt = torch.optim.Adam(list(encoder.parameters()) + [centers], lr=s.dec_lr)
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    b = min(s.dec_batch_size, n)
    order, pos, target = rng.permutation(n), 0, None
    nhwc(encoder)
    encoder.train()
    for it in progress(range(s.dec_iters), desc=desc, enabled=verbose):
        if it % s.dec_update_interval == 0:
            target = dec_target(soft_assign(encoder, centers, X, device))
        if pos + b > n:
            order, pos = rng.permutation(n), 0
        idx = torch.from_numpy(order[pos:pos + b])
        pos += b
        q = student_t(encoder(nhwc_input(X[idx].to(device)))[0], centers)
        p = target[idx].to(device)
        loss = dec_divergence(p, q)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return centers.detach().cpu(), soft_assign(encoder, centers, X, device)


def has_contrastive_space(settings: EncoderConfig, shape: tuple, group_codes: np.ndarray,
                          n_clusters: int | None = None) -> bool:
    """Whether the teachers train the SimCLR encoder on data of ``shape`` (:meth:`Pretrainer.contrastive_space`): the
    auto teacher, ``contrastive_steps`` > 0, images of at least 8 x 8; with ``n_clusters``, also every group large
    enough to have its features (2 samples a cluster)."""
    if not (getattr(settings, "teacher", None) == "auto" and getattr(settings, "contrastive_steps", 0) > 0
            and contrastive_applies(shape)):
        return False
    return n_clusters is None or int(np.bincount(group_codes).min()) >= 2 * n_clusters


# ----------------------------------------------------------------------------- stages
class Pretrainer:
    """Runs (or loads from the cache) the three pretraining stages for one data set."""

    def __init__(self, X: torch.Tensor, group_codes: np.ndarray, settings: EncoderConfig, seed: int,
                 device: torch.device, cache: StageCache, verbose: bool = False, input_scale: np.ndarray | None = None,
                 net_X: torch.Tensor | None = None):
        self.X = X  # what the teachers' spaces and the pairing read (images at their own size)
        # what the networks read (the shared VAE, DEC's teachers, the embedding): images resized to at most
        # input_side pixels a side (as the estimators' _fit_scaler gives it: pass it to skip a second resize)
        if net_X is None:
            net_X = torch.from_numpy(images_at_most(X.numpy(), getattr(settings, "input_side", 0)))
        self.net_X = net_X
        # feature vectors: X is standardised and this is each feature's scale (X * scale is the input in its own
        # units, up to a shift); the auto teacher may try that space too (unscaled_space)
        self.input_scale = None if input_scale is None else np.asarray(input_scale, dtype=np.float32)
        self.codes = np.asarray(group_codes, dtype=np.int64)
        self.n_groups = int(self.codes.max()) + 1
        self.s = settings
        self.seed = int(seed)
        self.device = device
        self.cache = cache
        self.verbose = verbose
        self.data_key = fingerprint(X, self.codes)
        self.shape = tuple(self.net_X.shape[1:])  # the networks' input shape
        self.stages = Stages()  # seconds and peak memory of every stage run or loaded
        self.timings = self.stages.seconds
        self.loaded_from_cache: dict[str, bool] = {}
        self.teacher_choice: list[dict] | None = None  # the "auto" teacher's pick per group
        self.teachers_first: np.ndarray | None = None  # UMAP teachers before their refit, where it changed one
        self._embedding: tuple[torch.nn.Module, np.ndarray] | None = None  # (encoder, its mu of X)
        self._canonical: np.ndarray | None = None
        self._contrastive: tuple[int, np.ndarray] | None = None  # (K, the SimCLR features), computed once
        self._unscaled: tuple[np.ndarray | None] | None = None
        if getattr(settings, "teacher", None) == "canonical" and X.ndim != 4:
            raise FairclustError("teacher='canonical' needs images (N x C x H x W); for feature vectors use "
                                 "teacher='auto', 'umap' or 'vae-umap'")

    def stage_key(self, stage: str, **parts: Any) -> str:
        """The cache key of ``stage``: the data, the seed, the stage's code version, every setting the stage
        reads (:meth:`fairclust.settings.Config.stage_values`) and ``parts`` (the run's other inputs)."""
        return self.cache.key(stage, data=self.data_key, seed=self.seed, stage_version=STAGE_VERSIONS[stage],
                              settings=self.s.stage_values(stage), **parts)

    def _cached(self, stage: str, parts: dict, compute):
        key = self.stage_key(stage, **parts)
        with self.stages.measure(stage):
            hit = self.cache.get(stage, key)
            self.loaded_from_cache[stage] = hit is not None
            if hit is None:
                hit = compute()
                self.cache.put(stage, key, hit)
        return hit, key

    def shared_encoder(self) -> tuple[torch.nn.Module, str]:
        """Stage 1: the shared VAE encoder, trained on group-balanced batches."""
        state, key = self._cached(
            SHARED_VAE, {},
            lambda: {"encoder": train_vae(self.net_X, self.codes, self.s, self.seed, self.device,
                                          epochs=self.s.pretrain_epochs, desc="pretrain shared VAE", verbose=self.verbose,
                                          max_samples=self.s.pretrain_max_samples)},
        )
        enc = make_encoder(self.shape, self.s.latent_dim, self.s.center_input)
        enc.load_state_dict(state["encoder"])
        return enc.to(self.device), key

    def teacher_assignments(self, n_clusters: int, encoder: torch.nn.Module | None = None,
                            encoder_key: str | None = None) -> np.ndarray:
        """Stage 2: one teacher per group on that group alone; P_hat for every sample.

        Row ``i`` of the result is teacher ``g(i)``'s soft assignment of sample ``i``.
        The teachers are frozen and in eval mode during DFC, so their output on a sample
        never changes: it is computed here once instead of at every DFC step.
        ``teacher``: ``"dec"`` the paper's VAE + DEC per group; ``"umap"``
        :func:`fairclust.teachers.umap_gmm` on the input; ``"vae-umap"`` the same on the
        shared encoder's embedding ``mu`` (``encoder``, N2D-style); ``"canonical"`` the same on the
        images' canonical frame; ``"auto"`` all that apply, and per group the best separated
        (``self.teacher_choice``: the kind and silhouettes per group).
        """
        if self.s.teacher != "dec":
            return self._umap_teachers(n_clusters, encoder, encoder_key)
        def compute() -> dict:
            P = torch.zeros(self.X.shape[0], n_clusters)
            for g in range(self.n_groups):
                members = np.flatnonzero(self.codes == g)
                Xg = self.net_X[torch.from_numpy(members)]
                seed_g = self.seed + 1000 * (g + 1)
                state = train_vae(Xg, np.zeros(len(members), dtype=np.int64), self.s, seed_g, self.device,
                                  epochs=self.s.teacher_epochs, desc=f"pretrain teacher {g}", verbose=self.verbose)
                enc = make_encoder(self.shape, self.s.latent_dim, self.s.center_input).to(self.device)
                enc.load_state_dict(state)
                _, q = train_dec(enc, Xg, n_clusters, self.s, seed_g, self.device, desc=f"DEC teacher {g}",
                                 verbose=self.verbose)
                P[torch.from_numpy(members)] = q
            return {"P": P}

        out, _ = self._cached(DEC_TEACHERS, {"n_clusters": int(n_clusters)}, compute)
        return out["P"].numpy()

    def _umap_teachers(self, n_clusters: int, encoder: torch.nn.Module | None, encoder_key: str | None) -> np.ndarray:
        kind = self.s.teacher
        images = self.X.ndim == 4
        unscaled = self.unscaled_space() if kind == "auto" else None
        inputs = {"umap": ["umap"], "vae-umap": ["vae-umap"], "canonical": ["canonical"],
                  "auto": ["umap", "vae-umap"] + (["canonical"] if images else [])
                  + (["unscaled"] if unscaled is not None else [])
                  + (["contrastive"] if self.has_contrastive_space() else [])}[kind]
        if "vae-umap" in inputs and encoder is None:
            raise ValueError("the vae-umap teacher needs the shared encoder")
        cap = self.s.teacher_max_samples
        # a choice: each candidate fitted and scored on at most teacher_select_samples of the group (a fixed-size
        # choice), the chosen one refitted on the capped group where the group is larger; it then places the rest
        select = min(cap, self.s.teacher_select_samples) if len(inputs) > 1 else None
        options = umap_gmm_options(self.s)

        def compute() -> dict:
            spaces = {"umap": self.X.numpy()}
            if "vae-umap" in inputs:
                spaces["vae-umap"] = self.embedding(encoder)
            if "canonical" in inputs:
                spaces["canonical"] = self.canonical()
            if "unscaled" in inputs:
                spaces["unscaled"] = unscaled
            if "contrastive" in inputs:
                spaces["contrastive"] = self.contrastive_space(n_clusters)
            P = np.zeros((self.X.shape[0], n_clusters), dtype=np.float32)
            P_first = np.zeros_like(P)  # the kept teachers before their refit (the pairing may prefer them)
            groups = [np.flatnonzero(self.codes == g) for g in range(self.n_groups)]
            names = [[name for name in inputs if not np.isnan(spaces[name][m]).any()] for m in groups]  # too small
            workers = torch.get_num_threads()  # the fits are single-threaded: one process a core (fork_map)
            if workers > 1:
                load_umap_kernels()  # here, before the workers fork, not in each of them

            def candidate(job: tuple[int, str]) -> UmapGmm:
                g, name = job
                return UmapGmm(spaces[name][groups[g]], n_clusters, self.seed, max_samples=select or cap, **options)

            jobs = [(g, name) for g in range(self.n_groups) for name in names[g]]
            with progress(total=2 * self.n_groups, desc="teachers (UMAP + GMM)", enabled=self.verbose) as bar:
                fits = dict(zip(jobs, fork_map(candidate, jobs, workers)))
                bar.update(self.n_groups)
                choice, kept = [], []
                for g in range(self.n_groups):
                    fitted = {name: fits[g, name] for name in names[g]}
                    best = max(names[g], key=lambda name: fitted[name].score)  # ties: the input itself
                    if self.s.teacher_select == "agreement":
                        best = most_agreeing(fitted) or best
                    refit = select is not None and select < cap and len(groups[g]) > select
                    # the chosen one refitted on the capped group where the candidates saw a sample of it
                    kept.append((g, best, None if refit else fitted[best]))
                    choice.append({"group": g, "kind": best, **{f"silhouette_{n}": f.score for n, f in fitted.items()}})

                def final(job: tuple[int, str, UmapGmm | None]) -> tuple[np.ndarray, np.ndarray]:
                    g, best, teacher = job
                    if teacher is None:
                        teacher = UmapGmm(spaces[best][groups[g]], n_clusters, self.seed, max_samples=cap, **options)
                    first = teacher.assign()
                    return first, teacher.refit_mixture(self.s.teacher_restarts, self.seed).assign()  # best optimum

                for (g, _, _), (first, refitted), c in zip(kept, fork_map(final, kept, workers), choice):
                    P_first[groups[g]], P[groups[g]] = first, refitted
                    c["refit_changed"] = bool((first.argmax(1) != refitted.argmax(1)).any())
                bar.update(self.n_groups)
            # where no refit changed a partition there is nothing to choose between: an empty P_first
            first = P_first if any(c["refit_changed"] for c in choice) else np.zeros((0, n_clusters), np.float32)
            out = {"P": torch.from_numpy(P), "P_first": torch.from_numpy(first), "choice": json.dumps(choice)}
            if "contrastive" in inputs:  # kept with the teachers: the pairing compares the groups there too
                out["contrastive"] = torch.from_numpy(spaces["contrastive"])
            return out

        parts = {"n_clusters": int(n_clusters), "candidates": inputs, "select_samples": select,
                 "encoder": encoder_key if "vae-umap" in inputs else None, "keeps_first_fits": True}
        if "contrastive" in inputs:  # the embedding's code version
            parts["contrastive_version"] = CONTRASTIVE_VERSION
        if unscaled is not None:  # the standardised data's key does not know the units
            parts["input_scale"] = fingerprint(self.input_scale)
        out, _ = self._cached(UMAP_TEACHERS, parts, compute)
        self.teacher_choice = json.loads(out["choice"])
        self.teachers_first = out["P_first"].numpy() if len(out["P_first"]) else None
        if "contrastive" in out and self._contrastive is None:  # loaded: a pairing not cached need not train it again
            self._contrastive = (int(n_clusters), out["contrastive"].numpy())
        return out["P"].numpy()

    def matched_teachers(self, P: np.ndarray, match: Callable[[], tuple], space: str,
                         encoder_key: str | None = None) -> tuple[np.ndarray, list[dict], dict | None]:
        """The teachers ``P`` matched across groups in ``space`` (``match_space`` as it applies here):
        ``match()`` returns ``(matched P, records, refit choice)``; cached like a stage (keyed by the teachers,
        before and after their refit, the space and what made it, the matching's settings and the seed), since
        its transfer classifiers are most of a small run's time and a re-run with other training settings
        (alpha, T, fair labels) pairs the same teachers. The warnings it gave (a weak pairing) are kept with it
        and given again on a hit; records come back as plain JSON values either way."""
        parts = {"teachers": fingerprint(P, self.teachers_first), "space": space,
                 "encoder": encoder_key if space == "embedding" else None}
        if space == "contrastive":  # the SimCLR features: their code version and updates
            parts["contrastive"] = [CONTRASTIVE_VERSION, self.s.contrastive_steps]

        def compute() -> dict:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                matched, records, refit = match()
            said = [str(w.message) for w in caught if issubclass(w.category, FairclustWarning)]
            for w in caught:  # any other warning passes as it came, once
                if not issubclass(w.category, FairclustWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return {"P": torch.from_numpy(np.ascontiguousarray(matched, dtype=np.float32)),
                    "records": json.dumps(records, default=plain), "refit": json.dumps(refit, default=plain),
                    "warnings": json.dumps(said)}

        out, _ = self._cached(MATCHING, parts, compute)
        for message in json.loads(out["warnings"]):
            warnings.warn(message, FairclustWarning, stacklevel=3)
        return out["P"].numpy(), json.loads(out["records"]), json.loads(out["refit"])

    def contrastive_space(self, n_clusters: int) -> np.ndarray:
        """Every sample's features under one SimCLR encoder trained on all groups together
        (:func:`~fairclust.contrastive.contrastive_updates`: ``contrastive_steps`` for two groups, G / 2 times as many
        for G, batches drawn from the union); NaN rows in a group too small to cluster (fewer than 2 samples a
        cluster). One encoder, not one per group: half the cost with two groups, and a small group learns from its
        neighbours' images (USPS beside MNIST: its teacher 0.794 -> 0.949 at one seed; results.md)."""
        if self._contrastive is not None and self._contrastive[0] == n_clusters:  # the teachers' and the pairing's
            return self._contrastive[1]
        steps = contrastive_updates(self.s.contrastive_steps, self.n_groups)
        out = np.full((self.X.shape[0], CONTRASTIVE_FEATURES), np.nan, dtype=np.float32)
        sizes = np.bincount(self.codes, minlength=self.n_groups)
        kept = sizes[self.codes] >= 2 * n_clusters
        if kept.sum() >= 2:
            with progress(total=steps, desc="contrastive encoder", enabled=self.verbose) as bar:
                out[kept] = contrastive_embedding(self.X.numpy()[kept], steps, self.seed, self.device, bar.update)
        self._contrastive = (n_clusters, out)
        return out

    def has_contrastive_space(self, n_clusters: int | None = None) -> bool:
        """Whether the teachers train the SimCLR encoder here (:meth:`contrastive_space`; :func:`has_contrastive_space`)."""
        return has_contrastive_space(self.s, self.X.shape, self.codes, n_clusters)

    def unscaled_space(self) -> np.ndarray | None:
        """Feature vectors in their own units (``X * input_scale``; UMAP, PCA and centroid pairing ignore the
        shift) where the ``unscaled_input`` setting asks for it and the features are on one scale: the ranges of
        the non-constant ones within a factor ``UNSCALED_RANGE_RATIO`` of their median (pixels, counts). None
        otherwise: images, a table of ages and incomes, or no scale given."""
        if self.input_scale is None or self.X.ndim != 2 or not (hasattr(self.s, "unscaled_input") and self.s.unscaled_input):
            return None
        if self._unscaled is None:  # computed once (teachers and pairing share it)
            Xu = self.X.numpy() * self.input_scale
            spread = Xu.max(0) - Xu.min(0)
            spread = spread[spread > 1e-6 * max(float(spread.max()), 1e-30)]
            one_scale = len(spread) >= 2 and spread.max() <= UNSCALED_RANGE_RATIO * np.median(spread)
            self._unscaled = (Xu if one_scale else None,)
        return self._unscaled[0]

    def input_space(self) -> np.ndarray:
        """The input as the teachers' pairing compares it: :meth:`unscaled_space` where there is one, else ``X``."""
        unscaled = self.unscaled_space()
        return self.X.numpy() if unscaled is None else unscaled

    def embedding(self, encoder: torch.nn.Module) -> np.ndarray:
        """``mu`` of every sample under ``encoder``, inferred once per encoder (teachers and centres share it)."""
        if self._embedding is None or self._embedding[0] is not encoder:
            self._embedding = (encoder, embed(encoder, self.net_X, self.device).numpy())
        return self._embedding[1]

    def canonical(self) -> np.ndarray:
        """Every sample in its canonical frame (:func:`fairclust.canonical.canonical_frame`), computed once
        (the teachers and the cross-group matching share it)."""
        if self.X.ndim != 4:  # feature vectors have no frame: the input, as the pairing compares it
            return self.input_space()
        if self._canonical is None:
            self._canonical = canonical_frame(self.X.numpy(), self.s.canonical_size, self.s.canonical_threshold)
        return self._canonical

    def teacher_centers(self, encoder: torch.nn.Module, P: np.ndarray) -> np.ndarray:
        """Initial centres from (aligned) teachers: each cluster's ``P``-weighted mean of ``mu``.

        DFC then starts from the teachers' partition instead of an unrelated k-means one.
        Cheap (the embedding the teachers used, or one inference pass), so not cached.
        """
        return centroids(self.embedding(encoder), P).astype(np.float32)

    def initial_centers(self, encoder: torch.nn.Module, encoder_key: str, n_clusters: int) -> np.ndarray:
        """Stage 3: k-means (several restarts) on mu of the shared encoder, group-balanced sample."""
        parts = {"encoder": encoder_key, "n_clusters": int(n_clusters)}

        def compute() -> dict:
            idx = sample_per_group(self.codes, min(np.bincount(self.codes)), np.random.default_rng(self.seed))
            Z = embed(encoder, self.net_X[torch.from_numpy(idx)], self.device).numpy()
            km = kmeans(Z, n_clusters, self.s.kmeans_n_init, self.seed)
            return {"centers": torch.tensor(km.cluster_centers_, dtype=torch.float32)}

        out, _ = self._cached(INIT_CENTERS, parts, compute)
        return out["centers"].numpy()
