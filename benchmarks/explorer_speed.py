"""How long one update of the feature-map explorer takes on the CPU (target: under 200 ms).

One update = a new input image: forward pass with hooks on every conv / activation / pool layer, colour limits,
rendering the input, the layer's maps and its kernels to PNG, probabilities and statistics as HTML.
Usage: ``python benchmarks/explorer_speed.py [repeats]`` (median of ``repeats`` updates, default 20).
"""
from __future__ import annotations

import statistics
import sys
import time

import torch

from ocrlab import models, synth
from ocrlab.widgets import FeatureMapExplorer


def median_update_ms(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, layer: str | None,
                     repeats: int) -> tuple[float, float]:
    """Median and max time (ms) of ``repeats`` input changes, plus of layer/scale-only redraws."""
    explorer = FeatureMapExplorer(model, images, labels)
    if layer is not None:
        explorer.layer.value = layer
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        explorer.index.value = (i + 1) % len(images)
        assert explorer.image.value  # rendered
        times.append(1000 * (time.perf_counter() - start))
    redraws = []
    for i in range(repeats):
        start = time.perf_counter()
        explorer.scale.value = ("per map", "per layer", "global")[i % 3]
        redraws.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), statistics.median(redraws)


def main(repeats: int = 20) -> None:
    torch.manual_seed(0)
    images, labels = synth.load_synthetic("test", n_per_class=5, seed=0)
    cases = {"LeNet-5": (models.LeNet5(), "features.C3"),
             "resnet20 (width 16)": (models.resnet20(), "stages.0.0.conv1")}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {repeats} updates")
    for name, (model, layer) in cases.items():
        model.input_normalization = (0.13, 0.31)
        update, redraw = median_update_ms(model, images, labels, layer, repeats)
        print(f"{name:20s} new input: {update:6.1f} ms   layer/colour-scale redraw: {redraw:6.1f} ms   "
              f"{'OK' if update < 200 else 'SLOW'} (< 200 ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
