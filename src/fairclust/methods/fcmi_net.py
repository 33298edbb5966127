"""FCMI's network and the pieces of its training: one epoch of updates, the representation of
every sample, the k-means centroids and the share of labels changed. The estimator that puts
them together is :class:`fairclust.methods.fcmi.FCMI`; the loss terms are in
:mod:`fairclust.methods.fcmi_losses`. File:line references are to the authors' code
(github.com/PengxinZeng/2023-CVPR-FCMI).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import metrics
from ..config import FCMIConfig
from ..embedding import batched_map, kmeans
from ..nn import make_decoder, make_encoder
from .fcmi_losses import fcmi_objective, reconstruction_loss

PLAIN_HIDDEN = 256  # network:163-165, 176-178
LOSS_TERMS = ("loss", "L_rec", "neg_H_C", "H_C_given_X", "I_G_C")


class FCMINet(nn.Module):
    """Shared encoder (unit-norm ``mu``) and one decoder per group; ``forward`` is one batch's loss."""

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int, n_groups: int, tanh_output: bool):
        super().__init__()
        # the authors' plain form: no BatchNorm, a 256-wide layer, the decoders' fully connected part shared
        self.encoder = make_encoder(input_shape, latent_dim, norm=False, hidden=PLAIN_HIDDEN)
        self.decoders = nn.ModuleList(make_decoder(input_shape, latent_dim, norm=False, hidden=PLAIN_HIDDEN)
                                      for _ in range(n_groups))
        if len(input_shape) == 3:  # network:174-180 one decoder_linear, network:183-202 a deconv stack per group
            for dec in self.decoders[1:]:
                dec.fc = self.decoders[0].fc
        self.tanh_output = bool(tanh_output)
        self.gather = None  # set by fairclust.distributed.wrap under DDP

    def represent(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``h = mu / ||mu||`` (and ``logvar``, unused: it only keeps every parameter in the graph)."""
        mu, logvar = self.encoder(x)
        return F.normalize(mu, dim=1), logvar

    def decode(self, h: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row through its own group's decoder (the authors' GroupWiseDecoder, network:290-299).

        Returns the reconstructions (flattened) and a zero that touches the decoders of
        groups absent from the batch, so that every parameter takes part (DDP) alike.
        """
        out, unused = None, h.new_zeros(())
        for gi, dec in enumerate(self.decoders):
            rows = torch.nonzero(g == gi).flatten()
            if rows.numel() == 0:
                unused = unused + sum(p.sum() for p in dec.parameters()) * 0.0
                continue
            hb = h[rows]
            if rows.numel() == 1:  # a lone row goes through twice, as the authors do (network:297)
                xb = dec(torch.cat([hb, hb]))[:1]
            else:
                xb = dec(hb)
            xb = xb.flatten(1)
            if out is None:
                out = xb.new_zeros((h.shape[0], xb.shape[1]))
            out = out.index_copy(0, rows, xb)
        if self.tanh_output:
            out = torch.tanh(out)
        return out, unused

    def forward(self, x: torch.Tensor, g_local: torch.Tensor, g_batch: torch.Tensor, n_groups,
                centers: torch.Tensor | None, s: FCMIConfig) -> tuple[torch.Tensor, dict]:
        """The loss of one batch. Under DDP ``x``/``g_local`` are this rank's share and the
        clustering terms are computed on the all-gathered ``h`` of the whole batch ``g_batch``."""
        h, logvar = self.represent(x)
        x_rec, unused = self.decode(h, g_local)
        l_rec = reconstruction_loss(x.flatten(1), x_rec)
        loss = s.reconstruction * l_rec + unused + 0.0 * logvar.sum()
        terms = {"L_rec": l_rec.detach()}
        if centers is not None:
            h_all = h if self.gather is None else self.gather(h, 1)
            l_clu, more = fcmi_objective(h_all, centers, g_batch, n_groups, alpha=s.alpha, beta=s.beta,
                                         tau_balance=s.tau_balance, tau_onehot=s.tau_onehot)
            loss = loss + l_clu
            terms.update(more)
        terms["loss"] = loss.detach()
        return loss, terms


@torch.no_grad()
def represent_all(net: FCMINet, X: torch.Tensor | np.ndarray, device: torch.device) -> torch.Tensor:
    """``h`` of every sample, network in eval mode, on the CPU."""
    was = net.training
    net.eval()
    out = batched_map(lambda xb: net.represent(xb)[0], X, batch_size=2048, device=device)
    net.train(was)
    return out


def fit_centroids(H: np.ndarray, n_clusters: int, s: FCMIConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k-means on the representations (the authors' faiss k-means, network:81-96): at most
    ``kmeans_points_per_cluster * K`` points drawn with ``seed``, ``kmeans_n_init`` restarts;
    returns the unit-norm centroids (network:225-228) and the k-means labels of every row."""
    rng = np.random.default_rng(seed)
    cap = s.kmeans_points_per_cluster * n_clusters
    sub = H if H.shape[0] <= cap else H[np.sort(rng.choice(H.shape[0], cap, replace=False))]
    km = kmeans(sub, n_clusters, s.kmeans_n_init, seed)
    centers = km.cluster_centers_ / np.maximum(np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True), 1e-12)
    return centers.astype(np.float32), km.predict(np.asarray(H, dtype=np.float64))


def changed_share(previous: np.ndarray, labels: np.ndarray) -> float:
    """Share of labels that changed, under the best one-to-one map of the clusters (the
    centroids are refitted every epoch, so their indices are arbitrary)."""
    return 1.0 - metrics.accuracy(previous, labels)


def train_epoch(net: FCMINet, model: nn.Module | None, opt: torch.optim.Optimizer, X: torch.Tensor,
                codes: torch.Tensor, batch: int, per_epoch: int, rng: np.random.Generator,
                centers: torch.Tensor | None, s: FCMIConfig, dctx, device: torch.device,
                fair: tuple[torch.Tensor, tuple[int, ...]] | None = None) -> dict[str, float]:
    """One epoch: ``per_epoch`` full batches of ``batch`` samples in an order drawn from ``rng`` (all groups
    mixed); with ``centers`` the clustering terms too (else reconstruction only). Returns the mean of every
    loss term. ``model``: the DDP wrapper around ``net`` (each rank takes its share of every batch).
    ``codes`` pick each sample's decoder; ``fair`` (default: the same codes) the groups of I(G; C):
    ``N x A`` codes and each attribute's group count for several attributes kept fair one by one."""
    fair_codes, n_groups = fair if fair is not None else (codes, len(net.decoders))
    world = dctx.world_size if dctx else 1
    order = torch.from_numpy(rng.permutation(X.shape[0]))
    sums: dict[str, float] = {}
    net.train()
    for it in range(per_epoch):
        idx = order[it * batch:(it + 1) * batch].to(device)
        mine = idx if dctx is None else idx.view(world, -1)[dctx.rank]
        loss, terms = (model or net)(X[mine].to(device), codes[mine], fair_codes[idx], n_groups, centers, s)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for key, v in terms.items():
            sums[key] = sums.get(key, 0.0) + float(v)
    return {key: sums[key] / per_epoch if key in sums else None for key in LOSS_TERMS}
