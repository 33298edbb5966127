"""ResNet-50 features of image files (random weights, no network), their cache, and image folders + CSV."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from datafiles import write_jpeg

from fairclust import cli
from fairclust.data import features, load_dataset
from fairclust.errors import DataFileError


@pytest.fixture
def images(tmp_path):
    return [write_jpeg(tmp_path / "img" / f"{i}.jpg", seed=i, size=(48 + 8 * i, 36)) for i in range(3)]


def test_resnet50_features_are_the_pooled_2048d_of_the_preprocessed_images_in_order(images, tmp_path):
    X = features.resnet50_features(images, weights="random", cache_dir=False, batch_size=2, verbose=False)
    assert X.shape == (3, 2048) and X.dtype == np.float32
    assert (X >= 0).all() and np.linalg.norm(X[0] - X[1]) > 0  # post-ReLU average pool, images differ
    model, ident = features.load_resnet50("random")
    x = features.preprocess(images[2])
    assert x.shape == (3, 224, 224)  # shorter side to 256, centre crop 224
    assert abs(float(x.mean())) < 2.5  # normalised with ImageNet's mean / std
    with torch.inference_mode():
        np.testing.assert_allclose(X[2], model(x[None])[0].numpy(), rtol=1e-4, atol=1e-5)
    reversed_ = features.resnet50_features(images[::-1], weights="random", cache_dir=False, verbose=False)
    np.testing.assert_allclose(reversed_[::-1], X, rtol=1e-4, atol=1e-5)  # batching never mixes images


def test_feature_cache_is_reused_and_keyed_by_the_file_list(images, tmp_path, monkeypatch):
    first = features.resnet50_features(images, weights="random", cache_dir=tmp_path / "c", verbose=False)
    assert len(list((tmp_path / "c" / "resnet50-features").glob("*.pt"))) == 1

    def no_model(*a, **k):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(features, "load_resnet50", no_model)
    np.testing.assert_array_equal(features.resnet50_features(images, weights="random", cache_dir=tmp_path / "c",
                                                             verbose=False), first)
    st = os.stat(images[0])
    os.utime(images[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a changed file is a new key
    with pytest.raises(AssertionError, match="cache should have answered"):
        features.resnet50_features(images, weights="random", cache_dir=tmp_path / "c", verbose=False)


def test_weights_are_never_downloaded_without_the_flag(images, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(DataFileError, match="resnet50-0676ba61.pth not found in torchvision's cache.*--download.*"
                                            "--weights PATH"):
        features.resnet50_features(images, cache_dir=False, verbose=False)
    assert not (tmp_path / "hub").exists()
    state = features.load_resnet50("random")[0].state_dict()
    torch.save({k: v for k, v in state.items()}, tmp_path / "w.pth")  # headless: the classifier is not needed
    X = features.resnet50_features(images[:1], weights=tmp_path / "w.pth", cache_dir=False, verbose=False)
    Y = features.resnet50_features(images[:1], weights="random", cache_dir=False, verbose=False)
    np.testing.assert_allclose(X, Y, rtol=1e-4, atol=1e-5)  # an offline --weights file is what gets used
    torch.save({"conv1.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(DataFileError, match="other.pth' is not a torchvision resnet50 state dict"):
        features.load_resnet50(str(tmp_path / "other.pth"))
    (tmp_path / "bad.pth").write_bytes(b"garbage")
    with pytest.raises(DataFileError, match="bad.pth' is not a torchvision resnet50 state dict"):
        features.load_resnet50(str(tmp_path / "bad.pth"))


def test_csv_image_folder_as_images_for_the_conv_encoder(tmp_path):
    rows = ["path,group,label"]
    for i in range(6):
        write_jpeg(tmp_path / "faces" / f"{i}.png", seed=i, size=(20, 12), mode="L")
        rows.append(f"faces/{i}.png,{'young' if i % 3 else 'old'},{i % 2}")
    (tmp_path / "set.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(tmp_path / "set.csv", image_size=16)
    assert ds.X.shape == (6, 1, 16, 16) and ds.X.min() >= 0 and ds.X.max() <= 1 and ds.kind == "image"
    assert ds.group_names == ["old", "young"] and ds.sensitive.tolist() == [0, 1, 1, 0, 1, 1]
    assert ds.y.tolist() == [0, 1, 0, 1, 0, 1]
    lim = load_dataset(str(tmp_path / "set.csv"), image_size=16, limit=2, seed=1)
    assert np.bincount(lim.sensitive).tolist() == [2, 2]
    write_jpeg(tmp_path / "faces" / "rgb.jpg", seed=9)
    (tmp_path / "rgb.csv").write_text("faces/rgb.jpg,1\nfaces/0.png,2\n")  # no header, no labels, one RGB
    rgb = load_dataset(tmp_path / "rgb.csv", image_size=8)
    assert rgb.X.shape == (2, 3, 8, 8) and rgb.y is None


def test_csv_image_folder_as_resnet50_features_through_the_cli(tmp_path):
    for i in range(4):
        write_jpeg(tmp_path / "im" / f"{i}.jpg", seed=i)
    (tmp_path / "set.csv").write_text("".join(f"im/{i}.jpg,{i % 2}\n" for i in range(4)))
    ds = load_dataset(tmp_path / "set.csv", weights="random", cache_dir=tmp_path / "c", verbose=False)
    assert ds.X.shape == (4, 2048) and ds.kind == "features"
    rc = cli.main(["run", "--dataset", str(tmp_path / "set.csv"), "--weights", "random", "--method", "kmeans",
                   "--n-clusters", "2", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"),
                   "--quiet"])
    assert rc == 0
    rec = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert rec["n_samples"] == 4 and rec["dataset"] == "set" and rec["balance_max"] == 1.0


@pytest.mark.parametrize("content, match", [
    ("im/0.jpg,a\nim/missing.jpg,b\n", "1 image.s. listed in .*do not exist, e.g. .*missing.jpg"),
    ("im/0.jpg,a,1,extra\n", "row 1 has 4 fields.*path,group\\[,label\\]"),
    ("path,group\n", "has no rows"),
    ("im/bad.jpg,a\nim/0.jpg,b\n", "bad.jpg' cannot be read"),
])
def test_csv_errors_name_the_file_and_the_format(tmp_path, content, match):
    write_jpeg(tmp_path / "im" / "0.jpg", seed=0)
    (tmp_path / "im" / "bad.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "x.csv").write_text(content)
    with pytest.raises(DataFileError, match=match):
        load_dataset(tmp_path / "x.csv", image_size=8)
    assert cli.main(["run", "--dataset", str(tmp_path / "x.csv"), "--image-size", "8", "--n-clusters", "2",
                     "--out", str(tmp_path / "o")]) == 2
