"""The networks of SPEC section 1.1: encoders, decoders, Student-t assignment, critic, GRL.

Every encoder returns ``(mu, logvar)``: a VAE encoder. ``sample_z`` draws
``z = mu + eps * exp(logvar / 2)`` in train mode and returns ``mu`` in eval mode.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

__all__ = [
    "ConvEncoder",
    "ConvDecoder",
    "MLPEncoder",
    "MLPDecoder",
    "make_encoder",
    "make_decoder",
    "student_t",
    "Critic",
    "grad_reverse",
    "sample_z",
    "nhwc",
    "nhwc_input",
]

# The authors' conv stack: (out_channels, stride) of each 3x3 conv, then 512 -> latent.
CONV_LAYERS: tuple[tuple[int, int], ...] = ((16, 1), (32, 2), (32, 1), (16, 2))


def _conv_out(size: int, stride: int) -> int:
    return (size + 2 - 3) // stride + 1


class ConvEncoder(nn.Module):
    """Conv VAE encoder for ``C x H x W`` images (1 x 32 x 32 in the paper).

    Four 3x3 convolutions without bias, each followed by BatchNorm2d and ReLU; flatten;
    Linear -> 512 -> BatchNorm1d -> ReLU; two heads ``mu`` and ``logvar`` of size
    ``latent_dim``. The flatten size is inferred from ``in_shape``.

    ``norm=False``: no BatchNorm, biases instead (FCMI's plain network; see :func:`make_encoder`).

    ``center_input``: subtract each image's own mean first. An image and its inverted copy
    ``1 - x`` then enter as ``+x'`` and ``-x'``, which the symmetric weight initialisation and
    zero padding treat alike (without it, the padding draws a frame around inverted images
    only). No group is needed, so :meth:`predict` on new samples is unaffected.
    """

    def __init__(self, in_shape: Sequence[int] = (1, 32, 32), latent_dim: int = 64, hidden: int = 512,
                 center_input: bool = False, norm: bool = True):
        super().__init__()
        self.center_input = bool(center_input)
        c, h, w = (int(v) for v in in_shape)
        layers: list[nn.Module] = []
        for out_c, stride in CONV_LAYERS:
            layers += [nn.Conv2d(c, out_c, 3, stride, 1, bias=not norm), *_norm(out_c, norm, 2), nn.ReLU(inplace=True)]
            c, h, w = out_c, _conv_out(h, stride), _conv_out(w, stride)
        self.features = nn.Sequential(*layers)
        self.feature_shape = (c, h, w)
        self.fc = nn.Sequential(nn.Linear(c * h * w, hidden), *_norm(hidden, norm), nn.ReLU(inplace=True))
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.center_input:
            x = x - x.mean((1, 2, 3), keepdim=True)
        h = self.fc(self.features(x).flatten(1))
        return self.mu(h), self.logvar(h)


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder` with transposed convolutions; outputs logits."""

    def __init__(self, out_shape: Sequence[int] = (1, 32, 32), latent_dim: int = 64, hidden: int = 512,
                 norm: bool = True):
        super().__init__()
        c, h, w = (int(v) for v in out_shape)
        # walk the encoder's shapes forward, then build the mirror backwards
        shapes = [(c, h, w)]
        for out_c, stride in CONV_LAYERS:
            _, ph, pw = shapes[-1]
            shapes.append((out_c, _conv_out(ph, stride), _conv_out(pw, stride)))
        fc, fh, fw = shapes[-1]
        self.feature_shape = (fc, fh, fw)
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, hidden), *_norm(hidden, norm), nn.ReLU(inplace=True),
            nn.Linear(hidden, fc * fh * fw), *_norm(fc * fh * fw, norm), nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for i in range(len(CONV_LAYERS), 0, -1):
            stride = CONV_LAYERS[i - 1][1]
            in_c, in_h, in_w = shapes[i]
            out_c, out_h, out_w = shapes[i - 1]
            pad_h = out_h - ((in_h - 1) * stride - 2 + 3)
            pad_w = out_w - ((in_w - 1) * stride - 2 + 3)
            last = i == 1
            layers.append(nn.ConvTranspose2d(in_c, out_c, 3, stride, 1, output_padding=(pad_h, pad_w),
                                             bias=last or not norm))
            if not last:
                layers += [*_norm(out_c, norm, 2), nn.ReLU(inplace=True)]
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fc(z).view(-1, *self.feature_shape))


class MLPEncoder(nn.Module):
    """VAE encoder for ``N x D`` feature vectors: D -> 512 -> 256 (BN + ReLU) -> mu, logvar."""

    def __init__(self, in_features: int, latent_dim: int = 64, hidden: Sequence[int] = (512, 256), norm: bool = True):
        super().__init__()
        layers: list[nn.Module] = []
        d = int(in_features)
        for hdim in hidden:
            layers += [nn.Linear(d, hdim), *_norm(hdim, norm), nn.ReLU(inplace=True)]
            d = hdim
        self.body = nn.Sequential(*layers)
        self.mu = nn.Linear(d, latent_dim)
        self.logvar = nn.Linear(d, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mu(h), self.logvar(h)


class MLPDecoder(nn.Module):
    """Mirror of :class:`MLPEncoder`."""

    def __init__(self, out_features: int, latent_dim: int = 64, hidden: Sequence[int] = (512, 256), norm: bool = True):
        super().__init__()
        layers: list[nn.Module] = []
        d = latent_dim
        for hdim in reversed(tuple(hidden)):
            layers += [nn.Linear(d, hdim), *_norm(hdim, norm), nn.ReLU(inplace=True)]
            d = hdim
        layers.append(nn.Linear(d, int(out_features)))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z)


def _norm(width: int, norm: bool, dims: int = 1) -> list[nn.Module]:
    """A BatchNorm layer of ``width`` features (``dims`` 1 or 2), or none when ``norm`` is off."""
    if not norm:
        return []
    return [nn.BatchNorm2d(width) if dims == 2 else nn.BatchNorm1d(width)]


def nhwc(*modules: nn.Module) -> None:
    """Put the convolutional ones of ``modules`` in channels-last (NHWC) layout, in place: oneDNN's faster
    convolutions on CPU (the VAE's pretraining ~1.2x, DFC's loop ~1.3x, the SimCLR encoder ~1.5x:
    docs/benchmarks.md), the same values up to float rounding. Networks without convolutions (feature vectors' MLPs)
    are left as they are."""
    for m in modules:
        if any(isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) for layer in m.modules()):
            m.to(memory_format=torch.channels_last)


def nhwc_input(x: torch.Tensor) -> torch.Tensor:
    """A batch for :func:`nhwc` networks: images (N x C x H x W) in channels-last layout, vectors as they are."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


def make_encoder(input_shape: Sequence[int], latent_dim: int = 64, center_input: bool = False, *,
                 norm: bool = True, hidden: int = 512) -> nn.Module:
    """Conv encoder for ``(C, H, W)`` inputs, MLP encoder for ``(D,)`` inputs (already standardised:
    ``center_input`` applies to images only).

    ``norm=False``, ``hidden=256``: the plain form FCMI's authors train (no BatchNorm, biases; a
    ``hidden``-wide layer before the representation). With BatchNorm, FCMI's representation
    differs between training (batch statistics) and its k-means (running statistics), and
    fairclust's FCMI reached 0.40 where the authors' reach 0.84 (docs/results.md, "FCMI parity").
    """
    if len(input_shape) == 3:
        return ConvEncoder(input_shape, latent_dim, hidden=hidden, center_input=center_input, norm=norm)
    return MLPEncoder(input_shape[0], latent_dim, norm=norm)


def make_decoder(input_shape: Sequence[int], latent_dim: int = 64, *, norm: bool = True, hidden: int = 512) -> nn.Module:
    if len(input_shape) == 3:
        return ConvDecoder(input_shape, latent_dim, hidden=hidden, norm=norm)
    return MLPDecoder(input_shape[0], latent_dim, norm=norm)


def sample_z(mu: torch.Tensor, logvar: torch.Tensor, training: bool) -> torch.Tensor:
    """Reparameterised sample in train mode, the mean in eval mode."""
    if not training:
        return mu
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


def student_t(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Soft assignment ``q_ik ∝ (1 + |z_i - mu_k|^2 / alpha)^(-(alpha+1)/2)``, rows sum to 1."""
    d2 = (z.pow(2).sum(1, keepdim=True) - 2.0 * z @ centers.t() + centers.pow(2).sum(1)).clamp_min(0.0)
    if alpha == 1.0:
        q = 1.0 / (1.0 + d2)
    else:
        q = (1.0 + d2 / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(1, keepdim=True)


class Critic(nn.Module):
    """Group discriminator on the K-dim soft assignment: K -> 32 -> 32 -> M with dropout 0.5."""

    def __init__(self, n_clusters: int, n_groups: int, hidden: int = 32, dropout: float = 0.5):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_clusters, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, n_groups),
        )

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return self.net(q)


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.coeff * grad, None


def grad_reverse(x: torch.Tensor, coeff: float) -> torch.Tensor:
    """Identity forward; gradient multiplied by ``-coeff`` backward."""
    return _GradReverse.apply(x, coeff)


def grl_coefficient(t: int, total: int) -> float:
    """The ramp ``c(t) = 2 / (1 + exp(-10 t / T)) - 1``: 0 at the start, ~1 at the end."""
    return 2.0 / (1.0 + math.exp(-10.0 * t / max(total, 1))) - 1.0
