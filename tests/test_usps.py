"""USPS in ESL's zip-code format, on the real test set shipped with fairclust, and ``mnist-usps-mini``."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np
import pytest
from datafiles import write_mnist, write_usps_h5

from fairclust import metrics
from fairclust.data import digit_files, embedded, load_dataset
from fairclust.errors import DataFileError

USPS_TEST = resources.files("fairclust.data") / "files" / embedded.USPS_TEST_FILE
TEST_COUNTS = [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]  # digits 0-9 of ESL's zip.test


def real_lines(n: int | None = None) -> list[str]:
    lines = gzip.decompress(USPS_TEST.read_bytes()).decode().splitlines()
    return lines[:n]


def test_esl_reader_reads_the_real_usps_test_set():
    X, y = digit_files.read_usps(USPS_TEST)
    assert X.shape == (2007, 1, 16, 16) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert X.min() < 0.01 and X.max() > 0.99  # ESL's -1 and 1 are black and white
    assert np.bincount(y, minlength=10).tolist() == TEST_COUNTS
    first = np.asarray(real_lines(1)[0].split(), dtype=np.float64)  # row-major 16 x 16, v -> (v + 1) / 2
    assert y[0] == first[0] == 9
    np.testing.assert_allclose(X[0, 0], (first[1:].reshape(16, 16) + 1) / 2, atol=1e-6)


def test_usps_train_finds_zip_train_gzipped_or_plain_in_every_candidate_folder(tmp_path):
    lines = real_lines(30)
    expected_X, expected_y = digit_files.read_usps(USPS_TEST)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "zip.train.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    (tmp_path / "b" / "USPS").mkdir(parents=True)
    # ESL's zip.train writes every number with four decimals ("6.0000 -1.0000 ...")
    plain = [" ".join(f"{float(v):.4f}" for v in ln.split()) for ln in lines]
    (tmp_path / "b" / "USPS" / "zip.train").write_text("\n".join(plain) + "\n")
    for d in ("a", "b"):
        X, y = digit_files.usps_train(tmp_path / d)
        assert X.shape == (30, 1, 16, 16) and X.dtype == np.float32
        np.testing.assert_allclose(X, expected_X[:30], atol=1e-4)
        np.testing.assert_array_equal(y, expected_y[:30])
    write_mnist(tmp_path / "a", n=12)
    ds = load_dataset("mnist-usps", data_dir=tmp_path / "a")
    assert ds.n_samples == 42 and np.bincount(ds.sensitive).tolist() == [12, 30]
    np.testing.assert_allclose(ds.X[12:], embedded.upsample(expected_X[:30], 32), atol=1e-6)
    write_usps_h5(tmp_path / "a", n=7)  # usps.h5 wins over zip.train.gz
    assert digit_files.usps_train(tmp_path / "a")[0].shape == (7, 1, 16, 16)


def test_missing_usps_names_all_three_formats_and_where_each_comes_from(tmp_path):
    (tmp_path / "zip.test.gz").write_bytes(USPS_TEST.read_bytes())  # the test set is not the training set
    with pytest.raises(DataFileError) as e:
        digit_files.usps_train(tmp_path)
    msg = str(e.value)
    assert "\n" not in msg
    for needle in ("usps.h5 (HDF5)", "usps.bz2 (bz2 libsvm)", "zip.train[.gz] (ESL text)", "kaggle.com",
                   "csie.ntu.edu.tw", "hastie.su.domains/ElemStatLearn", "--download"):
        assert needle in msg


@pytest.mark.parametrize("content, why", [
    (lambda ls: ls[:1] + [" ".join(ls[1].split()[:200])], "line 2 is malformed"),
    (lambda ls: ls[:2] + [ls[2].replace("-1", "oops", 1)], "line 3 is malformed"),
    (lambda ls: ["12" + ls[0][1:]] + ls[1:], "digits must be 0..9"),
    (lambda ls: [" ".join(["3"] + ["255"] * 256)], r"grey values outside \[-1, 1\]"),
    (lambda ls: [], "no digits"),
])
def test_malformed_esl_files_give_one_line_errors(tmp_path, content, why):
    path = tmp_path / "zip.train"
    path.write_text("\n".join(content(real_lines(4))) + "\n")
    with pytest.raises(DataFileError, match=f"zip.train' is not an ESL zip-code USPS file.*{why}") as e:
        digit_files.usps_train(tmp_path)
    assert "\n" not in str(e.value) and "hastie.su.domains" in str(e.value)


def test_truncated_gzip_esl_file_gives_a_one_line_error(tmp_path):
    (tmp_path / "zip.train.gz").write_bytes(USPS_TEST.read_bytes()[:5000])
    with pytest.raises(DataFileError, match="zip.train.gz' is not an ESL zip-code USPS file") as e:
        digit_files.usps_train(tmp_path)
    assert "\n" not in str(e.value)


def test_mnist_usps_mini_is_mnist5k_plus_the_real_usps_test_set():
    ds = load_dataset("mnist-usps-mini")
    again = load_dataset("mnist-usps-mini")
    assert ds.n_samples == 7007 and ds.X.shape == (7007, 1, 32, 32) and ds.X.dtype == np.float32
    assert np.bincount(ds.sensitive).tolist() == [5000, 2007] and ds.group_names == ["mnist", "usps"]
    assert ds.X.min() >= 0.0 and ds.X.max() <= 1.0
    assert np.array_equal(ds.X, again.X) and np.array_equal(ds.y, again.y)
    assert np.array_equal(ds.sensitive, again.sensitive)
    mnist_X, mnist_y = embedded.mnist5k()
    usps_X, usps_y = digit_files.read_usps(USPS_TEST)
    np.testing.assert_array_equal(ds.X[:5000], mnist_X)
    np.testing.assert_array_equal(ds.X[5000:], embedded.upsample(usps_X, 32))
    np.testing.assert_array_equal(ds.y, np.concatenate([mnist_y, usps_y]))
    assert np.bincount(ds.y[5000:]).tolist() == TEST_COUNTS
    assert metrics.balance_max(ds.sensitive) == pytest.approx(2007 / 5000)


def test_three_sources_mini_is_mnist_usps_and_digits():
    ds = load_dataset("three-sources-mini")
    assert ds.X.shape == (5000 + 2007 + 1797, 1, 32, 32) and ds.group_names == ["mnist", "usps", "sklearn-digits"]
    assert np.bincount(ds.sensitive).tolist() == [5000, 2007, 1797]
    usps = load_dataset("mnist-usps-mini")
    np.testing.assert_array_equal(ds.X[:7007], usps.X)  # the same MNIST and USPS images, then the digits
    assert sorted(np.unique(ds.y[ds.sensitive == 2]).tolist()) == list(range(10))
