"""Training speed of LeNet-5, one process, three ways, same model, batch size and optimizer (AdamW):

  (a) the textbook loop: torchvision ``datasets.FashionMNIST`` + ``ToTensor`` + ``Normalize`` + ``DataLoader``;
  (b) a bare hand-written loop on preloaded float tensors;
  (c) ``ocrlab.train.fit``.

Prints images/s of each, the ratios c/a and c/b, then trains the course's LeNet-5 recipe to its final test
accuracy and prints the training time. Usage::

    python benchmarks/train_speed.py [--data fashion-mnist|mnist] [--epochs 3] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ocrlab import data, models, train
from ocrlab.device import get_device
from ocrlab.recipes import recipe


def write_idx(folder: Path, images: torch.Tensor, labels: torch.Tensor, prefix: str) -> None:
    """Write uncompressed IDX files in the layout torchvision's MNIST-style datasets read."""
    n = len(labels)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(
        np.array([0x803, n, 28, 28], ">i4").tobytes() + images.numpy().tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
        np.array([0x801, n], ">i4").tobytes() + labels.to(torch.uint8).numpy().tobytes())


def textbook(splits: data.DataSplits, batch_size: int, lr: float, epochs: int, norm, device) -> list[float]:
    """(a) The DataLoader pipeline found in most tutorials: PIL image → ToTensor → Normalize, per sample."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    cls = datasets.MNIST if splits.name == "mnist" else datasets.FashionMNIST
    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / cls.__name__ / "raw"
        raw.mkdir(parents=True)
        write_idx(raw, *splits.train, "train")
        write_idx(raw, *splits.test, "t10k")
        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((norm[0],), (norm[1],))])
        dataset = cls(root, train=True, download=False, transform=tf)
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
        train.seed_everything(0)
        model = models.create("lenet5").to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
        rates = []
        for _ in range(epochs):
            start, n = time.perf_counter(), 0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                n += len(y)
            rates.append(n / (time.perf_counter() - start))
    return rates


def bare_loop(splits: data.DataSplits, batch_size: int, lr: float, epochs: int, norm, device) -> list[float]:
    """(b) A plain loop over preloaded, normalised float tensors: what a careful learner writes by hand."""
    x_all = ((splits.train[0].float() / 255 - norm[0]) / norm[1])[:, None].to(device)
    y_all = splits.train[1].to(device)
    train.seed_everything(0)
    model = models.create("lenet5").to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    rates = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(y_all), device=device)
        for i in range(0, len(y_all), batch_size):
            idx = perm[i:i + batch_size]
            loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(len(y_all) / (time.perf_counter() - start))
    return rates


def ocrlab_fit(splits: data.DataSplits, batch_size: int, lr: float, epochs: int, device) -> list[float]:
    """(c) ``ocrlab.train.fit`` with the same model, batch size and optimizer (no evaluation in the timing)."""
    train.seed_everything(0)
    model = models.create("lenet5")
    history = train.fit(model, splits.train, epochs=epochs, batch_size=batch_size, lr=lr, device=device,
                        optimizer="adamw", schedule=None, progress=False, verbose=False)
    return history.images_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "mnist"])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per method (the fastest, steady-state epoch is reported)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--skip-recipe", action="store_true", help="only measure images/s")
    args = parser.parse_args()

    device = get_device(args.device, verbose=True)
    splits = data.load(args.data)
    settings = recipe("lenet5")
    batch_size, lr = settings["batch_size"], settings["lr"]
    norm = train.normalization_stats(splits.train[0])
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    print(f"# {date.today()} · {cpu} · {os.cpu_count()} cores · torch {torch.__version__} · {device} · "
          f"{args.data} ({len(splits.train[1])} training images) · LeNet-5, batch {batch_size}, AdamW lr {lr:g}")

    results = {}
    for name, run in (("(a) textbook DataLoader", lambda: textbook(splits, batch_size, lr, args.epochs, norm, device)),
                      ("(b) bare loop, preloaded tensors", lambda: bare_loop(splits, batch_size, lr, args.epochs,
                                                                             norm, device)),
                      ("(c) ocrlab fit", lambda: ocrlab_fit(splits, batch_size, lr, args.epochs, device))):
        rates = run()
        results[name[:3]] = max(rates)  # best epoch: least disturbed by other work on the machine
        print(f"{name:<34} {results[name[:3]]:>9,.0f} images/s  (epochs: {', '.join(f'{r:,.0f}' for r in rates)})")
    print(f"c/a = {results['(c)'] / results['(a)']:.2f}   c/b = {results['(c)'] / results['(b)']:.2f}")

    if not args.skip_recipe:
        train.seed_everything(0)
        model = models.create("lenet5")
        start = time.perf_counter()
        history = train.fit(model, splits.train, splits.test, device=device, progress=False, verbose=False,
                            seed=0, **settings)
        wall = time.perf_counter() - start
        print(f"recipe {settings}: final test accuracy {history.final_test_acc:.2%} after "
              f"{history.train_seconds:.1f} s of training ({wall:.1f} s wall including {len(history.epoch)} "
              f"test evaluations)")


if __name__ == "__main__":
    main()
