"""Did a change to ``fit`` slow training down? Images per CPU-second of ``fit`` on LeNet-5 / Fashion-MNIST.

One thread and CPU time (not wall time), so the figure barely moves when other jobs share the machine; run it
for two checkouts alternately and compare. Usage::

    PYTHONPATH=/path/to/checkout python benchmarks/fit_overhead.py [--epochs 2] [--label new]
"""
from __future__ import annotations

import argparse
import time

import torch

from ocrlab import data, models, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    images, labels = data.load_fashion_mnist("train")
    train.seed_everything(0)
    model = models.LeNet5()
    start = time.process_time()
    history = train.fit(model, (images, labels), epochs=args.epochs, batch_size=256, lr=4e-3, device="cpu",
                        verbose=False, progress=False)
    cpu = time.process_time() - start
    print(f"{args.label}: {args.epochs * len(labels) / cpu:,.0f} images per CPU-second "
          f"(final train loss {history.train_loss[-1]:.4f})", flush=True)


if __name__ == "__main__":
    main()
