"""Command line: ``python -m ocrlab train MODEL --data DATASET [--epochs N]`` and ``python -m ocrlab datasets``.

Training prints the device, one line per epoch, and, as its last line, the final test accuracy.
"""
from __future__ import annotations

import argparse
import sys
import time

from . import data, models
from .config import quick_mode
from .recipes import recipe

DATA_CHOICES = ("mnist", "kmnist", "fashion-mnist", "digits", "synthetic-digits", "synthetic-letters",
                "synthetic-alphanumeric")


def _train(args: argparse.Namespace) -> int:
    from . import train  # imported here so `--help` stays instant
    from .device import get_device

    get_device(args.device)  # a bad device name fails now, not after loading the data
    n_per_class = args.n_per_class or (600 if quick_mode() else None)
    splits = data.load(args.data, root=args.root, n_per_class=n_per_class)
    if quick_mode():
        splits = splits.subset(6000, 2000)
        print("QUICK mode (OCRLAB_QUICK=1): 6,000 training and 2,000 test images.")
    print(f"Data: {splits}")
    train.seed_everything(args.seed)  # the initial weights too: the same command gives the same result
    model = models.create(args.model, num_classes=len(splits.classes), in_channels=1)
    settings = recipe(args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    if quick_mode() and args.epochs is None:
        settings["epochs"] = min(settings["epochs"], 2)
    start = time.perf_counter()
    history = train.fit(model, splits.train, splits.test, device=args.device, seed=args.seed,
                        compile=args.compile, **settings)
    wall = time.perf_counter() - start
    if args.save:
        train.save_checkpoint(model, args.save, model=args.model, data=splits.name, classes=list(splits.classes))
        print(f"Saved weights to {args.save}")
    status = " (interrupted)" if history.interrupted else ""
    print(f"{args.model} on {splits.name}: {len(history.epoch)} epochs{status}, {history.train_seconds:.1f} s "
          f"training, {wall:.1f} s wall, test accuracy {history.final_test_acc:.2%}")
    return 0


def _datasets(args: argparse.Namespace) -> int:
    print("Searched: " + ", ".join(str(p) for p in data.search_roots(args.root)) + " (root argument / OCRLAB_DATA / data/)")
    for name in data.DATASETS:
        for split in ("train", "test"):
            try:
                images, _ = data.load_dataset(name, split, args.root, download=False)
                state = f"ok, {len(images)} images"
            except (data.DatasetNotFoundError, data.DatasetIntegrityError) as err:
                state = "missing" if isinstance(err, data.DatasetNotFoundError) else f"BAD: {str(err).splitlines()[0]}"
            print(f"  {name:<14} {split:<5} {state}")
    print("  synthetic-*   always available (rendered from matplotlib's fonts)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocrlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model and print its test accuracy")
    t.add_argument("model", choices=sorted(models.REGISTRY), metavar="MODEL",
                   help=f"one of: {', '.join(sorted(models.REGISTRY))}")
    t.add_argument("--data", default="digits", choices=DATA_CHOICES,
                   help="dataset (digits = MNIST if available, else synthetic printed digits)")
    t.add_argument("--epochs", type=int, help="number of epochs (default: the model's recipe)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--device", help="cpu, cuda, cuda:1 or mps (default: OCRLAB_DEVICE, else the best available)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--root", help="dataset folder (default: OCRLAB_DATA, else the project's data/)")
    t.add_argument("--n-per-class", type=int, help="synthetic sets only: training images per class")
    t.add_argument("--compile", action="store_true", help="use torch.compile")
    t.add_argument("--save", help="save the trained weights (a state dict) to this path")
    t.set_defaults(run=_train)
    d = sub.add_parser("datasets", help="show which datasets are on disk and verified")
    d.add_argument("--root")
    d.set_defaults(run=_datasets)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, data.DatasetNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
