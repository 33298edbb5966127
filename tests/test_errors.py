"""Bad input gives one line naming the problem and the fix (docs/errors.md lists every case).

Python API: a ``FairclustError`` (a ``ValueError``) or ``FairclustTypeError`` (also a
``TypeError``). CLI: ``error: ...`` on one stderr line, exit status 2, no traceback.
None of these cases trains anything: validation runs before pretraining.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import scipy.sparse

from fairclust import DeepFairClustering
from fairclust.cli import main
from fairclust.data import load_dataset
from fairclust.errors import DataFileError, FairclustError, FairclustTypeError
from fairclust.methods.fair_assignment import FairAssignment
from fairclust.runner import prepare_out_dir
from fairclust.utils import check_seed, resolve_device
from fairclust.validation import check_sensitive

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 5)).astype(np.float32)
G = np.repeat([0, 1], 20)


def fit(X=X, groups=G, y=None, **params):
    params.setdefault("n_clusters", 3)
    return DeepFairClustering(cache_dir=False, **params).fit(X, y, sensitive_features=groups)


def with_nan(value):
    bad = X.copy()
    bad[3, 2] = value
    return bad


API_CASES = {
    "nan in X": (lambda: fit(X=with_nan(np.nan)), FairclustError, r"X contains NaN or inf in 1 sample\(s\)"),
    "inf in X": (lambda: fit(X=with_nan(np.inf)), FairclustError, r"NaN or inf.*remove or impute"),
    "length mismatch": (lambda: fit(groups=G[:-1]), FairclustError, r"X has 40 samples but sensitive_features has 39"),
    "no sensitive attribute": (lambda: fit(groups=None), FairclustError, r"sensitive_features is required"),
    "single group": (lambda: fit(groups=np.zeros(40)), FairclustError, r"single group .*at least two groups"),
    "group smaller than K": (lambda: fit(groups=np.r_[np.zeros(38), 1, 1]), FairclustError,
                             r"group 1.0 has only 2 samples, fewer than n_clusters=3"),
    "NaN group": (lambda: fit(groups=np.r_[np.zeros(20), np.ones(19), np.nan]), FairclustError,
                  r"sensitive_features contains NaN or inf"),
    "None group": (lambda: fit(groups=["a"] * 20 + ["b"] * 19 + [None]), FairclustError,
                   r"sensitive_features contains None"),
    "2-d groups": (lambda: fit(groups=np.zeros((40, 2))), FairclustError,  # N x A: two attributes, each one group
                   r"sensitive attribute 'attribute_0' holds a single group"),
    "3-d groups": (lambda: fit(groups=np.zeros((40, 2, 2))), FairclustError, r"sensitive_features has shape \(40, 2, 2\)"),
    "n_clusters = 0": (lambda: fit(n_clusters=0), FairclustError, r"n_clusters must be positive, got 0"),
    "n_clusters < 0": (lambda: fit(n_clusters=-2), FairclustError, r"n_clusters must be positive, got -2"),
    "n_clusters > N": (lambda: fit(n_clusters=41), FairclustError, r"n_clusters=41 is larger than the number of"),
    "n_clusters not an int": (lambda: fit(n_clusters=2.5), FairclustTypeError, r"n_clusters must be an integer"),
    "X is None": (lambda: fit(X=None), FairclustTypeError, r"X is None"),
    "X 1-d": (lambda: fit(X=X[:, 0]), FairclustError, r"X has shape \(40,\); expected"),
    "X 5-d": (lambda: fit(X=np.zeros((40, 1, 2, 2, 2))), FairclustError, r"X has shape \(40, 1, 2, 2, 2\)"),
    "X strings": (lambda: fit(X=np.full((40, 5), "a")), FairclustTypeError, r"X holds non-numeric values"),
    "X complex": (lambda: fit(X=X.astype(np.complex64)), FairclustTypeError, r"X holds complex numbers"),
    "X ragged": (lambda: fit(X=[[1.0, 2.0], [3.0]] * 20), FairclustTypeError, r"X could not be read as an array"),
    "X sparse": (lambda: fit(X=scipy.sparse.csr_matrix(X)), FairclustTypeError, r"X is a sparse matrix"),
    "X no features": (lambda: fit(X=np.zeros((40, 0))), FairclustError, r"X has 0 features"),
    "y length mismatch": (lambda: fit(y=np.zeros(39)), FairclustError, r"X has 40 samples but y has 39"),
    "non-numeric seed": (lambda: fit(random_state="abc"), FairclustError, r"random_state must be an integer"),
    "float seed": (lambda: check_seed(1.5), FairclustError, r"random_state must be an integer, got 1.5"),
    "negative seed": (lambda: check_seed(-1), FairclustError, r"random_state must be non-negative"),
    "unknown recipe": (lambda: fit(recipe="fast"), FairclustError, r"unknown DFC recipe 'fast'; choose one of"),
    "latent_dim < 0": (lambda: fit(latent_dim=-2), FairclustError, r"latent_dim must be finite and >= 0, got -2"),
    "negative epochs": (lambda: fit(pretrain_epochs=-1), FairclustError, r"pretrain_epochs must be finite and >= 0"),
    "NaN alpha_f": (lambda: fit(alpha_f=float("nan")), FairclustError, r"alpha_f must be finite and >= 0, got nan"),
    "negative alpha_s": (lambda: fit(alpha_s=-0.5), FairclustError, r"alpha_s must be finite and >= 0, got -0.5"),
    "fractional n_iters": (lambda: fit(n_iters=2.5), FairclustError, r"n_iters must be a whole number, got 2.5"),
    "n_iters = 0": (lambda: fit(n_iters=0), FairclustError, r"n_iters must be finite and positive, got 0"),
    "text batch size": (lambda: fit(batch_size="big"), FairclustError, r"batch_size must be a number \(int\)"),
    "fair_labels = 1": (lambda: fit(fair_labels=1.0), FairclustError, r"fair_labels must be in \[0, 1\), got 1.0"),
    "falg delta not a number": (lambda: FairAssignment(3, delta="x", feature_space="raw").fit(X, sensitive_features=G),
                                FairclustError, r"delta must be a number in \[0, 1\), got 'x'"),
    "unknown device": (lambda: resolve_device("tpu"), FairclustError, r"unknown device 'tpu'"),
    "unknown dataset": (lambda: load_dataset("mnist-uspss"), FairclustError, r"unknown dataset 'mnist-uspss'"),
}


@pytest.mark.parametrize("case", sorted(API_CASES))
def test_api_error(case):
    call, exc_type, pattern = API_CASES[case]
    with pytest.raises(exc_type, match=pattern) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)
    if exc_type is FairclustTypeError:
        assert isinstance(info.value, TypeError)


def test_string_groups_are_valid():
    codes, groups = check_sensitive(["women", "men", "men", "women"], 4)
    assert list(groups) == ["men", "women"] and codes.tolist() == [1, 0, 0, 1]
    codes, groups = check_sensitive(np.array([3, "x", 3], dtype=object), 3)  # mixed types: compared as strings
    assert list(groups) == ["3", "x"] and codes.tolist() == [0, 1, 0]


def test_seed_strings_of_digits_are_accepted():
    assert check_seed("7") == 7 and check_seed(np.int64(3)) == 3


# ----------------------------------------------------------------------------- files
def npz(tmp_path, name="d.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def file_cases(tmp_path):
    ok = npz(tmp_path, "ok.npz", X=X, sensitive=G)
    raw = ok.read_bytes()
    (tmp_path / "garbage.npz").write_bytes(b"this is not a zip file")
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    big = tmp_path / "big.npz"
    np.savez_compressed(big, X=RNG.normal(size=(200, 40)), sensitive=np.repeat([0, 1], 100))
    corrupt = bytearray(big.read_bytes())
    corrupt[200:260] = bytes(60)
    (tmp_path / "corrupt.npz").write_bytes(bytes(corrupt))
    return {
        "missing .npz": (tmp_path / "nope.npz", r"data file .*nope.npz' does not exist"),
        "not a zip": (tmp_path / "garbage.npz", r"garbage.npz' is not a readable .npz file \(not a zip archive"),
        "truncated .npz": (tmp_path / "truncated.npz",
                           r"truncated.npz' is not a readable .npz file \(not a zip archive: truncated"),
        "corrupt compressed .npz": (tmp_path / "corrupt.npz",
                                    r"corrupt.npz' is not a readable .npz file \(corrupt data: Error -3"),
        "no sensitive array": (npz(tmp_path, "nosens.npz", X=X), r"lacks array\(s\) sensitive"),
        "npz length mismatch": (npz(tmp_path, "len.npz", X=X, sensitive=G[:-2]),
                                r"X has 40 samples but sensitive has 38"),
        "npz non-numeric X": (npz(tmp_path, "str.npz", X=np.full((4, 2), "a"), sensitive=[0, 1, 0, 1]),
                              r"X has non-numeric dtype"),
        "npz with pickled objects": (npz(tmp_path, "obj.npz", X=np.array([{}] * 4, dtype=object),
                                         sensitive=[0, 1, 0, 1]),
                                     r"obj.npz' is not a readable .npz file \(it holds object arrays"),
        "unsupported suffix": (tmp_path / "d.csv.gz", r"unknown dataset"),
    }


def test_file_errors(tmp_path):
    for case, (path, pattern) in file_cases(tmp_path).items():
        with pytest.raises(FairclustError, match=pattern) as info:
            load_dataset(str(path))
        assert "\n" not in str(info.value), case
        if case != "unsupported suffix":
            assert isinstance(info.value, DataFileError), case


def test_model_file_errors(tmp_path):
    with pytest.raises(FairclustError, match=r"model file .* does not exist"):
        DeepFairClustering.load(tmp_path / "none.pt")
    (tmp_path / "bad.pt").write_bytes(b"\x80\x04garbage")
    with pytest.raises(FairclustError, match=r"bad.pt' is not a readable fairclust model file: not a file of tensors"):
        DeepFairClustering.load(tmp_path / "bad.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(FairclustError, match=r"empty.pt' is not a readable .*: corrupt or truncated \(EOFError\)"):
        DeepFairClustering.load(tmp_path / "empty.pt")


def test_short_idx_file(tmp_path):
    from fairclust.data.digit_files import read_idx

    header = b"\x00\x00\x08\x03" + struct.pack(">3I", 10, 28, 28)
    (tmp_path / "short").write_bytes(header + bytes(100))
    with pytest.raises(DataFileError, match=r"is truncated or corrupt: 116 bytes where its IDX 3-d"):
        read_idx(tmp_path / "short", 3, "MNIST training images")
    (tmp_path / "short.gz").write_bytes(gzip.compress(header + bytes(100))[:-10])
    with pytest.raises(DataFileError, match=r"is not a readable IDX 3-d unsigned-byte file"):
        read_idx(tmp_path / "short.gz", 3, "MNIST training images")
    (tmp_path / "labels").write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 1, 1, 1) + b"\x00")
    with pytest.raises(DataFileError, match=r"bad header"):
        read_idx(tmp_path / "labels", 1, "MNIST training labels")


def test_unreadable_image(tmp_path):
    from PIL import Image

    for i in range(4):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "4.png").write_bytes(b"not a png")
    (tmp_path / "d.csv").write_text("path,group\n" + "".join(f"{i}.png,{i % 2}\n" for i in range(5)))
    with pytest.raises(DataFileError, match=r"image file .*4.png' cannot be read \(UnidentifiedImageError\)"):
        load_dataset(str(tmp_path / "d.csv"), image_size=8)


def test_output_directory(tmp_path):
    assert prepare_out_dir(tmp_path / "new").is_dir()
    assert prepare_out_dir(tmp_path / "new").is_dir()  # empty: fine
    (tmp_path / "new" / "metrics.json").write_text("{}")
    with pytest.raises(FairclustError, match=r"already holds results; pass --overwrite .* --resume"):
        prepare_out_dir(tmp_path / "new")
    prepare_out_dir(tmp_path / "new", overwrite=True)
    prepare_out_dir(tmp_path / "new", resume=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FairclustError, match=r"is a file; pass a directory"):
        prepare_out_dir(tmp_path / "file")


# ----------------------------------------------------------------------------- CLI
def cli_error(capsys, *argv) -> str:
    """Run the CLI; assert exit 2 and exactly one stderr line ``error: ...``; return that line."""
    code = main(list(argv))
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def test_cli_errors(tmp_path, capsys):
    ok = npz(tmp_path, "ok.npz", X=X, sensitive=G)
    out = ["--out", str(tmp_path / "out"), "--no-cache", "--quiet"]
    cases = [
        (["--dataset", "nope"], r"unknown dataset 'nope'"),
        (["--dataset", str(tmp_path / "missing.npz")], r"missing.npz' does not exist"),
        (["--dataset", str(npz(tmp_path, "nan.npz", X=with_nan(np.nan), sensitive=G)), "--n-clusters", "2"],
         r"NaN or inf"),
        (["--dataset", str(npz(tmp_path, "one.npz", X=X, sensitive=np.zeros(40))), "--n-clusters", "2"],
         r"single group"),
        (["--dataset", str(npz(tmp_path, "small.npz", X=X, sensitive=np.r_[np.zeros(38), 1, 1])),
          "--n-clusters", "3"], r"has only 2 samples, fewer than n_clusters=3"),
        (["--dataset", str(ok), "--n-clusters", "0"], r"argument --n-clusters: expected a positive integer, got 0"),
        (["--dataset", str(ok), "--n-clusters", "41"], r"n_clusters=41 is larger than the number of samples"),
        (["--dataset", str(ok)], r"has no labels; pass --n-clusters K"),
        (["--dataset", str(ok), "--seed", "abc"], r"argument --seed: the seed must be an integer, got 'abc'"),
        (["--dataset", str(ok), "--seed", "-3"], r"argument --seed: the seed must be non-negative, got -3"),
        (["--dataset", str(ok), "--n-clusters", "2", "--method", "magic"], r"argument --method: invalid choice: 'magic'"),
        (["--dataset", str(ok), "--n-clusters", "2", "--recipe", "fast"],
         r"argument --recipe: invalid choice: 'fast' \(choose from '?default'?, '?faithful'?, '?paper'?\)"),
        (["--dataset", str(ok), "--n-clusters", "2", "--fair-labels", "1"], r"argument --fair-labels: DELTA must be in"),
        (["--dataset", str(ok), "--n-clusters", "2", "--checkpoint-every", "-1"],
         r"argument --checkpoint-every: expected a non-negative integer, got -1"),
        (["--dataset", str(ok), "--n-clusters", "2", "--device", "tpu"], r"unknown device 'tpu'"),
        (["--dataset", str(ok), "--n-clusters", "2", "--bogus"], r"unrecognized arguments: --bogus"),
    ]
    import re

    for argv, pattern in cases:
        line = cli_error(capsys, "run", *argv, *out)
        assert re.search(pattern, line), (argv, line)
    (tmp_path / "out" / "metrics.json").write_text("{}")
    line = cli_error(capsys, "run", "--dataset", str(ok), "--n-clusters", "2", *out)
    assert "already holds results; pass --overwrite" in line
    assert main([]) == 2 and "error: the following arguments are required" in capsys.readouterr().err


def test_cli_debug_shows_the_traceback(capsys, tmp_path):
    with pytest.raises(FairclustError, match="unknown dataset"):
        main(["--debug", "run", "--dataset", "nope", "--no-cache"])
    with pytest.raises(FairclustError, match="unknown dataset"):
        main(["run", "--dataset", "nope", "--no-cache", "--debug"])
    # every command, nested ones too, takes --debug after its name, without listing it
    with pytest.raises(FairclustError, match="unknown dataset"):
        main(["table", "probe", "--dataset", "nope", "--out", "unused", "--debug"])
    with pytest.raises(FairclustError, match="holds no metrics.json"):
        main(["report", str(tmp_path), "--debug"])
    for argv in (["run", "--help"], ["figure", "tsne", "--help"], ["bench", "step", "--help"]):
        assert main(argv) == 0
        assert "--debug" not in capsys.readouterr().out
