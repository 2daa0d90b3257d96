"""Command line: python -m ocrlab train MODEL --data DATASET [--epochs N] [--save X.pt | --resume X.pt], and
python -m ocrlab datasets.

Training prints the device, one line per epoch, and, as its last line, the final test accuracy. With --save the
checkpoint is written at the end of every epoch, so an interrupted run (Ctrl-C) continues with --resume.
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

#: Python-speak in library messages → the flag a command-line user types instead
_FLAG_HINTS = {"(or pass root=...)": "(or use --root DIR)", "download=False": "--no-download"}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return value


def _train(args: argparse.Namespace) -> int:
    from . import train  # imported here so `--help` stays instant
    from .callbacks import SaveEveryEpoch
    from .checkpoints import read_checkpoint
    from .device import get_device

    get_device(args.device, argument="--device")  # a bad device name fails now, not after loading the data
    checkpoint = read_checkpoint(args.resume) if args.resume else None
    if checkpoint is not None and checkpoint.get("metadata", {}).get("architecture") not in (None, args.model):
        raise ValueError(f"{args.resume} holds a {checkpoint['metadata']['architecture']} model, not {args.model}: "
                         f"resume with `train {checkpoint['metadata']['architecture']} --resume {args.resume}`.")
    n_per_class = args.n_per_class or (600 if quick_mode() else None)
    splits = data.load(args.data, root=args.root, n_per_class=n_per_class, download=not args.no_download)
    if quick_mode():
        splits = splits.subset(6000, 2000)
        print("QUICK mode (OCRLAB_QUICK=1): 6,000 training and 2,000 test images.")
    print(f"Data: {splits}")
    train.seed_everything(args.seed)  # the initial weights too: the same command gives the same result
    model = models.create(args.model, num_classes=len(splits.classes), in_channels=1)
    settings = recipe(args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    if quick_mode() and args.epochs is None:
        settings["epochs"] = min(settings.get("epochs", 10), 2)
    save = args.save or args.resume
    callbacks = [SaveEveryEpoch(save, architecture=args.model, data=splits.name, classes=list(splits.classes))] \
        if save else []
    start = time.perf_counter()
    history = train.fit(model, splits.train, splits.test, device=args.device, seed=args.seed, compile=args.compile,
                        callbacks=callbacks, resume=checkpoint, **settings)
    wall = time.perf_counter() - start
    if save:
        print(f"Checkpoint: {save} (after epoch {len(history.epoch)})")
    if history.interrupted:
        print(f"{args.model} on {splits.name}: interrupted after {len(history.epoch)} complete epoch(s)."
              + (f" Continue with: python -m ocrlab train {args.model} --data {args.data} --resume {save}"
                 if save else " Use --save X.pt to be able to resume."))
        return 130
    print(f"{args.model} on {splits.name}: {len(history.epoch)} epochs, {history.train_seconds:.1f} s "
          f"training, {wall:.1f} s wall, test accuracy {history.final_test_acc:.2%}")
    return 0


def _datasets(args: argparse.Namespace) -> int:
    print("Searched: " + ", ".join(str(p) for p in data.search_roots(args.root)) +
          " (--root / OCRLAB_DATA / the project's data/), then system folders")
    for name in data.DATASETS:
        for split in ("train", "test"):
            folder = data.locate(name, split, args.root)
            try:
                images, _ = data.load_dataset(name, split, args.root, download=False)
                state = f"ok, {len(images):,} images in {folder}"
            except (data.DatasetNotFoundError, data.DatasetIntegrityError) as err:
                state = "missing" if isinstance(err, data.DatasetNotFoundError) else f"BAD: {str(err).splitlines()[0]}"
            print(f"  {name:<14} {split:<5} {state}")
    print("  synthetic-*   always available (rendered from matplotlib's fonts)")
    return 0


def _in_flags(message: str) -> str:
    for python, flag in _FLAG_HINTS.items():
        message = message.replace(python, flag)
    return message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocrlab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model and print its test accuracy")
    t.add_argument("model", choices=sorted(models.REGISTRY), metavar="MODEL",
                   help=f"one of: {', '.join(sorted(models.REGISTRY))}")
    t.add_argument("--data", default="digits", choices=DATA_CHOICES,
                   help="dataset (digits = MNIST if available, else synthetic printed digits)")
    t.add_argument("--epochs", type=_positive_int, help="epochs of the whole run (default: the model's recipe)")
    t.add_argument("--batch-size", type=_positive_int)
    t.add_argument("--lr", type=_positive_float)
    t.add_argument("--device", help="cpu, cuda, cuda:1 or mps (default: OCRLAB_DEVICE, else the best available)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--root", help="dataset folder (default: OCRLAB_DATA, else the project's data/)")
    t.add_argument("--no-download", action="store_true", help="never download a missing dataset")
    t.add_argument("--n-per-class", type=_positive_int, help="synthetic sets only: training images per class")
    t.add_argument("--compile", action="store_true", help="use torch.compile")
    t.add_argument("--save", metavar="X.pt", help="write a resumable checkpoint here after every epoch")
    t.add_argument("--resume", metavar="X.pt", help="continue the run saved in X.pt (and keep saving there)")
    t.set_defaults(run=_train)
    d = sub.add_parser("datasets", help="show which datasets are on disk, verified, and where")
    d.add_argument("--root", help="dataset folder to search first")
    d.set_defaults(run=_datasets)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, data.DatasetNotFoundError) as err:
        print(f"error: {_in_flags(str(err))}", file=sys.stderr)
        return 2
