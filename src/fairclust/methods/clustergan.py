"""ClusterGAN (Mukherjee, Asnani, Lin, Kannan, AAAI 2019): the paper's "ClusterGAN" row.

The latent code is ``z = (z_n, z_c)``: ``z_n ~ N(0, sigma^2 I)`` and a one-hot ``z_c`` of
the K clusters. A generator maps ``z`` to a sample, a discriminator tells real from
generated, and an encoder maps samples back to ``(z_n, logits of z_c)``; generator and
encoder are trained together with the GAN loss plus ``beta_n ||z_n - E_n(G(z))||^2 +
beta_c CE(E_c(G(z)), c)``. A sample's cluster is ``argmax E_c(x)``.

The three networks use DFC's architectures (:mod:`fairclust.nn`): the encoder and the
discriminator are the VAE encoder (the discriminator reads ``mu``'s single unit as its
logit), the generator is the mirrored decoder. The original uses a WGAN-GP loss and far
longer training; here the non-saturating GAN loss and a CPU-sized number of iterations
keep the row cheap. Groups are not used: no fairness.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch.nn import functional as F

from ..config import ClusterGANConfig
from ..embedding import batched_map
from ..nn import make_decoder, make_encoder
from ..pretrain import recon_kind
from ..utils import progress, resolve_device, seed_everything
from .base import FairClusterMixin, store_params


class ClusterGAN(FairClusterMixin):
    """ClusterGAN with DFC's encoder/decoder architectures.

    Parameters
    ----------
    n_clusters : int, default=10
    noise_dim : int, default=None (recipe: 30)
        Size of the continuous part ``z_n``.
    n_iters : int, default=None (recipe: 300)
    batch_total : int, default=None (recipe: 64)
    lr : float, default=None (recipe: 2e-4)
    beta_n, beta_c : float, default=None (recipe: 10, 10)
        Weights of the latent reconstruction terms (the paper's values).
    sigma : float, default=None (recipe: 0.1)
        Standard deviation of ``z_n``.
    random_state : int, default=None

    Every recipe has the same values (:class:`fairclust.config.ClusterGANConfig`).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        ``argmax`` of the encoder's cluster logits, all samples.
    """

    Config = ClusterGANConfig

    def __init__(self, n_clusters: int = 10, *, recipe: str = "default", noise_dim: int | None = None,
                 n_iters: int | None = None, batch_total: int | None = None, lr: float | None = None,
                 beta_n: float | None = None, beta_c: float | None = None, sigma: float | None = None,
                 device: str | None = None, random_state: int | None = None, verbose: bool = False):
        store_params(self, locals())

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> "ClusterGAN":
        cfg, X, _, seed = self._start_fit(X, sensitive_features)
        X = self._fit_scaler(X)
        seed_everything(seed)
        device = resolve_device(self.device)
        shape, k, dn = tuple(X.shape[1:]), self.n_clusters, cfg.noise_dim
        squash = torch.sigmoid if recon_kind(X) == "bce" else (lambda t: t)
        gen = make_decoder(shape, dn + k).to(device)
        disc = make_encoder(shape, 1).to(device)
        enc = make_encoder(shape, dn + k).to(device)
        opt_ge = torch.optim.Adam(list(gen.parameters()) + list(enc.parameters()), lr=cfg.lr, betas=(0.5, 0.9))
        opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.9))
        rng = np.random.default_rng(seed)
        Xt = torch.from_numpy(X)
        b = min(cfg.batch_total, X.shape[0])
        ones, zeros = torch.ones(b, device=device), torch.zeros(b, device=device)
        for _ in progress(range(cfg.n_iters), desc="ClusterGAN", enabled=self.verbose):
            c = torch.randint(0, k, (b,), device=device)
            z = torch.cat([cfg.sigma * torch.randn(b, dn, device=device), F.one_hot(c, k).float()], 1)
            fake = squash(gen(z))
            real = Xt[torch.from_numpy(rng.choice(X.shape[0], b, replace=False))].to(device)
            # generator + encoder
            code = enc(fake)[0]
            loss_ge = (F.binary_cross_entropy_with_logits(disc(fake)[0].squeeze(1), ones)
                       + cfg.beta_n * F.mse_loss(code[:, :dn], z[:, :dn]) + cfg.beta_c * F.cross_entropy(code[:, dn:], c))
            opt_ge.zero_grad(set_to_none=True)
            loss_ge.backward()
            opt_ge.step()
            # discriminator
            loss_d = (F.binary_cross_entropy_with_logits(disc(real)[0].squeeze(1), ones)
                      + F.binary_cross_entropy_with_logits(disc(fake.detach())[0].squeeze(1), zeros))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        self.encoder_ = enc.eval()
        self.generator_ = gen.eval()
        self.labels_ = self._logits(X).argmax(1).astype(np.int64)
        return self

    def _logits(self, X: np.ndarray) -> np.ndarray:
        dn = self.config_["noise_dim"]
        return batched_map(lambda xb: self.encoder_(xb)[0][:, dn:], X, batch_size=2048, device=resolve_device(self.device)).numpy()

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "encoder_")
        return self._logits(self._scale(self._validate_predict(X))).argmax(1)
