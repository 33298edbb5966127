"""Table 4: can a classifier recover the sensitive group from a representation?

* **Unfair** representation: the same encoder architecture as DFC's, plus a linear head,
  trained from scratch (supervised) to predict the group.
* **Fair** representation: the frozen DFC encoder's features ``mu`` (``transform``), with
  a logistic regression and, as a stronger probe, a small MLP on top. Beside it, the frozen
  *pretrained* VAE encoder (what DFC starts from) and DFC's K-dim soft assignment ``q``
  (what DFC's critic sees and is trained to make group-independent).

The paper reports training accuracy; here every classifier is trained on a stratified
split and scored on held-out samples too (chance = the majority group's share of them).
Lower held-out accuracy on the fair rows means less group information. The DFC model is
the clustering itself, fitted on all samples without group labels in its output.

Files: ``probe.md`` and ``probe.csv``, plus the DFC run's own files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..embedding import batched_map
from ..errors import FairclustError
from ..files import atomic_write_bytes
from ..methods import make_method
from ..methods.shared_encoder import pretrained_features
from ..nn import make_encoder
from ..utils import progress, resolve_device
from ..validation import standardisation
from .common import dfc_model, fmt, group_codes, metric_columns, write_csv


class GroupClassifier(nn.Module):
    """DFC's encoder architecture with a linear head on ``mu``: predicts the group."""

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int, n_groups: int):
        super().__init__()
        self.encoder = make_encoder(input_shape, latent_dim)
        self.head = nn.Linear(latent_dim, n_groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)[0])


def _standardise(X: np.ndarray, train: np.ndarray) -> np.ndarray:
    if X.ndim != 2:  # images stay in [0, 1], as DFC sees them
        return X
    mean, scale = standardisation(X[train])
    return ((X - mean) / scale).astype(np.float32)


def train_unfair(X: np.ndarray, codes: np.ndarray, train: np.ndarray, *, latent_dim: int, epochs: int, seed: int,
                 device: torch.device, batch_size: int = 128, lr: float = 1e-3, verbose: bool = False) -> np.ndarray:
    """Train :class:`GroupClassifier` on ``train``; return its predicted group for every sample."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    Xs = torch.from_numpy(np.ascontiguousarray(_standardise(X, train), dtype=np.float32))
    g = torch.from_numpy(codes.astype(np.int64))
    model = GroupClassifier(tuple(X.shape[1:]), latent_dim, int(codes.max()) + 1).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    b = max(2, min(batch_size, len(train)))
    steps = [(e, s) for e in range(epochs) for s in range(0, len(train) - b + 1, b)]
    model.train()
    order = train
    for e, s in progress(steps, desc="probe: unfair encoder", enabled=verbose):
        if s == 0:
            order = rng.permutation(train)
        idx = torch.from_numpy(order[s:s + b])
        loss = F.cross_entropy(model(Xs[idx].to(device)), g[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    return batched_map(lambda xb: model(xb).argmax(1), Xs, batch_size=1024, device=device).numpy()


def probe_features(Z: np.ndarray, codes: np.ndarray, train: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """Fit a probe (``logreg`` or ``mlp``, on standardised features) on ``train``; predict all samples."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = (LogisticRegression(max_iter=2000) if kind == "logreg" else
           MLPClassifier(hidden_layer_sizes=(128,), max_iter=500, random_state=seed))
    model = make_pipeline(StandardScaler(), clf).fit(np.asarray(Z, dtype=np.float64)[train], codes[train])
    return model.predict(np.asarray(Z, dtype=np.float64))


def split(codes: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(codes))
    train, test = train_test_split(idx, test_size=test_size, stratify=codes, random_state=seed)
    return np.sort(train), np.sort(test)


CLASSIFIERS = {"logreg": "logistic regression", "mlp": "MLP (128 hidden)"}


def run(ds, opts: dict, out: Path, *, seed: int, n_clusters: int | None = None, epochs: int = 5,
        test_size: float = 0.3, model_path: str | None = None) -> dict:
    """The probe table for ``ds``; writes ``probe.csv`` and ``probe.md``; returns the rows."""
    if not 0.0 < test_size < 1.0:
        raise FairclustError(f"--test-size must lie strictly between 0 and 1, got {test_size}")
    model, opts = dfc_model(ds, opts, seed=seed, n_clusters=n_clusters, out=out, model_path=model_path)
    codes = group_codes(ds)
    train, test = split(codes, test_size, seed)
    device = resolve_device(opts.get("device"))
    latent = int(model.config_["latent_dim"])
    chance = float(np.bincount(codes[test]).max() / len(test))
    pre_seed = model.seed_  # the seed of the pretraining DFC started from (drawn when random_state was None)
    vae = make_method("kmeans", model.n_clusters, pre_seed, **opts)
    preds = [
        ("unfair: encoder trained to predict the group", "same encoder + linear head, supervised",
         train_unfair(ds.X, codes, train, latent_dim=latent, epochs=epochs, seed=seed, device=device,
                      verbose=bool(opts.get("verbose")))),
        ("pretrained VAE encoder, frozen (mu)", CLASSIFIERS["logreg"],
         probe_features(pretrained_features(vae, vae._config(), ds.X, codes, pre_seed), codes, train, "logreg",
                        seed)),
    ]
    Z, Q = model.transform(ds.X), model.predict_proba(ds.X)
    for kind in CLASSIFIERS:
        preds.append(("fair: DFC encoder, frozen (mu)", CLASSIFIERS[kind],
                      probe_features(Z, codes, train, kind, seed)))
    preds.append(("DFC soft assignment q (K-dim)", CLASSIFIERS["logreg"],
                  probe_features(Q, codes, train, "logreg", seed)))
    rows = [{"representation": r, "classifier": c, "train_accuracy": float(np.mean(p[train] == codes[train])),
             "test_accuracy": float(np.mean(p[test] == codes[test])), "chance": chance,
             "n_train": len(train), "n_test": len(test)} for r, c, p in preds]
    write_csv(out / "probe.csv", rows)
    dfc = metric_columns(ds, model.labels_, model.n_clusters)
    md = [f"# Group probe (paper's Table 4): {ds.name}", "",
          "Accuracy of a classifier predicting the sensitive group from each representation "
          f"({len(train)} training / {len(test)} held-out samples, stratified, seed {seed}; "
          f"chance {chance:.3f}). Lower is fairer.", "",
          "| representation | classifier | train accuracy | held-out accuracy |", "|---|---|---|---|"]
    md += [f"| {r['representation']} | {r['classifier']} | {r['train_accuracy']:.3f} | {r['test_accuracy']:.3f} |"
           for r in rows]
    md += ["", f"The DFC model probed: Acc {fmt(dfc['accuracy'])}, NMI {fmt(dfc['nmi'])}, "
           f"Balance {fmt(dfc['balance'])} of {fmt(dfc['balance_max'])}, I(C;G) {fmt(dfc['I_C_G'], 4)} nats.", ""]
    atomic_write_bytes(out / "probe.md", "\n".join(md).encode())
    return {"rows": rows, "csv": [out / "probe.csv"], "md": out / "probe.md", "markdown": "\n".join(md)}
