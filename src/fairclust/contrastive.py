"""An augmentation-invariant embedding of images (SimCLR, Chen et al. 2020), for the teachers.

:func:`contrastive_embedding` trains a small encoder on images so that two random views of one image
land close and views of different images apart (NT-Xent), and returns every image's L2-normalised
features; the UMAP + GMM teachers may cluster each group's (the ``contrastive`` candidate of
``teacher="auto"`` for images, ``contrastive_steps``: 800 in the default recipe; one encoder trained on
all groups together, :meth:`fairclust.pretrain.Pretrainer.contrastive_space`). Images are seen at most
16 pixels a side (``CONTRASTIVE_SIDE``; larger ones resized, the aspect kept). Views of an image:
a random resized crop (35-100% of the area, aspect 3:4-4:3, a small rotation), contrast and brightness
jitter, a blur half the time and pixel noise. The budget is a number of updates, not of epochs, so
the cost does not grow with the data's size (only the final inference does), and small data stops at
``CONTRASTIVE_MAX_EPOCHS`` passes. Feature vectors have
no such views here: SCARF's (features replaced by other samples') was measured no better than the
input's own UMAP teacher (docs/results.md).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .nn import nhwc, nhwc_input
from .transfer import _transfer_input
from .utils import images_at_most

CONTRASTIVE_BATCH = 256  # samples per update (two views each)
CONTRASTIVE_WIDTH = 16  # channels of the image encoder's first block (x2, x4, x4 after)
CONTRASTIVE_TAU = 0.2  # NT-Xent temperature
CONTRASTIVE_LR = 2e-3  # one-cycle peak learning rate (Adam)
CONTRASTIVE_FEATURES = 4 * CONTRASTIVE_WIDTH  # the encoder's output: the features returned
# images are seen at most this many pixels a side (the larger side; antialiased): at 16 rather than 32, 800 updates
# cost ~40-50 s on 2 cores (channels-last) where 400 at 32 cost 55-105 s, for teachers as good or better (results.md)
CONTRASTIVE_SIDE = 16
# at most this many passes over the data, however many updates are asked: the most measured (800 updates of 256 on
# the README's 3,594 images are 57); small data then trains in seconds instead of hundreds of passes
CONTRASTIVE_MAX_EPOCHS = 60
CONTRASTIVE_VERSION = 4  # the embedding's cache version (3: channels-last tensors; 4: updates scaled with the groups)


def contrastive_updates(steps: int, n_groups: int) -> int:
    """The shared encoder's updates for ``n_groups`` groups: ``steps`` (the ``contrastive_steps`` setting) for two,
    ``steps * n_groups / 2`` in general, so that each group's images are seen as often whatever stands beside them
    (three sources, 800 -> 1,200 updates: 0.914 -> 0.925 mean Acc on seeds 0-2, results.md)."""
    return max(1, round(steps * max(n_groups, 1) / 2)) if steps > 0 else 0


def contrastive_applies(shape: tuple[int, ...]) -> bool:
    """Whether data of this shape (N first) has a contrastive embedding here: images of at least 8 x 8 pixels."""
    return len(shape) == 4 and min(shape[2:]) >= 8


def _image_encoder(channels: int, width: int = CONTRASTIVE_WIDTH) -> nn.Module:
    def block(i: int, o: int) -> list[nn.Module]:
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*block(channels, width), nn.MaxPool2d(2), *block(width, 2 * width), nn.MaxPool2d(2),
                         *block(2 * width, 4 * width), nn.MaxPool2d(2), *block(4 * width, 4 * width),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())


def _uniform(n: int, gen: torch.Generator, device, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    return (low + (high - low) * torch.rand(n, generator=gen)).to(device)


def image_view(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One random view of a batch of images (N x C x H x W): crop, rotation, intensity, blur, noise."""
    n, dev = x.shape[0], x.device
    area = _uniform(n, gen, dev, 0.35, 1.0)
    log_ratio = _uniform(n, gen, dev, -math.log(4 / 3), math.log(4 / 3))
    sx = torch.sqrt(area * torch.exp(log_ratio)).clamp(max=1)
    sy = torch.sqrt(area / torch.exp(log_ratio)).clamp(max=1)
    angle = _uniform(n, gen, dev, -0.2, 0.2)
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle) * sx, -torch.sin(angle) * sy
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) * sx, torch.cos(angle) * sy
    theta[:, 0, 2] = _uniform(n, gen, dev, -1, 1) * (1 - sx)
    theta[:, 1, 2] = _uniform(n, gen, dev, -1, 1) * (1 - sy)
    x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)
    contrast = _uniform(n, gen, dev, 0.6, 1.4).view(n, 1, 1, 1)
    brightness = _uniform(n, gen, dev, -0.2, 0.2).view(n, 1, 1, 1)
    x = x * contrast + brightness * x.abs().amax((1, 2, 3), keepdim=True)
    blur = (_uniform(n, gen, dev) < 0.5).view(n, 1, 1, 1)
    x = torch.where(blur, F.avg_pool2d(x, 3, 1, 1), x)
    x = x + 0.05 * torch.randn(x.shape, generator=gen).to(dev)
    return nhwc_input(x)


def _standardise(X: np.ndarray) -> np.ndarray:
    """Each image with its background (its border's median, per channel) at 0, its ink positive and its largest
    deviation 1, so that a crop's empty margin looks like background in every group (inverted copies included)."""
    X = np.asarray(X, dtype=np.float32)
    border = np.concatenate([X[:, :, 0, :], X[:, :, -1, :], X[:, :, :, 0], X[:, :, :, -1]], axis=2)
    return _transfer_input(X - np.median(border, axis=2)[:, :, None, None])  # then ink positive, peak 1


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float = CONTRASTIVE_TAU) -> torch.Tensor:
    """SimCLR's loss: each view must pick its partner out of the batch's other 2N - 2 views."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = (z @ z.t() / tau).fill_diagonal_(-1e9)
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, partner)


def contrastive_embedding(X: np.ndarray, steps: int, seed: int, device: str | torch.device = "cpu",
                          progress_bar=None, side: int = CONTRASTIVE_SIDE) -> np.ndarray:
    """Train a SimCLR encoder on the images ``X`` (N x C x H x W, N >= 2, H, W >= 8) for ``steps`` updates, or
    ``CONTRASTIVE_MAX_EPOCHS`` passes over ``X`` where that is fewer; every image's L2-normalised features
    (N x ``CONTRASTIVE_FEATURES``).

    Images are normalised by :func:`_standardise` and seen at most ``side`` pixels a side
    (:func:`fairclust.utils.images_at_most`; ``CONTRASTIVE_SIDE`` in the library, other values for measuring).
    Seeded; the caller's global torch random state is left as it was. ``progress_bar``: a callable taking the number
    of updates done.
    """
    if steps <= 0 or np.ndim(X) != 4 or len(X) < 2 or min(np.shape(X)[2:]) < 8:
        raise ValueError("contrastive_embedding needs images (N x C x H x W, N >= 2, H and W >= 8) and steps > 0")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        Xt = nhwc_input(torch.from_numpy(images_at_most(_standardise(X), side)).to(device))
        encoder = _image_encoder(Xt.shape[1])
        nhwc(encoder)
        width = CONTRASTIVE_FEATURES
        head = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 64))
        encoder, head = encoder.to(device), head.to(device)
        params = list(encoder.parameters()) + list(head.parameters())
        opt = torch.optim.Adam(params, lr=CONTRASTIVE_LR, weight_decay=1e-5)
        n = len(Xt)
        batch = min(CONTRASTIVE_BATCH, n)
        per_epoch = max(1, n // batch)
        asked, steps = steps, min(steps, CONTRASTIVE_MAX_EPOCHS * per_epoch)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, CONTRASTIVE_LR, total_steps=steps, pct_start=0.1)
        encoder.train(), head.train()
        for step in range(steps):
            if step % per_epoch == 0:
                order = torch.randperm(n, generator=gen).to(device)
            b = order[(step % per_epoch) * batch:(step % per_epoch + 1) * batch]
            loss = nt_xent(head(encoder(image_view(Xt[b], gen))), head(encoder(image_view(Xt[b], gen))))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if progress_bar is not None:
                progress_bar(1)
        if progress_bar is not None and asked > steps:
            progress_bar(asked - steps)
        encoder.eval()
        with torch.no_grad():
            H = torch.cat([encoder(Xt[i:i + 1024]) for i in range(0, n, 1024)])
        return F.normalize(H, dim=1).cpu().numpy()
