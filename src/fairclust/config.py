"""Every method's settings, declared once: one frozen dataclass per method.

* :class:`EncoderConfig`: the shared VAE encoder (pretraining), which DFC and every baseline
  that clusters its features read; :class:`DECConfig` adds DEC's (the DEC baseline, DFC's
  ``dec`` teachers); :class:`DFCConfig` adds DFC's teachers, matching, training loop and labels.
* :class:`FCMIConfig`: FCMI's (its own recipes ``default`` and ``paper``).
* One per baseline: :class:`KMeansConfig`, :class:`DACConfig`, :class:`ClusterGANConfig`,
  :class:`ScFCConfig`, :class:`FAlgConfig`, :class:`FCCConfig`, :class:`SpFCConfig`.

How a field is declared, resolved and checked: :mod:`fairclust.settings`. Recipes:
``faithful`` (each field's default) is the paper's method sized for a CPU and a few thousand
samples; ``paper`` is SPEC section 1.4, the authors' code; ``default`` adds the extensions
measured in docs/results.md (docs/recipes.md explains each). Adding a setting:
docs/development.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import FairclustError
from .settings import Config, Follows, Setting, setting

# pretraining stages cached on disk (fairclust.pretrain, fairclust.methods.fcmi): a setting lists those that read it
SHARED_VAE, DEC_TEACHERS, UMAP_TEACHERS, INIT_CENTERS, FCMI_WARMUP, MATCHING = (
    "shared_vae", "teachers", "teachers_umap", "init_centers", "fcmi_warmup", "matching")

# ----------------------------------------------------------------------------- meanings shared by several methods
LATENT_DIM = Setting("size of the learnt embedding (0: n_clusters)", (SHARED_VAE, DEC_TEACHERS, FCMI_WARMUP),
                     minimum=0)
N_ITERS = Setting("training iterations, a fixed length (DFC: its T, which replaces the data-sized epochs)",
                  minimum=0, positive=True, flag="--iters", replaces=("epochs", 0.0))
LR = Setting("Adam learning rate (DFC decays it as (1 + 10 t/T)^-0.75; the other methods keep it)", (FCMI_WARMUP,),
             minimum=0, positive=True)
WEIGHT_DECAY = Setting("Adam weight decay", (FCMI_WARMUP,), minimum=0, public=False)
BATCH_TOTAL = Setting("samples per batch, all groups mixed (DFC's batch_size is per group)", (FCMI_WARMUP,),
                      minimum=0, positive=True)
STOP_TOL = Setting("stop once fewer than this share of the labels changed between two evaluations (DEC's rule; 0: "
                   "never stop early)", minimum=0)
KMEANS_N_INIT = Setting("k-means restarts (DEC's and DFC's initial centres, FCMI's centroids)",
                        (DEC_TEACHERS, INIT_CENTERS),
                        minimum=0, positive=True, public=False)
N_INIT = Setting("k-means restarts", minimum=0, positive=True)
FAIRNESS = Setting("with several sensitive attributes, what fair means: marginal (every cluster holds each attribute's "
                   "groups in their shares, attribute by attribute) or intersection (every combination of values is a "
                   "group); one attribute: no effect", choices=("marginal", "intersection"))
FEATURE_SPACE = Setting("what the method clusters: pretrained (mu of the shared VAE encoder, DFC's) or raw (the "
                        "flattened input)", choices=("pretrained", "raw"))


@dataclass(frozen=True)
class EncoderConfig(Config):
    """The shared VAE encoder (SPEC 1.2 stage 1): DFC's, and the features of the baselines that use it."""

    latent_dim: int = LATENT_DIM(64)
    pretrain_epochs: int = setting(10, "epochs of the shared VAE pretraining", recipes={"paper": 50}, minimum=0,
                                   stages=(SHARED_VAE,))
    pretrain_max_samples: int = setting(
        0, "cap on the samples the shared VAE pretraining draws, all groups together (0: none); on large data the "
        "epochs stop there", recipes={"default": 100_000}, minimum=0, stages=(SHARED_VAE,))
    pretrain_batch_size: int = setting(128, "VAE pretraining samples per group per batch", recipes={"paper": 256},
                                       minimum=0, positive=True, public=False, stages=(SHARED_VAE, DEC_TEACHERS))
    pretrain_lr: float = setting(1e-3, "VAE pretraining Adam learning rate", minimum=0, positive=True, public=False,
                                 stages=(SHARED_VAE, DEC_TEACHERS))
    kl_weight: float = setting(1.0, "weight of the VAE's KL term", minimum=0, public=False,
                               stages=(SHARED_VAE, DEC_TEACHERS))
    input_side: int = setting(
        0, "the networks (the shared VAE, DFC, DEC's teachers) read images resized (bilinear, antialiased, the "
        "aspect kept) to at most this many pixels a side, at fit and predict alike; the teachers' other spaces and "
        "the pairing see them as given (0: as given everywhere; smaller images and feature vectors are never "
        "resized): at 24 rather than 32 the VAE's iterations cost 1.6x less and DFC's 2x, for the same accuracy "
        "(16: 2-3x, 0.005 less accurate on digits; results.md)", recipes={"default": 24}, minimum=0, public=False,
        stages=(SHARED_VAE, DEC_TEACHERS))
    center_input: bool = setting(False, "conv encoders subtract each image's own mean (inverted copies enter as -x)",
                                 recipes={"default": True}, public=False, stages=(SHARED_VAE, DEC_TEACHERS))


@dataclass(frozen=True)
class DECConfig(EncoderConfig):
    """DEC (Xie et al. 2016) on the shared encoder: the DEC baseline, and DFC's ``dec`` teachers."""

    dec_iters: int = setting(500, "DEC iterations of each group's teacher (and of the DEC baseline)",
                             recipes={"paper": 5000}, minimum=0, only_if=("teacher", "dec"), stages=(DEC_TEACHERS,))
    dec_update_interval: int = setting(100, "DEC iterations between target refreshes", recipes={"paper": 500},
                                       minimum=0, positive=True, public=False, stages=(DEC_TEACHERS,))
    dec_batch_size: int = setting(256, "DEC batch size", recipes={"paper": 512}, minimum=0, positive=True,
                                  public=False, stages=(DEC_TEACHERS,))
    dec_lr: float = setting(1e-4, "DEC Adam learning rate", minimum=0, positive=True, public=False,
                            stages=(DEC_TEACHERS,))
    kmeans_n_init: int = KMEANS_N_INIT(10)


@dataclass(frozen=True)
class DFCConfig(DECConfig):
    """Every DFC setting (frozen): the shared encoder's, its teachers', its training loop's and its labels'."""

    # --------------------------------------------------------------- per-group teachers (cached)
    teacher: str = setting(
        "dec", "per-group teachers: UMAP + GMM on the shared embedding (vae-umap), on the input (umap) or on the "
        "canonical frame of images (canonical: each cropped to its ink, 16 x 16), auto (per group the best separated "
        "of these, and for images of a contrastive embedding, contrastive_steps) or dec (the paper's VAE + DEC)", recipes={"default": "auto"},
        choices=("auto", "vae-umap", "umap", "canonical", "dec"), stages=(UMAP_TEACHERS,))
    teacher_max_samples: int = setting(
        20000, "UMAP + GMM teachers are fitted on at most this many samples per group (seeded), the rest placed out "
        "of sample (UMAP.transform)", minimum=0, positive=True, public=False, stages=(UMAP_TEACHERS,))
    teacher_select: str = setting(
        "silhouette", "how auto picks each group's teacher: silhouette (the best separated in its own UMAP "
        "embedding) or agreement (the candidate that agrees most with the others, a consensus pick; silhouette "
        "where there are only two; measured worse, results.md)", choices=("silhouette", "agreement"), only_if=("teacher", "auto"),
        stages=(UMAP_TEACHERS,))
    teacher_select_samples: int = setting(
        2000, "auto fits and scores each candidate teacher on at most this many samples per group, then refits the "
        "chosen one on the (capped) group", minimum=0, positive=True, public=False, stages=(UMAP_TEACHERS,))
    umap_neighbors: int = setting(15, "UMAP's n_neighbors in the teachers", minimum=0, positive=True, public=False,
                                  stages=(UMAP_TEACHERS,))
    umap_min_dist: float = setting(0.0, "UMAP's min_dist in the teachers", minimum=0, public=False,
                                   stages=(UMAP_TEACHERS,))
    pca_dim: int = setting(50, "the teachers reduce their input to at most this many dimensions (PCA) before UMAP",
                           minimum=0, positive=True, public=False, stages=(UMAP_TEACHERS,))
    gmm_restarts: int = setting(3, "restarts of each candidate teacher's Gaussian mixture (the best by likelihood is kept)",
                                minimum=0, positive=True, public=False, stages=(UMAP_TEACHERS,))
    teacher_restarts: int = setting(
        30, "restarts of the kept teacher's Gaussian mixture (the best by likelihood): candidates are scored with "
        "gmm_restarts, the one kept is refitted on its UMAP embedding with this many (3 restarts can stop in a worse "
        "optimum that cuts two classes at the wrong place; results.md)", minimum=0, positive=True, public=False, stages=(UMAP_TEACHERS,))
    refit_by_pairing: bool = setting(
        False, "where the teachers' refit (teacher_restarts) changed some group's partition and the refitted "
        "teachers pair weakly across groups (mean confidence z below 2, where a matching warns), the first fits "
        "are paired too and kept if they pair more clearly: on overlapping classes the groups' likeliest "
        "mixtures can land in unlike optima that pair worse (results.md)",
        recipes={"default": True}, public=False, only_if=("align_groups", True), stages=(MATCHING,))
    unscaled_input: bool = setting(
        False, "feature vectors whose features are on one scale (the ranges of the non-constant ones within a factor "
        "10 of their median: pixels, counts) are also seen in their own units: auto tries a teacher on them beside "
        "the standardised one, and the centroid pairing compares the groups' clusters there (standardising weights "
        "a rarely-inked border pixel like a central one; results.md)", recipes={"default": True}, public=False,
        stages=(UMAP_TEACHERS, MATCHING))
    contrastive_steps: int = setting(
        0, "auto also tries a teacher on an augmentation-invariant embedding: one small SimCLR encoder trained on all "
        "groups' images together for this many updates of 256 samples where there are two groups, G / 2 times as "
        "many with G groups (each group's images seen as often), images at most 16 pixels a side (0: off; images of "
        "at least 8 x 8 only, vectors skip it; ~25-45 s on 2 CPU cores for two groups; results.md)",
        recipes={"default": 800}, minimum=0, only_if=("teacher", "auto"), stages=(UMAP_TEACHERS,))
    gmm_reg_covar: float = setting(1e-4, "the Gaussian mixture's covariance regularisation", minimum=0, public=False,
                                   stages=(UMAP_TEACHERS,))
    silhouette_samples: int = setting(2000, "the teachers' silhouette is computed on at most this many samples",
                                      minimum=0, positive=True, public=False, stages=(UMAP_TEACHERS,))
    canonical_size: int = setting(16, "side of the canonical frame (each image cropped to its ink and resized)",
                                  minimum=0, positive=True, public=False, stages=(UMAP_TEACHERS, MATCHING))
    canonical_threshold: float = setting(0.25, "ink: pixels farther than this share of an image's largest deviation "
                                         "from its border's median", minimum=0, public=False,
                                         stages=(UMAP_TEACHERS, MATCHING))
    teacher_epochs: int = setting(10, "epochs of each group's teacher VAE", recipes={"paper": 50}, minimum=0,
                                  only_if=("teacher", "dec"), stages=(DEC_TEACHERS,))
    # --------------------------------------------------------------- DFC's training loop
    batch_size: int = setting(128, "DFC: samples per group per batch (b)", recipes={"paper": 512}, minimum=0,
                              positive=True)
    n_iters: int = N_ITERS(1000, paper=20000)
    epochs: float = setting(0.0, "DFC length in passes over the largest group (0: n_iters fixed iterations)",
                            recipes={"default": 15.0}, minimum=0)
    max_samples: int = setting(0, "cap on the samples DFC's loop draws, all groups together (0: none); with epochs, "
                               "on large data T stops there and the evaluations keep their number",
                               recipes={"default": 300_000}, minimum=0)
    stop_tol: float = STOP_TOL(0.0, default=0.01)
    stop_patience: int = setting(
        0, "also stop once the share of labels changed between two evaluations has not reached a new low for this "
        "many evaluations in a row: the assignments have stopped settling and only samples on the clusters' borders "
        "still flip, at a rate stop_tol need not reach (0: off; results.md)", recipes={"default": 2}, minimum=0,
        public=False)
    eval_every: int = setting(100, "iterations between evaluations with a fixed T (with epochs: once per epoch)",
                              recipes={"paper": 1000}, minimum=0, positive=True, public=False)
    eval_max_samples: int = setting(0, "the evaluations (stopping rule, history) read at most this many samples per "
                                    "group, drawn once with the seed (0: all); the labels are always of every sample",
                                    recipes={"default": 20000}, minimum=0, public=False)
    lr: float = LR(1e-2)
    collapse_retry: float | None = setting(
        None, "when DFC's argmax ends with fewer non-empty clusters than the teachers' (a collapse, seen without "
        "labels), train once more from the same start with the learning rate times this factor and keep the run "
        "whose argmax agrees more with the teachers' labels (off: never)", recipes={"default": 0.3}, fraction=True,
        positive=True, metavar="FACTOR")
    weight_decay: float = WEIGHT_DECAY(5e-4)
    critic_lr_mult: float = setting(10.0, "the critic's learning rate over the encoder's", minimum=0, positive=True,
                                    public=False)
    alpha_f: float = setting(1.0, "weight of the fairness-adversarial loss L_f", minimum=0)
    alpha_s: float = setting(1.0, "weight of the structural-preservation loss L_s (default recipe: 0 when L_c's "
                             "target is the matched teachers, whose minimiser L_s shares)", minimum=0,
                             recipes={"default": Follows("target", {"teachers": 0.0, "self": 1.0})})
    t_alpha: float = setting(1.0, "Student's t degrees of freedom of the soft assignment", minimum=0, positive=True,
                             public=False)
    align_groups: bool = setting(False, "match the teachers' clusters across groups and take L_s over the whole "
                                 "batch (the alignment extension)", recipes={"default": True})
    matching: str = setting(
        "features", "how the alignment extension matches clusters across groups (transfer: a classifier trained on "
        "each group's teacher labels predicts the other; auto: transfer for images, features for vectors)",
        recipes={"default": "auto"}, choices=("features", "fused", "structure", "transfer", "auto"),
        only_if=("align_groups", True), stages=(MATCHING,))
    match_space: str = setting(
        "input", "where the alignment extension compares the groups' teacher clusters: the input, each image in its "
        "canonical frame (its ink's bounding box, resized: fairclust.canonical.canonical_frame), the shared VAE's "
        "embedding, or contrastive: the features of the teachers' SimCLR encoder, one for all groups (where the "
        "teachers trained it: images of at least 8 x 8 with contrastive_steps; elsewhere the canonical frame), "
        "paired by transfer under matching=auto (results.md)", recipes={"default": "contrastive"},
        choices=("input", "canonical", "embedding", "contrastive"), only_if=("align_groups", True),
        stages=(MATCHING,))
    target: str = setting("self", "L_c's target: self (the paper: DEC's sharpening of q) or teachers (the matched "
                          "teachers)", recipes={"default": Follows("align_groups", {True: "teachers", False: "self"})},
                          choices=("self", "teachers"), needs={"teachers": ("align_groups", True)})
    fair_targets: bool = setting(
        False, "L_c's target is the matched teachers re-weighted per group so that every group spreads over the "
        "clusters alike (fairclust.fair_lp.fair_prior_shift); an ablation, measured no fairer argmax (results.md)",
        needs={True: ("target", "teachers")})
    init_centers: str = setting(
        "kmeans", "DFC's starting centres: kmeans on the shared embedding or teachers (the matched teachers' cluster "
        "means)", recipes={"default": Follows("align_groups", {True: "teachers", False: "kmeans"})},
        choices=("kmeans", "teachers"), needs={"teachers": ("align_groups", True)})
    # --------------------------------------------------------------- labels
    fair_labels: float | None = setting(
        None, "labels_ = the assignment closest to q in which every cluster holds each group's share within a factor "
        "1 - DELTA (off: the argmax of q)", recipes={"default": 0.05}, fraction=True)
    fairness: str = FAIRNESS("marginal")
    fair_labels_max_samples: int = setting(
        40000, "above this many samples the fair labels' LP is solved on a seeded sample of this size and its dual "
        "prices, corrected on all samples, label every sample (0: always the whole LP)", minimum=0, public=False)


@dataclass(frozen=True)
class FCMIConfig(Config):
    """FCMI's settings (Zeng et al., CVPR 2023). ``paper`` is the authors' released code (main.py; file:line in
    :mod:`fairclust.methods.fcmi`), ``default`` the same method sized for a CPU (docs/recipes.md)."""

    label: ClassVar[str] = "FCMI"
    recipes: ClassVar[tuple[str, ...]] = ("default", "paper")

    batch_total: int = BATCH_TOTAL(512, default=128)  # main.py:22
    total_epochs: int = setting(300, "FCMI: passes over all samples, the warm-up included", recipes={"default": 50},
                                minimum=0, positive=True)  # main.py:23
    warmup_epochs: int = setting(20, "FCMI: reconstruction-only epochs first, counted in total_epochs (when only "
                                 "total_epochs is given: the recipe's share of them)", recipes={"default": 10},
                                 minimum=0, stages=(FCMI_WARMUP,))  # main.py:42
    calm_batch: int = setting(0, "FCMI: samples per batch of the calm start, reconstruction-only updates before the "
                              "warm-up (0: no calm start)", recipes={"default": 512}, minimum=0, public=False,
                              stages=(FCMI_WARMUP,))  # not the authors'
    calm_updates: int = setting(0, "FCMI: updates of the calm start (whole epochs, rounded up); a large batch leaves "
                                "the start's plateau into a representation that does not encode the group, where 128 "
                                "often does not (docs/results.md)", recipes={"default": 300}, minimum=0, public=False,
                                stages=(FCMI_WARMUP,))  # not the authors'
    lr: float = LR(1e-3)  # main.py:72, constant
    betas: tuple[float, float] = setting((0.9, 0.999), "Adam's betas", public=False, stages=(FCMI_WARMUP,))
    weight_decay: float = WEIGHT_DECAY(0.0)  # main.py:74
    reconstruction: float = setting(1.0, "FCMI: weight of the reconstruction loss (MSE on the whole input)",
                                    minimum=0, public=False, stages=(FCMI_WARMUP,))  # main.py:51
    alpha: float = setting(0.04, "FCMI: weight of -H(C) + H(C | X), from max I(X; C | G)", minimum=0,
                           flag="--fcmi-alpha")  # main.py:81
    beta: float = setting(0.2, "FCMI: weight of I(G; C), the fairness term (0 drops it)", minimum=0,
                          flag="--fcmi-beta")  # main.py:82
    tau_balance: float = setting(0.1, "FCMI: softmax temperature of the assignment in H(C) and I(G; C)", minimum=0,
                                 positive=True)  # main.py:48
    tau_onehot: float = setting(0.1, "FCMI: softmax temperature of the assignment in H(C | X)", minimum=0,
                                positive=True)  # main.py:49
    latent_dim: int = LATENT_DIM(0)  # main.py:35 representation_dim; 0 means K
    kmeans_n_init: int = KMEANS_N_INIT(10)  # network:85 nredo (its niter 300, network:84, is scikit-learn's default)
    kmeans_points_per_cluster: int = setting(1000, "FCMI: k-means runs on at most this many points per cluster",
                                             minimum=0, positive=True, public=False)  # network:86-87
    stop_tol: float = STOP_TOL(0.0, default=0.01)  # not the authors'
    fairness: str = FAIRNESS("marginal")  # several sensitive attributes (not the authors': they take one)

    @classmethod
    def _check(cls, values: dict[str, Any], given: dict[str, Any], recipe: str) -> None:
        if ("warmup_epochs" in given or "total_epochs" in given) and "calm_updates" not in given:
            values["calm_updates"] = 0  # a warm-up the user sizes is the one run: the recipe's calm start steps aside
        if "total_epochs" in given and "warmup_epochs" not in given:  # the recipe's share of the epochs
            base = {p.name: p.value_in(recipe) for p in cls.params()}
            values["warmup_epochs"] = int(round(values["total_epochs"] * base["warmup_epochs"] / base["total_epochs"]))
        if not 0.0 <= values["stop_tol"] < 1.0:
            raise FairclustError(f"stop_tol must be in [0, 1), got {values['stop_tol']}; e.g. stop_tol=0.01 (0: never "
                                 "stop early)")
        if values["warmup_epochs"] >= values["total_epochs"]:
            raise FairclustError(f"warmup_epochs={values['warmup_epochs']} leaves no clustering epoch of total_epochs="
                                 f"{values['total_epochs']}; lower warmup_epochs or raise total_epochs")


# ----------------------------------------------------------------------------- the baselines
@dataclass(frozen=True)
class KMeansConfig(EncoderConfig):
    """AE + k-means: the paper's "AE" row."""

    label: ClassVar[str] = "k-means"
    feature_space: str = FEATURE_SPACE("pretrained")
    n_init: int = N_INIT(10)


@dataclass(frozen=True)
class DACConfig(EncoderConfig):
    """DAC (Chang et al. 2017) on the shared encoder."""

    label: ClassVar[str] = "DAC"
    n_iters: int = N_ITERS(300)
    batch_total: int = BATCH_TOTAL(128)
    lr: float = LR(1e-4)


@dataclass(frozen=True)
class ClusterGANConfig(Config):
    """ClusterGAN (Mukherjee et al. 2019), trained from scratch."""

    label: ClassVar[str] = "ClusterGAN"
    noise_dim: int = setting(30, "ClusterGAN: size of the continuous part of the latent code", minimum=0,
                             positive=True)
    n_iters: int = N_ITERS(300)
    batch_total: int = BATCH_TOTAL(64)
    lr: float = LR(2e-4)
    beta_n: float = setting(10.0, "ClusterGAN: weight of the continuous code's reconstruction", minimum=0)
    beta_c: float = setting(10.0, "ClusterGAN: weight of the cluster code's reconstruction", minimum=0)
    sigma: float = setting(0.1, "ClusterGAN: standard deviation of the continuous code", minimum=0, positive=True)


@dataclass(frozen=True)
class ScFCConfig(EncoderConfig):
    """Scalable fairlet decomposition (Backurs et al. 2019), two groups."""

    label: ClassVar[str] = "ScFC"
    q: int | None = setting(None, "ScFC: fairlets hold one point of one group and at most q of the other (target "
                            "balance 1/q; off: the smallest the group sizes allow)", minimum=0, positive=True,
                            flag="--fairlet-q")
    feature_space: str = FEATURE_SPACE("pretrained")


@dataclass(frozen=True)
class FAlgConfig(EncoderConfig):
    """Fair assignment (Bera et al. 2019): k-means centres, then the fair-assignment LP."""

    label: ClassVar[str] = "FAlg"
    delta: float = setting(0.2, "FAlg: every cluster holds each group's share within a factor 1 - delta",
                           fraction=True)
    fairness: str = FAIRNESS("marginal")
    feature_space: str = FEATURE_SPACE("pretrained")
    n_init: int = N_INIT(10)


@dataclass(frozen=True)
class FCCConfig(EncoderConfig):
    """Variational fair clustering (Ziko et al.)."""

    label: ClassVar[str] = "FCC"
    lmbda: float = setting(1.0, "FCC: weight of the fairness term (0: soft k-means)", minimum=0)
    L: float = setting(2.0, "FCC: Lipschitz constant of the bound (step 1/L)", minimum=0, positive=True)
    max_iter: int = setting(30, "FCC: outer iterations (bound updates, then centre update)", minimum=0, positive=True)
    bound_iters: int = setting(100, "FCC: bound iterations per outer iteration", minimum=0, positive=True)
    init: str = setting("kmeans", "FCC: initial centres, k-means with n_init restarts or one k-means++ seeding",
                        choices=("kmeans", "kmeans++"))
    n_init: int = N_INIT(10)
    feature_space: str = FEATURE_SPACE("pretrained")


@dataclass(frozen=True)
class SpFCConfig(EncoderConfig):
    """Fair spectral clustering (Kleindessner et al. 2019) on a sparse kNN graph."""

    label: ClassVar[str] = "SpFC"
    n_neighbors: int = setting(15, "SpFC: neighbours per point in the kNN graph", minimum=0, positive=True)
    graph: str = setting("knn", "SpFC: knn (a plain kNN graph) or groups (each point also linked to its nearest "
                         "points of every other group)", choices=("knn", "groups"))
    feature_space: str = FEATURE_SPACE("pretrained")
    tol: float = setting(1e-4, "SpFC: LOBPCG's tolerance", minimum=0, positive=True)
    maxiter: int = setting(1000, "SpFC: LOBPCG's iteration limit", minimum=0, positive=True)


def doc_tables() -> dict[str, str]:
    """The recipe tables of docs/recipes.md (``fairclust recipes`` prints them), by heading: DFC's,
    FCMI's, then each baseline's own settings."""
    from .settings import recipe_table

    tables = {"DFC": recipe_table(DFCConfig), "FCMI": recipe_table(FCMIConfig)}
    for name, cls in (("kmeans", KMeansConfig), ("dec", DECConfig), ("dac", DACConfig),
                      ("clustergan", ClusterGANConfig), ("scfc", ScFCConfig), ("falg", FAlgConfig),
                      ("fcc", FCCConfig), ("spfc", SpFCConfig)):
        tables[name] = recipe_table(cls, None if cls is ClusterGANConfig else EncoderConfig)
    return tables
