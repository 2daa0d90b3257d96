"""Execute course notebooks and store their outputs, as committed: full mode unless --quick, no progress bars,
widget state stored (so explorers render before a kernel runs), no per-cell timing metadata.

    .venv/bin/python tools/run_notebooks.py notebooks/05_lenet5.ipynb [more.ipynb …] [--quick]

Prints each notebook's wall time (the figure RESULTS.md records). Stops at the first failing cell and leaves the
notebook file unchanged in that case.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
import nbformat.validator
from nbclient import NotebookClient


def run(path: Path, quick: bool, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    _, nb = nbformat.validator.normalize(nb)  # e.g. cell ids that hand-edited cells lack
    nb = nbformat.from_dict(nb)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    os.environ["OCRLAB_PROGRESS"] = "0"
    os.environ["OCRLAB_QUICK"] = "1" if quick else ""
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=True, record_timing=False)
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--quick", action="store_true", help="quick mode (OCRLAB_QUICK=1); default: full mode")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args()
    for path in args.notebooks:
        seconds = run(path, args.quick, args.timeout)
        print(f"{path.name}: {seconds:.0f} s ({'quick' if args.quick else 'full'} mode, {os.cpu_count()} CPUs)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
