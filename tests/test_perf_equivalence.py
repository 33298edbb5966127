"""The optimised DFC iteration computes the authors' losses and gradients.

fairclust's ``DFCTrainer.step`` reads the frozen teachers' assignments from a table
computed once, runs NHWC convolutions and batched (per-group) loss terms; the reference
(tests/authors_step.py) runs the teachers at every step with autograd on, NCHW, per-group
loops and the broadcast Student-t distance, with its own critic, gradient reversal, GRL
coefficient and reparameterisation (nothing of fairclust's but the encoder network). Same
weights, same inputs, same random draws, in float64: the losses, every parameter's gradient
and the parameters after the Adam step must agree to float tolerance (float32 differs by
BatchNorm-backward rounding only).
"""

import numpy as np
import pytest
import torch
from authors_step import make_pair  # tests/authors_step.py: the reference iteration


@pytest.mark.parametrize("t", [0, 7000])
def test_optimised_step_matches_authors_iteration(t):
    torch.set_num_threads(1)
    b = 24
    ours, theirs, X, P, codes = make_pair(b, seed=3, dtype=torch.float64)
    idx = torch.from_numpy(np.concatenate([np.flatnonzero(codes == g)[5:5 + b] for g in range(2)]))
    g = torch.arange(2).repeat_interleave(b)
    torch.manual_seed(11)
    mine = ours.step(t, X[idx], P[idx], g)
    torch.manual_seed(11)
    ref = theirs.step(t, list(X[idx].split(b)))
    for name in ("loss", "L_c", "L_s", "L_f"):
        assert float(mine[name]) == pytest.approx(float(ref[name]), rel=1e-9, abs=1e-12), name
    assert float(ref["L_s"]) > 0.1 and float(ref["L_c"]) > 0.01  # non-trivial terms
    pairs = list(zip(ours.encoder.parameters(), theirs.encoder.parameters()))
    pairs += [(ours.centers, theirs.centers)] + list(zip(ours.critic.parameters(), theirs.critic.parameters()))
    assert len(pairs) == len(list(ours.parameters()))
    for a, r in pairs:
        assert a.grad is not None and r.grad is not None
        scale = r.grad.abs().max().item() + 1e-6
        assert torch.allclose(a.grad, r.grad, rtol=1e-6, atol=1e-8 * scale), (a.shape, (a.grad - r.grad).abs().max())
        assert torch.allclose(a.detach(), r.detach(), rtol=1e-6, atol=1e-8)  # after the same Adam step


def test_channels_last_encoder_keeps_values():
    """The NHWC encoder of the trainer returns what the plain NCHW encoder returns."""
    torch.set_num_threads(1)
    ours, theirs, X, _, _ = make_pair(8, seed=1)
    ours.encoder.eval()
    theirs.encoder.eval()
    with torch.no_grad():
        a = ours.encoder(X.contiguous(memory_format=torch.channels_last))[0]
        r = theirs.encoder(X)[0]
    assert ours.encoder.features[3].weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(a, r, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n", [0, 1, 4096, 5001])
def test_gather_equals_concatenating_the_batches(n):
    """Batched inference filled into one preallocated tensor == concatenating the batches."""
    from fairclust.embedding import batched, batched_map

    X = np.random.default_rng(0).normal(size=(n, 6)).astype(np.float32)
    W = torch.randn(6, 3, dtype=torch.float64)
    fn = lambda xb: xb.double() @ W  # noqa: E731
    out = batched_map(fn, X, batch_size=1000)
    if n == 0:
        assert out.numel() == 0
        return
    ref = torch.cat(list(batched(fn, X, batch_size=1000)))
    assert out.dtype == torch.float64 and out.shape == (n, 3)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_the_vae_pretraining_runs_channels_last_with_the_plain_layouts_gradients():
    """The shared VAE trains NHWC (~1.3x faster convolutions on CPU): the same loss and gradients as the plain
    NCHW encoder and decoder on one batch, and the state it returns loads into a plain encoder."""
    import copy

    from fairclust.config import DFCConfig
    from fairclust.losses import vae_loss
    from fairclust.nn import make_decoder, make_encoder, nhwc
    from fairclust.pretrain import train_vae

    torch.set_num_threads(1)
    torch.manual_seed(0)
    X = torch.rand(32, 1, 32, 32, dtype=torch.float64)
    plain = [make_encoder((1, 32, 32), 16, True).double(), make_decoder((1, 32, 32), 16).double()]
    fast = copy.deepcopy(plain)
    nhwc(*fast)
    assert fast[0].features[3].weight.is_contiguous(memory_format=torch.channels_last)
    assert fast[1].deconv[0].weight.is_contiguous(memory_format=torch.channels_last)
    losses = []
    for (enc, dec), x in ((plain, X), (fast, X.contiguous(memory_format=torch.channels_last))):
        mu, logvar = enc(x)
        loss = vae_loss(x, dec(mu), mu, logvar, "bce", 1.0)
        loss.backward()
        losses.append(float(loss))
    assert losses[0] == pytest.approx(losses[1], rel=1e-10)
    pairs = list(zip([p for m in fast for p in m.parameters()], [p for m in plain for p in m.parameters()]))
    scale = max(r.grad.abs().max().item() for _, r in pairs)  # some are zero up to rounding (a bias before BN)
    for a, r in pairs:
        assert torch.allclose(a.grad, r.grad, rtol=1e-7, atol=1e-10 * scale)

    state = train_vae(X.float(), np.repeat([0, 1], 16), DFCConfig(center_input=True, latent_dim=16,
                      pretrain_batch_size=8), 0, torch.device("cpu"), epochs=1, desc="", verbose=False)
    assert state["features.3.weight"].is_contiguous(memory_format=torch.channels_last)  # trained NHWC (a 1-channel weight passes either way)
    enc = make_encoder((1, 32, 32), 16, True)
    enc.load_state_dict(state)
    enc.eval()
    with torch.no_grad():
        assert torch.isfinite(enc(X.float())[0]).all()
