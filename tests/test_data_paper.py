"""The paper's data sets from tiny files in their real formats (no network)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from datafiles import (
    mnist_arrays,
    write_idx,
    write_mnist,
    write_mtfl,
    write_office31,
    write_usps_bz2,
    write_usps_h5,
)
from torch.nn import functional as F

from fairclust import cli
from fairclust.data import digit_files, image_indexes, load_dataset
from fairclust.data.summary import format_table
from fairclust.errors import DataFileError


def test_mnist_idx_gz_flat_and_raw_torchvision_layout_are_padded_to_32(tmp_path):
    images, labels = write_mnist(tmp_path / "a", gz=True)
    write_mnist(tmp_path / "b", gz=False, torchvision_layout=True)
    for d in ("a", "b"):
        X, y = digit_files.mnist32(tmp_path / d)
        assert X.shape == (12, 1, 32, 32) and X.dtype == np.float32
        np.testing.assert_array_equal(y, labels)
        # zero padding of 2 pixels on every side, the digit unchanged in the middle
        np.testing.assert_allclose(X[:, 0, 2:30, 2:30], images / 255.0, rtol=0, atol=1e-7)
        border = np.ones((32, 32), bool)
        border[2:30, 2:30] = False
        assert np.all(X[:, 0][:, border] == 0)
        assert 0.0 < X.max() <= 1.0


def test_reverse_mnist_is_mnist_plus_inverted_copies(tmp_path):
    write_mnist(tmp_path, n=10)
    ds = load_dataset("reverse-mnist", data_dir=tmp_path)
    assert ds.n_samples == 20 and ds.X.shape[1:] == (1, 32, 32)
    np.testing.assert_array_equal(ds.sensitive, [0] * 10 + [1] * 10)
    np.testing.assert_allclose(ds.X[10:], 1.0 - ds.X[:10])
    np.testing.assert_array_equal(ds.y[:10], ds.y[10:])
    assert ds.group_names == ["original", "reversed"]


@pytest.mark.parametrize("writer", [write_usps_h5, write_usps_bz2])
def test_usps_h5_and_bz2_libsvm_read_the_same_digits_upsampled_bilinearly(tmp_path, writer):
    data, target = writer(tmp_path)
    X16, y = digit_files.usps_train(tmp_path)
    assert X16.shape == (7, 1, 16, 16)
    np.testing.assert_allclose(X16.reshape(7, 256), data, atol=1e-5)  # bz2's [-1, 1] mapped back to [0, 1]
    np.testing.assert_array_equal(y, target)                          # bz2's labels 1..10 mapped to 0..9
    write_mnist(tmp_path, n=12)
    ds = load_dataset("mnist-usps", data_dir=tmp_path)
    assert ds.n_samples == 19 and ds.X.shape == (19, 1, 32, 32)
    np.testing.assert_array_equal(ds.sensitive, [0] * 12 + [1] * 7)
    expected = F.interpolate(torch.from_numpy(data.reshape(7, 1, 16, 16)), size=(32, 32), mode="bilinear",
                             align_corners=False).numpy()
    np.testing.assert_allclose(ds.X[12:], np.clip(expected, 0, 1), atol=1e-5)
    assert ds.X.min() >= 0.0 and ds.X.max() <= 1.0
    assert ds.group_names == ["mnist", "usps"]


def test_limit_keeps_at_most_n_per_group_and_metrics_report_what_was_used(tmp_path):
    write_mnist(tmp_path / "d", n=30)
    write_usps_h5(tmp_path / "d", n=20)
    a = load_dataset("mnist-usps", data_dir=tmp_path / "d", limit=8, seed=3)
    b = load_dataset("mnist-usps", data_dir=tmp_path / "d", limit=8, seed=3)
    assert np.bincount(a.sensitive).tolist() == [8, 8]
    np.testing.assert_array_equal(a.X, b.X)
    out = tmp_path / "run"
    rc = cli.main(["run", "--dataset", "mnist-usps", "--data-dir", str(tmp_path / "d"), "--limit", "8",
                   "--method", "kmeans", "--seed", "3", "--out", str(out), "--cache-dir", str(tmp_path / "c"),
                   "--quiet", "--n-clusters", "2"])
    assert rc == 0
    record = json.loads((out / "metrics.json").read_text())
    assert record["n_samples"] == 16 and record["group_sizes"] == [8, 8]
    assert np.load(out / "labels.npy").shape == (16,)


def test_nothing_is_downloaded_without_the_flag_and_download_uses_torchvision(tmp_path, monkeypatch):
    calls = []

    class FakeMNIST:  # stands in for torchvision's downloader: writes the raw IDX files
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            write_mnist(tmp_path / "dl", n=10, torchvision_layout=True)

    monkeypatch.setattr("torchvision.datasets.MNIST", FakeMNIST)
    with pytest.raises(DataFileError, match="train-images-idx3-ubyte.*IDX.*yann.lecun.com.*--download"):
        load_dataset("reverse-mnist", data_dir=tmp_path / "dl")
    assert calls == []
    ds = load_dataset("reverse-mnist", data_dir=tmp_path / "dl", download=True)
    assert calls == [(str(tmp_path / "dl"), True, True)] and ds.n_samples == 20

    class FakeUSPS:  # torchvision's USPS downloader writes ROOT/usps.bz2
        def __init__(self, root, train, download):
            calls.append(("usps", train, download))
            write_usps_bz2(tmp_path / "dl", n=4)

    monkeypatch.setattr("torchvision.datasets.USPS", FakeUSPS)
    with pytest.raises(DataFileError, match=r"usps.h5 .HDF5., usps.bz2 .bz2 libsvm. or zip.train\[.gz\]"):
        load_dataset("mnist-usps", data_dir=tmp_path / "dl")
    assert load_dataset("mnist-usps", data_dir=tmp_path / "dl", download=True).n_samples == 14
    assert calls[1:] == [("usps", True, True)]  # MNIST was already there: not fetched again


def test_truncated_and_malformed_files_give_one_line_errors_naming_file_format_and_source(tmp_path):
    images, labels = mnist_arrays(5)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels, gz=False)
    path = write_idx(tmp_path / "train-images-idx3-ubyte", images, gz=False)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(DataFileError, match="train-images-idx3-ubyte.*truncated.*IDX.*yann.lecun") as e:
        digit_files.mnist_train(tmp_path)
    assert "\n" not in str(e.value)
    path.write_bytes(b"\x00\x00\x0d\x03" + b"\x00" * 20)  # float dtype code: not MNIST's unsigned bytes
    with pytest.raises(DataFileError, match="bad header"):
        digit_files.mnist_train(tmp_path)
    (tmp_path / "usps.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DataFileError, match="usps.h5.*HDF5.*kaggle"):
        digit_files.usps_train(tmp_path)
    (tmp_path / "usps.h5").unlink()
    with pytest.raises(DataFileError, match=r"usps.bz2 .bz2 libsvm. or zip.train\[.gz\] .ESL text. not found"):
        digit_files.usps_train(tmp_path)
    import bz2

    (tmp_path / "usps.bz2").write_bytes(bz2.compress(b"3 1:0.5 2:oops\n"))
    with pytest.raises(DataFileError, match="usps.bz2.*libsvm.*line 1"):
        digit_files.usps_train(tmp_path)


def test_mtfl_samples_per_group_with_the_seed_class_gender_group_glasses(tmp_path):
    rows = write_mtfl(tmp_path, n_glasses=4, n_plain=6)
    a = image_indexes.mtfl_index(tmp_path, seed=0, per_group=3)
    b = image_indexes.mtfl_index(tmp_path, seed=0, per_group=3)
    assert a.paths == b.paths and len(a.paths) == 6
    np.testing.assert_array_equal(a.sensitive, [0, 0, 0, 1, 1, 1])
    truth = {(tmp_path / "MTFL" / rel.replace("\\", "/")): (g - 1, gl) for rel, g, gl in rows}
    for p, y, s in zip(a.paths, a.y, a.sensitive):
        assert truth[p] == (y, 1 if s == 0 else 2)  # class = gender (0 male), group 0 = glasses (code 1)
    draws = {tuple(image_indexes.mtfl_index(tmp_path, seed=s, per_group=3).paths) for s in range(6)}
    assert len(draws) > 1  # the sample depends on the seed
    ds = load_dataset("mtfl", data_dir=tmp_path, seed=0, per_group=2, weights="random",
                      cache_dir=tmp_path / "c", verbose=False)
    assert ds.X.shape == (4, 2048) and ds.kind == "face" and np.isfinite(ds.X).all()
    np.testing.assert_array_equal(np.bincount(ds.sensitive), [2, 2])


def test_mtfl_errors_name_the_line_or_file(tmp_path, capsys):
    with pytest.raises(DataFileError, match="training.txt.*mmlab"):
        image_indexes.mtfl_index(tmp_path)
    with pytest.raises(DataFileError):
        load_dataset("mtfl", data_dir=tmp_path, download=True)  # cannot be fetched: says where from
    assert "MTFL cannot be downloaded automatically; get it from http://mmlab" in capsys.readouterr().out
    write_mtfl(tmp_path)
    ann = tmp_path / "MTFL" / "training.txt"
    ann.write_text(ann.read_text() + "broken line 1 2\n")
    with pytest.raises(DataFileError, match="training.txt' line 5 is malformed.*gender smile glasses"):
        image_indexes.mtfl_index(tmp_path)
    write_mtfl(tmp_path)
    (tmp_path / "MTFL" / "lfw_5590" / "face_000.jpg").unlink()
    with pytest.raises(DataFileError, match="missing, e.g. .*face_000.jpg"):
        image_indexes.mtfl_index(tmp_path, per_group=10)


def test_office31_amazon_webcam_classes_and_limit_before_features(tmp_path):
    write_office31(tmp_path)
    ix = image_indexes.office31_index(tmp_path)
    assert ix.class_names == ["back_pack", "bike"] and ix.group_names == ["amazon", "webcam"]
    np.testing.assert_array_equal(ix.sensitive, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(ix.y, [0, 0, 1, 0, 1])
    ds = load_dataset("office31", data_dir=tmp_path, limit=1, seed=0, weights="random",
                      cache_dir=tmp_path / "c", verbose=False)
    assert ds.X.shape == (2, 2048) and np.bincount(ds.sensitive).tolist() == [1, 1]
    with pytest.raises(DataFileError, match="amazon/images/<class>/.*jpg.*gatech"):
        image_indexes.office31_index(tmp_path / "nowhere")


def test_datasets_command_prints_table1_from_the_data(tmp_path, capsys):
    write_mnist(tmp_path, n=20)
    write_usps_h5(tmp_path, n=5)
    write_office31(tmp_path)
    assert cli.main(["datasets", "--data-dir", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["dataset"]: r for r in out["datasets"]}
    assert rows["mnist-usps"]["n_samples"] == 25 and rows["mnist-usps"]["balance_max"] == pytest.approx(5 / 20)
    assert rows["reverse-mnist"]["balance_max"] == 1.0 and rows["reverse-mnist"]["n_samples"] == 40
    assert rows["office31"]["n_classes"] == 2 and rows["office31"]["dimension"].startswith("2,048")
    assert rows["digits-reverse"]["entropy_max"] == pytest.approx(np.log(10))
    assert rows["mnist-digits"]["balance_max"] == pytest.approx(1797 / 5000)
    assert rows["mnist-usps-mini"]["n_samples"] == 7007
    assert rows["mnist-usps-mini"]["groups"] == {"mnist": 5000, "usps": 2007}
    assert "mtfl" in out["not_found"] and "training.txt" in out["not_found"]["mtfl"]
    text = format_table(out["datasets"])  # what the command prints without --json
    assert "| mnist-usps | digital | 25 | 10 | 1,024 (1x32x32) | source of digit | mnist 20 / usps 5 | 0.2500 |" in text
    assert ("| mnist-usps-mini | digital | 7,007 | 10 | 1,024 (1x32x32) | source of digit | mnist 5,000 / usps 2,007 "
            "| 0.4014 | 2.303 |") in text


def test_fashion_mnist_reverse_reads_idx_files_and_inverts_them(tmp_path):
    """The harder image set: Fashion-MNIST's IDX files in --data-dir (or Debian's folder), padded to
    32 x 32, each image beside its inverted copy."""
    from fairclust.data import fashion

    rng = np.random.default_rng(0)
    imgs, labels = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), np.arange(6, dtype=np.uint8) % 3
    (tmp_path / "fashion-mnist").mkdir()
    write_idx(tmp_path / "fashion-mnist" / "train-images-idx3-ubyte.gz", imgs, gz=True)
    write_idx(tmp_path / "fashion-mnist" / "train-labels-idx1-ubyte.gz", labels, gz=True)
    ds = load_dataset("fashion-mnist-reverse", data_dir=tmp_path)
    assert ds.X.shape == (12, 1, 32, 32) and ds.group_names == ["original", "reversed"]
    orig, rev = ds.X[ds.sensitive == 0], ds.X[ds.sensitive == 1]
    np.testing.assert_allclose(orig[:, 0, 2:30, 2:30], imgs / 255.0, atol=1e-6)
    np.testing.assert_allclose(rev, 1.0 - orig, atol=1e-6)
    np.testing.assert_array_equal(ds.y[ds.sensitive == 0], labels)
    empty = tmp_path / "empty"
    empty.mkdir()
    if not fashion.DEBIAN_DIR.is_dir():  # with Debian's package installed the files are found there
        with pytest.raises(DataFileError, match="Fashion-MNIST's training files .* dataset-fashion-mnist"):
            load_dataset("fashion-mnist-reverse", data_dir=empty)
