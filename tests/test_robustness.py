"""Interruption + resume, determinism, safe loading and atomic outputs (issue 7).

Tiny data (2 groups x 3 blobs x 30 samples, 8 features), tiny pretraining, a few dozen
DFC iterations: every fit here takes about a second once the pretraining is cached.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from fairclust import DeepFairClustering
from fairclust.checkpoint import FORMAT, Checkpointer, TrainingInterrupted
from fairclust.cli import main
from fairclust.data import Dataset
from fairclust.errors import FairclustError
from fairclust.files import atomic_save, write_json
from fairclust.methods import METHODS
from fairclust.methods.base import FairClusterMixin
from fairclust.runner import run_method

RNG = np.random.default_rng(0)
X = np.concatenate([RNG.normal(c, 1.0, (30, 8)) for c in (0, 3, 6)] * 2).astype(np.float32)
G = np.repeat(["a", "b"], 90)  # string groups are valid input
Y = np.tile(np.repeat([0, 1, 2], 30), 2)
TINY = dict(n_clusters=3, n_iters=40, batch_size=16, pretrain_epochs=1,
            checkpoint_every=10, verbose=False)


@pytest.fixture(autouse=True)
def one_thread():
    """Bit-exact comparisons across processes need the same number of torch threads (and 2 shared
    cores are faster with one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fit(tmp_path, seed=0, callbacks=None, **params):
    model = DeepFairClustering(**{**TINY, **params}, cache_dir=tmp_path / "cache", random_state=seed)
    return model.fit(X, sensitive_features=G, callbacks=callbacks)


def same_run(a: DeepFairClustering, b: DeepFairClustering) -> None:
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)  # bit-exact, not approximately
    assert a.history_ == b.history_


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_labels(tmp_path):
    first = fit(tmp_path)  # computes and caches the pretraining
    second = fit(tmp_path)  # reads it from the cache
    assert second.pretrain_cache_hits_ and all(second.pretrain_cache_hits_.values())
    same_run(first, second)
    other = fit(tmp_path, seed=1)
    assert not np.array_equal(other.cluster_centers_, first.cluster_centers_)


# ----------------------------------------------------------------------------- interruption
def interrupt_at(iteration: int, signum: int = signal.SIGINT):
    def callback(it, trainer):
        if it == iteration:
            os.kill(os.getpid(), signum)
    return callback


SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _handlers() -> dict:
    return {s: signal.getsignal(s) for s in SIGNALS}


@pytest.fixture
def handlers():
    """Set SIGINT / SIGTERM handlers for one test, whatever the shell gave the process
    (e.g. ``trap "" INT``), and put back the ones found after it."""
    found = _handlers()

    def set_(**by_name):
        for name, h in by_name.items():
            signal.signal(getattr(signal, name), h)

    yield set_
    for s, h in found.items():
        signal.signal(s, h)


def _python_default(signum, frame):  # a handler of the caller's own, to be found again after fit
    raise KeyboardInterrupt


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_checkpoints_and_resume_gives_the_same_run(tmp_path, signum, handlers):
    handlers(SIGINT=signal.default_int_handler, SIGTERM=_python_default)
    before = _handlers()
    reference = fit(tmp_path)
    ckpt = tmp_path / "ckpt.pt"
    with pytest.raises(TrainingInterrupted, match=r"interrupted after iteration 17 of 40; checkpoint written") as info:
        fit(tmp_path, checkpoint_path=ckpt, callbacks=[interrupt_at(17, signum)])
    assert info.value.signum == signum and ckpt.is_file()
    assert _handlers() == before  # handlers restored: exactly the ones found
    state = torch.load(ckpt, weights_only=True)
    assert state["format"] == FORMAT and state["iteration"] == 17
    resumed = fit(tmp_path, checkpoint_path=ckpt, resume=True)
    same_run(resumed, reference)
    assert not ckpt.exists()  # a finished fit removes its checkpoint
    assert _handlers() == before


def test_an_ignored_signal_stays_ignored(tmp_path, handlers):
    """With SIGINT ignored (``nohup``, ``trap "" INT``), fit does not catch it: during training it
    is still ignored, a SIGINT sent mid-run changes nothing, and SIGTERM is still caught."""
    handlers(SIGINT=signal.SIG_IGN, SIGTERM=_python_default)
    during = []

    def look_and_poke(it, trainer):
        if it == 5:
            during.append(_handlers())
            os.kill(os.getpid(), signal.SIGINT)

    reference = fit(tmp_path)
    ckpt = tmp_path / "ckpt.pt"
    model = fit(tmp_path, checkpoint_path=ckpt, callbacks=[look_and_poke])  # runs to the end
    assert during[0][signal.SIGINT] is signal.SIG_IGN
    assert during[0][signal.SIGTERM] not in (_python_default, signal.SIG_IGN)  # fit's own handler
    assert _handlers() == {signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: _python_default}
    same_run(model, reference)
    assert not ckpt.exists()


def test_resume_from_a_periodic_checkpoint_after_a_hard_stop(tmp_path):
    """An exception mid-iteration (not a signal) writes nothing: the last periodic checkpoint is used."""
    reference = fit(tmp_path)
    ckpt = tmp_path / "ckpt.pt"

    def crash(it, trainer):
        if it == 25:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        fit(tmp_path, checkpoint_path=ckpt, callbacks=[crash])
    assert torch.load(ckpt, weights_only=True)["iteration"] == 20
    same_run(fit(tmp_path, checkpoint_path=ckpt, resume=True), reference)


def test_checkpoint_of_another_run_is_refused(tmp_path, handlers):
    handlers(SIGINT=signal.default_int_handler)  # caught by fit even where the shell ignores it
    ckpt = tmp_path / "ckpt.pt"
    with pytest.raises(TrainingInterrupted):
        fit(tmp_path, checkpoint_path=ckpt, callbacks=[interrupt_at(5)])
    with pytest.raises(FairclustError, match=r"already exists; pass resume=True \(--resume\)"):
        fit(tmp_path, checkpoint_path=ckpt)
    with pytest.raises(FairclustError, match=r"written by a run with other data, settings, K or seed"):
        fit(tmp_path, seed=1, checkpoint_path=ckpt, resume=True)
    assert fit(tmp_path, checkpoint_path=tmp_path / "none.pt", resume=True).labels_.shape == (180,)


KILLED_RUN = """
import os, sys, time
import torch
torch.set_num_threads(1)
from fairclust.methods import dfc
step = dfc.DFCTrainer.step
def slow_step(self, *args, **kwargs):  # slow enough to be killed mid-training
    time.sleep(0.05)
    return step(self, *args, **kwargs)
dfc.DFCTrainer.step = slow_step
from fairclust.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_cli_run_killed_with_sigterm_then_resumed(tmp_path):
    data = tmp_path / "tiny.npz"
    np.savez(data, X=X, sensitive=G, y=Y)
    common = ["run", "--dataset", str(data), "--iters", "200", "--batch-size", "16", "--checkpoint-every", "5",
              "--cache-dir", str(tmp_path / "cache"), "--quiet", "--threads", "1"]
    assert main(common + ["--out", str(tmp_path / "reference")]) == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, *common, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "checkpoint.pt").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted after iteration" in err and "--resume" in err
    assert (out / "checkpoint.pt").exists() and not (out / "metrics.json").exists()
    stopped_at = torch.load(out / "checkpoint.pt", weights_only=True)["iteration"]
    assert 5 <= stopped_at < 200

    assert main(common + ["--out", str(out)]) == 2  # holds a checkpoint: refused without --resume
    assert main(common + ["--out", str(out), "--resume"]) == 0
    np.testing.assert_array_equal(np.load(out / "labels.npy"), np.load(tmp_path / "reference" / "labels.npy"))
    resumed, reference = (DeepFairClustering.load(p / "model.pt") for p in (out, tmp_path / "reference"))
    np.testing.assert_array_equal(resumed.cluster_centers_, reference.cluster_centers_)
    assert json.loads((out / "history.json").read_text()) == json.loads(
        (tmp_path / "reference" / "history.json").read_text())
    assert not (out / "checkpoint.pt").exists()


# ----------------------------------------------------------------------------- safe loading
class Payload:
    """Unpickling this creates a file: proof that code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "iteration": 3, "x": Payload(marker)}, evil)

    unsafe = r"it holds a Python object \(io.open\) whose loading would run code; fairclust never runs it"
    with pytest.raises(FairclustError, match=r"not a readable fairclust model file: " + unsafe) as info:
        DeepFairClustering.load(evil)
    assert "\n" not in str(info.value)
    with pytest.raises(FairclustError, match=r"not a readable fairclust checkpoint: " + unsafe):
        Checkpointer(evil, every=10, key="k", resume=True).restore(None, None, {})
    assert not marker.exists()

    evil.rename(tmp_path / "model.pt")  # the CLI path of a model file gives the same one-line error
    with pytest.raises(FairclustError):
        DeepFairClustering.load(tmp_path / "model.pt")
    assert not marker.exists()
    torch.load(tmp_path / "model.pt", weights_only=False)  # the payload is real: unsafe loading runs it
    assert marker.exists()


def test_save_load_round_trip_is_exact(tmp_path):
    model = fit(tmp_path)
    model.save(tmp_path / "m.pt")
    same = DeepFairClustering.load(tmp_path / "m.pt")
    np.testing.assert_array_equal(same.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(same.labels_, model.labels_)
    with pytest.raises(FairclustError, match=r"X has (4 features|per-sample shape \(4,\))"):
        same.predict(X[:, :4])


# ----------------------------------------------------------------------------- atomic outputs
def test_atomic_save_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"old": 1})

    def half_then_crash(fh):
        fh.write(b'{"new": ')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_save(target, half_then_crash)
    assert json.loads(target.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary file left
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _Fails(FairClusterMixin):
    """A method whose fit crashes: nothing must be written."""

    def __init__(self, n_clusters=2, random_state=None):
        self.n_clusters = n_clusters
        self.random_state = random_state

    def fit(self, X, y=None, *, sensitive_features):
        self._validate_fit(X, sensitive_features)
        raise KeyboardInterrupt


class _Labels(_Fails):
    def fit(self, X, y=None, *, sensitive_features):
        self._validate_fit(X, sensitive_features)
        self.labels_ = np.arange(len(X)) % self.n_clusters
        return self


def test_crash_mid_run_leaves_no_half_written_results(tmp_path, monkeypatch):
    ds = Dataset("tiny", X, G, Y)
    monkeypatch.setitem(METHODS, "fails", _Fails)
    monkeypatch.setitem(METHODS, "labels", _Labels)
    with pytest.raises(KeyboardInterrupt):
        run_method(ds, "fails", out=tmp_path / "a")
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())

    run_method(ds, "labels", out=tmp_path / "b")
    before = (tmp_path / "b" / "metrics.json").read_bytes()
    real_replace = os.replace

    def crash_on_metrics(src, dst):  # killed while renaming metrics.json into place
        if str(dst).endswith("metrics.json"):
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_metrics)
    with pytest.raises(KeyboardInterrupt):
        run_method(ds, "labels", n_clusters=3, out=tmp_path / "b")
    monkeypatch.undo()
    assert (tmp_path / "b" / "metrics.json").read_bytes() == before  # the old complete file, not half a new one
    assert not [p for p in (tmp_path / "b").iterdir() if p.name.endswith(".tmp")]
    np.load(tmp_path / "b" / "labels.npy")  # the new labels: complete and readable


def test_numba_kernels_are_cached_beside_the_pretraining_cache(monkeypatch, tmp_path):
    """umap-learn's compiled kernels go under the pretraining cache's root ($FAIRCLUST_CACHE, $XDG_CACHE_HOME/fairclust
    or ~/.cache/fairclust), not under a home directory that may be read-only, and a NUMBA_CACHE_DIR of the user's
    is kept. (numba reads the variable when it is first imported: umap-learn is imported first here, so this
    process keeps its usual numba cache.)"""
    from fairclust import teachers

    teachers._umap()
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("FAIRCLUST_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    teachers._umap()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "xdg" / "fairclust" / "numba")
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("FAIRCLUST_CACHE", str(tmp_path / "fc"))
    teachers._umap()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "fc" / "numba")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    teachers._umap()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_an_unwritable_pretraining_cache_gets_a_one_line_error(tmp_path):
    """A cache root that cannot be written (here under a regular file) is named, with the fix, in a FairclustError
    instead of an OSError from deep inside the first stage's save."""
    from fairclust.cache import StageCache

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = StageCache(blocker / "cache")
    with pytest.raises(FairclustError, match="cannot write the pretraining cache .*--cache-dir DIR.*--no-cache"):
        cache.put("shared_vae", "k", {"x": torch.zeros(2)})
    assert cache.get("shared_vae", "k") is None
