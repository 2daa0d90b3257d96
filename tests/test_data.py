"""Dataset loading: real files verified by checksum, clear errors for missing or corrupt ones."""
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from ocrlab import data

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HAVE_SHARED_MNIST_TEST = (SHARED / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file()
HAVE_DEBIAN_FASHION = (data.DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file()


def _idx_bytes(kind: str, n: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    if kind == "images":
        header = np.array([0x803, n, 28, 28], dtype=">i4").tobytes()
        return header + rng.integers(0, 256, n * 784, dtype=np.uint8).tobytes()
    return np.array([0x801, n], dtype=">i4").tobytes() + rng.integers(0, 10, n, dtype=np.uint8).tobytes()


def _write(folder: Path, name: str, raw: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(gzip.compress(raw))
    return path


def test_missing_dataset_offline_names_folder_files_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("OCRLAB_OFFLINE", "1")
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.load_mnist("train", root=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "OCRLAB_DATA" in message and "train-images-idx3-ubyte.gz" in message
    assert "OCRLAB_OFFLINE=1" in message and "no network" not in message  # offline by choice, not a dead network
    monkeypatch.delenv("OCRLAB_OFFLINE")
    monkeypatch.setattr(data, "_network_available", lambda timeout=2.0: False)
    data._load_cached.cache_clear()
    with pytest.raises(data.DatasetNotFoundError, match="no network connection"):
        data.load_mnist("train", root=tmp_path)


def test_env_variable_is_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("OCRLAB_DATA", str(tmp_path / "elsewhere"))
    assert data.search_roots() == [tmp_path / "elsewhere"]
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        data.load_kmnist("test")
    monkeypatch.delenv("OCRLAB_DATA")
    assert data.search_roots() == [data.PROJECT_DATA]
    assert data.search_roots(tmp_path) == [tmp_path]


def test_corrupt_file_fails_with_checksum_error_naming_it(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    _write(folder, "t10k-images-idx3-ubyte.gz", _idx_bytes("images", 10_000))  # right format, wrong data
    _write(folder, "t10k-labels-idx1-ubyte.gz", _idx_bytes("labels", 10_000))
    with pytest.raises(data.DatasetIntegrityError, match="checksum") as err:
        data.load_mnist("test", root=tmp_path)
    assert "t10k-images-idx3-ubyte.gz" in str(err.value)


def test_truncated_gzip_is_reported_as_corrupt(tmp_path):
    folder = tmp_path / "FashionMNIST" / "raw"
    good = gzip.compress(_idx_bytes("images", 10_000))
    folder.mkdir(parents=True)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(good[: len(good) // 2])
    _write(folder, "t10k-labels-idx1-ubyte.gz", _idx_bytes("labels", 10_000))
    with pytest.raises(data.DatasetIntegrityError, match=r"t10k-images-idx3-ubyte\.gz.*corrupt or truncated"):
        data.read_idx_gz(folder / "t10k-images-idx3-ubyte.gz", "images", 10_000, None, None)


def test_idx_header_and_length_are_checked_even_with_a_matching_checksum(tmp_path):
    path = _write(tmp_path, "x.gz", _idx_bytes("images", 5))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    with pytest.raises(data.DatasetIntegrityError, match="dims"):
        data.read_idx_gz(path, "images", 10_000, md5, None)
    short = _write(tmp_path, "y.gz", _idx_bytes("images", 10)[:-7])
    with pytest.raises(data.DatasetIntegrityError, match="truncated"):
        data.read_idx_gz(short, "images", 10, hashlib.md5(short.read_bytes()).hexdigest(), None)
    labels = _write(tmp_path, "z.gz", _idx_bytes("labels", 10))
    with pytest.raises(data.DatasetIntegrityError, match="magic"):
        data.read_idx_gz(labels, "images", 10, hashlib.md5(labels.read_bytes()).hexdigest(), None)


def test_a_recompressed_real_file_is_accepted_by_its_content_checksum(tmp_path):
    raw = _idx_bytes("labels", 10)
    path = _write(tmp_path, "labels.gz", raw)
    labels = data.read_idx_gz(path, "labels", 10, "0" * 32, hashlib.md5(raw).hexdigest())
    assert labels.dtype == torch.uint8 and labels.shape == (10,)


def test_download_is_used_when_files_are_missing(tmp_path, monkeypatch):
    def fake_download(spec, root):  # stands in for torchvision's download, writing what it would write
        folder = root / spec.folder / "raw"
        for (split, kind), name in data._FILES.items():
            _write(folder, name, _idx_bytes(kind, data._COUNTS[split]))
        return None

    monkeypatch.setattr(data, "_download", fake_download)
    # the fake files are not the real data, so they must then be rejected by the checksum
    with pytest.raises(data.DatasetIntegrityError, match="checksum"):
        data.load_kmnist("test", root=tmp_path)
    assert (tmp_path / "KMNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file()


def test_unknown_names_are_explained():
    with pytest.raises(ValueError, match="Unknown dataset 'cifar'"):
        data.load("cifar")
    with pytest.raises(ValueError, match="split"):
        data.load_dataset("mnist", "val")
    with pytest.raises(ValueError, match="synthetic"):
        data.load("synthetic-klingon")


@pytest.mark.skipif(not HAVE_SHARED_MNIST_TEST, reason="needs ../shared/data/MNIST (the real MNIST test set)")
def test_real_mnist_test_set_from_a_mirror_copy():
    images, labels = data.load_mnist("test", root=SHARED)
    assert images.shape == (10_000, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and torch.bincount(labels).tolist()[:3] == [980, 1135, 1032]
    assert abs(images.float().mean().item() / 255 - 0.1325) < 0.002  # MNIST's well-known mean


@pytest.mark.skipif(not HAVE_SHARED_MNIST_TEST, reason="needs ../shared/data/MNIST")
def test_mnist_train_images_missing_offline_and_digits_fall_back(capsys):
    with pytest.raises(data.DatasetNotFoundError, match="OCRLAB_DATA"):
        data.load_mnist("train", root=SHARED)
    images, labels, source = data.load_digits("test", root=SHARED, n_per_class=60)
    assert source == "synthetic-digits"  # train images are absent, so both splits are synthetic
    assert "SYNTHETIC" in capsys.readouterr().out
    assert images.shape == (100, 28, 28) and labels.max() == 9


@pytest.mark.skipif(not HAVE_DEBIAN_FASHION, reason="needs Debian's dataset-fashion-mnist package")
def test_fashion_mnist_from_debian_package(tmp_path):
    images, labels = data.load_fashion_mnist("train", root=tmp_path)  # found in /usr/share/datasets
    assert images.shape == (60_000, 28, 28) and torch.bincount(labels).tolist() == [6000] * 10
    splits = data.load("fashion-mnist", root=tmp_path)
    assert len(splits.classes) == 10 and splits.test[0].shape == (10_000, 28, 28)


def test_loaders_return_copies():
    a, _ = data.load("synthetic-digits", n_per_class=12).train
    b, _ = data.load("synthetic-digits", n_per_class=12).train
    a.zero_()
    assert b.sum() > 0
