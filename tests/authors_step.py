"""Our DFC iteration against a plain restatement of the authors' one, side by side.

The authors' loop (github.com/brandeis-machine-learning/DFC, ``main.py``), restated with
fairclust's networks so that both sides compute the same losses:

* both groups' batches are concatenated and pass the shared encoder together;
* at EVERY step the two frozen teachers (encoder + DEC head, eval mode) run on their
  group's batch with autograd on (their parameters require grad; the outputs are
  ``.detach()``-ed only afterwards);
* per-group Python loops: ``0.5 * KLDivLoss(sum)(log q_g, target_g)`` and
  ``0.5 * MSELoss(sum)(Q_g Q_g^T, P_g P_g^T)``; the Student-t head uses the broadcast
  ``(z[:, None] - mu)^2`` distance as in DEC's reference code;
* the critic behind the gradient reversal layer, one Adam step for everything with the
  critic at x10 learning rate and the inverse-decay schedule; NCHW tensors, glibc's
  default allocator behaviour.

The critic is an M-way cross-entropy critic (SPEC 1.1; for M = 2 it equals the authors'
sigmoid + BCE) so the two iterations are the same mathematics
(tests/test_perf_equivalence.py checks losses and gradients agree).

Everything the iteration computes is written out here, independently of fairclust: the
Student-t head, the DEC target, the losses, the critic MLP, the gradient reversal layer,
its coefficient ``c(t) = 2 / (1 + exp(-10 t / T)) - 1`` (SPEC 1.1) and the
reparameterisation; a bug in fairclust's versions is caught, not mirrored. Shared with
fairclust are only the encoder network (the same weights on both sides), the numbers of
:class:`~fairclust.config.DFCConfig`, and the set-up (teachers' table, centres). The
critic's weights are copied from fairclust's into the one here by ``state_dict``.

Used by tests/test_perf_equivalence.py (same losses and gradients) and timed by
bench/step_vs_authors.py.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from fairclust.config import DFCConfig
from fairclust.embedding import soft_assign
from fairclust.methods.dfc_training import DFCTrainer
from fairclust.nn import make_encoder
from fairclust.schedule import make_schedule


class AuthorsCritic(nn.Module):
    """SPEC 1.1's critic: Linear K->32, ReLU, Dropout 0.5, Linear 32->32, ReLU, Dropout 0.5, Linear 32->M."""

    def __init__(self, n_clusters: int, n_groups: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_clusters, 32), nn.ReLU(), nn.Dropout(0.5),
                                 nn.Linear(32, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, n_groups))

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return self.net(q)


class ReverseGradient(torch.autograd.Function):
    """Identity forward; the gradient times ``-coeff`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:
        ctx.coeff = coeff
        return x.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad * -ctx.coeff, None


def reversal_coefficient(t: int, n_iters: int) -> float:
    """SPEC 1.1: c(t) = 2 / (1 + exp(-10 t / T)) - 1."""
    return 2.0 / (1.0 + math.exp(-10.0 * t / n_iters)) - 1.0


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor, training: bool) -> torch.Tensor:
    """z = mu + eps * exp(logvar / 2) in train mode, mu in eval mode."""
    return mu + torch.randn_like(mu) * torch.exp(logvar / 2) if training else mu


def authors_student_t(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    norm_squared = torch.sum((z.unsqueeze(1) - centers) ** 2, 2)
    numerator = (1.0 / (1.0 + norm_squared / alpha)) ** (float(alpha + 1) / 2)
    return numerator / torch.sum(numerator, dim=1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    weight = q**2 / torch.sum(q, 0)
    return (weight.t() / torch.sum(weight, 1)).t()


class AuthorsIteration:
    """One training iteration the way the authors' code runs it."""

    def __init__(self, encoder: nn.Module, centers: torch.Tensor, critic: nn.Module,
                 teachers: list[tuple[nn.Module, torch.Tensor]], cfg: DFCConfig):
        self.encoder, self.critic, self.cfg = encoder, critic, cfg
        self.centers = nn.Parameter(centers.detach().clone())
        self.teachers = teachers
        for enc, c in teachers:
            enc.eval()
            c.requires_grad_(True)  # loaded, not frozen: autograd records their forward
        self.optimizer = torch.optim.Adam(
            [{"params": list(encoder.parameters()) + [self.centers], "lr": cfg.lr, "base_lr": cfg.lr},
             {"params": list(critic.parameters()), "lr": cfg.lr * cfg.critic_lr_mult,
              "base_lr": cfg.lr * cfg.critic_lr_mult}],
            weight_decay=cfg.weight_decay)
        self.kl = nn.KLDivLoss(reduction="sum")
        self.mse = nn.MSELoss(reduction="sum")

    def losses(self, t: int, xs: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        cfg, m = self.cfg, len(xs)
        b = xs[0].shape[0]
        # the frozen teachers, every step, autograd on
        predicts = []
        for (enc, c), xg in zip(self.teachers, xs):
            predicts.append(authors_student_t(enc(xg)[0], c, cfg.t_alpha))
        mu, logvar = self.encoder(torch.cat(xs, 0))
        output = authors_student_t(reparameterise(mu, logvar, self.encoder.training), self.centers, cfg.t_alpha)
        outs = [output[g * b:(g + 1) * b] for g in range(m)]
        l_c = sum(self.kl(o.log(), target_distribution(o).detach()) for o in outs) / m
        l_s = sum(self.mse(o @ o.t(), (p @ p.t()).detach()) for o, p in zip(outs, predicts)) / m
        g = torch.arange(m).repeat_interleave(b).to(output.device)
        reversed_q = ReverseGradient.apply(output, reversal_coefficient(t, cfg.n_iters))
        l_f = nn.functional.cross_entropy(self.critic(reversed_q), g)
        loss = l_c + cfg.alpha_f * l_f + cfg.alpha_s * l_s
        return {"loss": loss, "L_c": l_c, "L_s": l_s, "L_f": l_f}

    def step(self, t: int, xs: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        decay = (1.0 + 10.0 * t / self.cfg.n_iters) ** -0.75
        for group in self.optimizer.param_groups:
            group["lr"] = group["base_lr"] * decay
        terms = self.losses(t, xs)
        self.optimizer.zero_grad()
        terms["loss"].backward()
        self.optimizer.step()
        return {k: v.detach() for k, v in terms.items()}


def make_pair(batch_size: int, *, n_groups: int = 2, n_clusters: int = 10, seed: int = 0,
              device: torch.device = torch.device("cpu"), dtype: torch.dtype = torch.float32):
    """The same networks, teachers and data for both iterations.

    Returns ``(ours, theirs, X, P, codes)``: ``P`` are the teachers' assignments of every
    sample of ``X`` computed once (what fairclust's pretraining stores). ``dtype``
    float64 lets a test compare the two without float32 rounding.
    """
    torch.manual_seed(seed)
    cfg = DFCConfig(batch_size=batch_size, n_iters=20000)
    shape, latent = (1, 32, 32), cfg.latent_dim
    pool = 2 * batch_size
    X = torch.rand(n_groups * pool, *shape, device=device)
    codes = np.repeat(np.arange(n_groups), pool)
    encoder = make_encoder(shape, latent).to(device)

    def codes_of(enc: nn.Module) -> torch.Tensor:
        """BatchNorm statistics of the data (as after pretraining), centres at K samples' codes."""
        from fairclust.embedding import embed

        for mod in enc.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.momentum = None  # cumulative average over the passes below
        with torch.no_grad():
            enc.train()
            for xb in X.split(256):
                enc(xb)
        for mod in enc.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.momentum = 0.1
        return embed(enc, X[torch.randperm(X.shape[0])[:n_clusters]], device).to(device)

    centers = codes_of(encoder)
    teachers = []
    for _ in range(n_groups):
        enc = make_encoder(shape, latent).to(device).eval()
        teachers.append((enc, codes_of(enc)))
    if dtype != torch.float32:
        X = X.to(dtype)
        for i, (enc, c) in enumerate(teachers):
            teachers[i] = (enc.to(dtype), c.to(dtype))
    P = torch.zeros(X.shape[0], n_clusters, device=device, dtype=dtype)
    for g, (enc, c) in enumerate(teachers):
        rows = torch.from_numpy(np.flatnonzero(codes == g)).to(device)
        P[rows] = soft_assign(enc, c, X[rows], device, cfg.t_alpha).to(device)
    ours = DFCTrainer(copy.deepcopy(encoder), centers.cpu().numpy(), n_groups, cfg, make_schedule(cfg, [pool] * n_groups)).to(device).train()
    critic = AuthorsCritic(n_clusters, n_groups).to(device)
    critic.load_state_dict(ours.critic.state_dict())  # the same weights, in the reference's own module
    theirs = AuthorsIteration(copy.deepcopy(encoder).train(), centers, critic, teachers, cfg)
    if dtype != torch.float32:  # in place: the optimizers keep the same Parameter objects
        for mod in (ours, theirs.encoder, theirs.critic):
            mod.to(dtype)
        theirs.centers.data = theirs.centers.data.to(dtype)
    return ours, theirs, X, P, codes
