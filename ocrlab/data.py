"""The course's datasets as tensors: MNIST, KMNIST and Fashion-MNIST, offline first, checksummed.

Each loader returns ``(images, labels)``: ``uint8 (N, 28, 28)`` and ``int64 (N,)``. Files are looked up in
torchvision's layout (``<root>/MNIST/raw/train-images-idx3-ubyte.gz``) under, in order: the ``root``
argument, else ``$OCRLAB_DATA``, else the project's ``data/`` folder; Fashion-MNIST is also found in Debian's
``dataset-fashion-mnist`` package. Missing files are downloaded through torchvision when the network allows.

Integrity: mirrors and Linux distributions recompress these files, so a file is accepted when its ``.gz`` md5
is the official one (torchvision's list) *or* its decompressed content has a known md5 (measured on the real
files), and in both cases its IDX header and length are right. Anything else is a clear error naming the file.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import socket
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

PROJECT_DATA = Path(__file__).resolve().parent.parent / "data"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

_FILES = {
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}
_COUNTS = {"train": 60_000, "test": 10_000}


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives and how to recognise its real files."""

    name: str  #: the name used on the command line
    folder: str  #: torchvision's folder name under the root
    torchvision_class: str  #: class in ``torchvision.datasets`` that knows the official URLs and .gz md5s
    classes: tuple[str, ...]
    content_md5: dict[str, str]  #: md5 of decompressed files, measured on real copies (mirrors recompress)
    system_dirs: tuple[Path, ...] = ()  #: flat folders a Linux package installs


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist", "MNIST", "MNIST", tuple("0123456789"),
        {  # from the mirror copies in shared/data (SOURCES.md)
            "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
            "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
        },
    ),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "FashionMNIST", "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        {  # from Debian's dataset-fashion-mnist package
            "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        system_dirs=(DEBIAN_FASHION_MNIST,),
    ),
    "kmnist": DatasetSpec(
        "kmnist", "KMNIST", "KMNIST",
        ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),  # お き す つ な は ま や れ を
        {},
    ),
}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is not on disk and could not be downloaded."""


class DatasetIntegrityError(ValueError):
    """A dataset file is corrupt, truncated or not the real data (checksum or IDX header mismatch)."""


def search_roots(root: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched, in order: ``root`` if given, else ``$OCRLAB_DATA``, else the project's ``data/``."""
    if root is not None:
        return [Path(root).expanduser()]
    if os.environ.get("OCRLAB_DATA", "").strip():
        return [Path(os.environ["OCRLAB_DATA"]).expanduser()]
    return [PROJECT_DATA]


def _official_gz_md5(spec: DatasetSpec) -> dict[str, str]:
    """The official .gz md5s, read from torchvision (the single source of truth)."""
    import torchvision.datasets

    return dict(getattr(torchvision.datasets, spec.torchvision_class).resources)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _decode_idx(path: Path, raw: bytes, kind: str, count: int) -> torch.Tensor:
    """Check an IDX header (magic, dimensions, length) and return the payload as a tensor."""
    magic, ndim = (0x00000803, 3) if kind == "images" else (0x00000801, 1)
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise DatasetIntegrityError(f"{path}: only {len(raw)} bytes, too short for an IDX header. Delete it and reload.")
    fields = np.frombuffer(raw[:header], dtype=">i4")
    expected_dims = [count, 28, 28] if kind == "images" else [count]
    if fields[0] != magic or list(fields[1:]) != expected_dims:
        raise DatasetIntegrityError(
            f"{path}: IDX header says magic={fields[0]:#010x}, dims={list(fields[1:])}; expected "
            f"magic={magic:#010x}, dims={expected_dims}. The file is not the expected {kind} file."
        )
    expected_len = header + int(np.prod(expected_dims))
    if len(raw) != expected_len:
        raise DatasetIntegrityError(
            f"{path}: {len(raw)} bytes after decompression, expected {expected_len} (truncated or padded). "
            "Delete it and load again to re-download."
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(expected_dims)
    return torch.from_numpy(array.copy())


def read_idx_gz(path: Path, kind: str, count: int, official_md5: str | None, content_md5: str | None) -> torch.Tensor:
    """Read and verify one ``.gz`` IDX file; raise ``DatasetIntegrityError`` (naming the file) if it is not right."""
    blob = path.read_bytes()
    gz_md5 = _md5(blob)
    try:
        raw = gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as err:
        raise DatasetIntegrityError(
            f"{path}: not a valid gzip file ({err}); it is corrupt or truncated (md5 checksum {gz_md5}). "
            "Delete it and load again to re-download, or replace it with a good copy."
        ) from err
    if gz_md5 != official_md5:
        if content_md5 is None or _md5(raw) != content_md5:
            known = ", ".join(f"{k} {v}" for k, v in (("official .gz md5", official_md5),
                                                      ("decompressed md5", content_md5)) if v)
            raise DatasetIntegrityError(
                f"{path}: checksum mismatch: .gz md5 {gz_md5}, decompressed md5 {_md5(raw)}; known good: {known}. "
                "The file is corrupt or not the real data: delete it and load again to re-download."
            )
    return _decode_idx(path, raw, kind, count)


def _candidates(spec: DatasetSpec, roots: list[Path]) -> list[Path]:
    folders = [r / spec.folder / "raw" for r in roots]
    return folders + [d for d in spec.system_dirs if d not in folders]


def _offline_mode() -> bool:
    return os.environ.get("OCRLAB_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


def _network_available(timeout: float = 2.0) -> bool:
    """Cheap check before a download attempt, so an offline machine fails fast instead of hanging."""
    try:
        socket.create_connection(("ossci-datasets.s3.amazonaws.com", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _download(spec: DatasetSpec, root: Path) -> str | None:
    """Download through torchvision into ``root``; return None on success or why it failed."""
    if _offline_mode():
        return "downloads are off: OCRLAB_OFFLINE=1"
    if not _network_available():
        return "no network connection"
    try:
        import torchvision.datasets

        root.mkdir(parents=True, exist_ok=True)
        cls = getattr(torchvision.datasets, spec.torchvision_class)
        for train in (True, False):
            cls(str(root), train=train, download=True)
        return None
    except Exception as err:  # network errors come in many types; report the reason, don't crash here
        return f"{type(err).__name__}: {err}"


def _missing_message(spec: DatasetSpec, split: str, folders: list[Path], reason: str | None) -> str:
    files = ", ".join(_FILES[(split, k)] for k in ("images", "labels"))
    lines = [
        f"The {spec.name} {split} set was not found. Searched: {', '.join(str(f) for f in folders)}.",
        f"Expected files: {files} (torchvision's layout: <root>/{spec.folder}/raw/).",
    ]
    if reason:
        lines.append(f"Not downloaded ({reason}).")
    lines.append(
        "To fix: connect to the internet and load again (it downloads automatically), or copy the files into "
        f"<root>/{spec.folder}/raw/ and set OCRLAB_DATA=<root> (or pass root=...)."
    )
    if spec.name == "fashion-mnist":
        lines.append("Offline on Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` installs the full set.")
    if spec.name == "mnist":
        lines.append("Or use synthetic printed digits: ocrlab.data.load_digits() falls back to them automatically.")
    return "\n".join(lines)


def locate(name: str, split: str = "train", root: str | os.PathLike | None = None) -> Path | None:
    """The folder holding a dataset split's two files (not yet verified), or None when it is not on disk."""
    spec = DATASETS[_canonical(name)]
    return _find(spec, split, _candidates(spec, [p.resolve() for p in search_roots(root)]))


def _find(spec: DatasetSpec, split: str, folders: list[Path]) -> Path | None:
    for folder in folders:
        if all((folder / _FILES[(split, kind)]).is_file() for kind in ("images", "labels")):
            return folder
    return None


@lru_cache(maxsize=16)
def _load_cached(name: str, split: str, roots: tuple[Path, ...], download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    spec = DATASETS[name]
    folders = _candidates(spec, list(roots))
    folder = _find(spec, split, folders)
    if folder is None and download:
        reason = _download(spec, roots[0])
        folder = _find(spec, split, folders)
        if folder is None:
            raise DatasetNotFoundError(_missing_message(spec, split, folders, reason))
    elif folder is None:
        raise DatasetNotFoundError(_missing_message(spec, split, folders, "downloads were not asked for: download=False"))
    official = _official_gz_md5(spec)
    out = []
    for kind in ("images", "labels"):
        fname = _FILES[(split, kind)]
        out.append(read_idx_gz(folder / fname, kind, _COUNTS[split], official.get(fname), spec.content_md5.get(fname)))
    images, labels = out
    return images, labels.long()


def load_dataset(
    name: str, split: str = "train", root: str | os.PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load one split of a named dataset (``mnist``, ``kmnist``, ``fashion-mnist``) as ``(images, labels)``."""
    key = _canonical(name)
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    if split not in _COUNTS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    roots = tuple(p.resolve() for p in search_roots(root))
    images, labels = _load_cached(key, split, roots, download)
    return images.clone(), labels.clone()  # callers may modify their copy; the cache stays intact


def load_mnist(split: str = "train", root: str | os.PathLike | None = None, download: bool = True):
    """MNIST handwritten digits (LeCun et al.): ``uint8 (N, 28, 28)`` images, ``int64`` labels 0–9."""
    return load_dataset("mnist", split, root, download)


def load_kmnist(split: str = "train", root: str | os.PathLike | None = None, download: bool = True):
    """Kuzushiji-MNIST (Clanuwat et al. 2018): ten cursive hiragana from historical Japanese books."""
    return load_dataset("kmnist", split, root, download)


def load_fashion_mnist(split: str = "train", root: str | os.PathLike | None = None, download: bool = True):
    """Fashion-MNIST (Xiao et al. 2017): ten clothing classes; complete and real offline via Debian's package."""
    return load_dataset("fashion-mnist", split, root, download)


@dataclass
class DataSplits:
    """Train and test tensors of one dataset, with its class names and where it came from."""

    name: str
    classes: tuple[str, ...]
    train: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "DataSplits":
        """The first ``n_train``/``n_test`` examples (data are stored shuffled, so classes stay mixed)."""
        cut = lambda pair, n: pair if n is None else (pair[0][:n], pair[1][:n])  # noqa: E731
        return DataSplits(self.name, self.classes, cut(self.train, n_train), cut(self.test, n_test))

    def __repr__(self) -> str:
        return (f"DataSplits({self.name!r}: {len(self.train[1])} train / {len(self.test[1])} test images "
                f"{tuple(self.train[0].shape[1:])}, {len(self.classes)} classes)")


def _canonical(name: str) -> str:
    key = name.lower().replace("_", "-")
    return {"fashionmnist": "fashion-mnist", "fashion": "fashion-mnist"}.get(key, key)


def load(name: str, root: str | os.PathLike | None = None, download: bool = True,
         n_per_class: int | None = None, seed: int = 0) -> DataSplits:
    """Both splits of a dataset by name: ``mnist``, ``kmnist``, ``fashion-mnist``, ``digits`` (MNIST, else
    synthetic), or ``synthetic-digits`` / ``synthetic-letters`` (52 classes) / ``synthetic-alphanumeric``.

    Synthetic sets split by font (held-out fonts in test); ``n_per_class`` sizes them (default MNIST-sized:
    6,000 train and 1,000 test images per class).
    """
    from . import synth

    key = _canonical(name)
    if key == "digits":
        key = digits_source(root, download)
    if key.startswith("synthetic-"):
        charset = key.removeprefix("synthetic-")
        if charset not in synth.CHARSETS:
            raise ValueError(f"Unknown synthetic set {name!r}; choose synthetic-{{{', '.join(synth.CHARSETS)}}}.")
        chars = synth.CHARSETS[charset]
        n_test = None if n_per_class is None else max(1, n_per_class // 6)
        return DataSplits(key, tuple(chars), synth.load_synthetic("train", chars, n_per_class, seed),
                          synth.load_synthetic("test", chars, n_test, seed))
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}, digits, "
                         "synthetic-digits, synthetic-letters, synthetic-alphanumeric.")
    return DataSplits(key, DATASETS[key].classes, load_dataset(key, "train", root, download),
                      load_dataset(key, "test", root, download))


def digits_source(root: str | os.PathLike | None = None, download: bool = True) -> str:
    """``"mnist"`` when both MNIST splits load (from disk or by download), else ``"synthetic-digits"``.

    Both splits come from the same source, so a model is never trained on one and tested on the other.
    """
    try:
        load_dataset("mnist", "train", root, download)
        load_dataset("mnist", "test", root, download)
        return "mnist"
    except DatasetNotFoundError:
        return "synthetic-digits"


def load_digits(split: str = "train", root: str | os.PathLike | None = None, download: bool = True,
                n_per_class: int | None = None, seed: int = 0,
                verbose: bool = True) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Digits for notebooks: real MNIST when both splits are available, else synthetic printed digits.

    Returns ``(images, labels, source)`` with ``source`` ``"mnist"`` or ``"synthetic-digits"``, and says
    visibly which one it uses, so an offline notebook never crashes and never pretends.
    """
    from . import synth

    source = digits_source(root, download)
    if source == "mnist":
        images, labels = load_dataset("mnist", split, root, download)
        if verbose:
            print(f"Digits: real MNIST, {split} split ({len(labels)} images).")
    else:
        if split not in _COUNTS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        n = n_per_class if n_per_class is None or split == "train" else max(1, n_per_class // 6)
        images, labels = synth.load_synthetic(split, synth.DIGITS, n, seed)
        if verbose:
            fonts = synth.TRAIN_FONTS if split == "train" else synth.TEST_FONTS
            print(f"⚠ MNIST is not fully available here (both splits are needed; `python -m ocrlab datasets` shows "
                  f"what is on disk) → using "
                  f"SYNTHETIC printed digits, {split} split: {len(labels)} images in {len(fonts)} "
                  f"{'training' if split == 'train' else 'held-out'} fonts. Online, MNIST downloads itself.")
    return images, labels, source


__all__ = [
    "DATASETS", "DataSplits", "DatasetNotFoundError", "DatasetIntegrityError", "search_roots", "load_dataset",
    "load_mnist", "load_kmnist", "load_fashion_mnist", "load", "load_digits", "digits_source", "read_idx_gz",
]
