"""Shared fixtures: tests never touch the network (OCRLAB_OFFLINE=1) and run on the CPU."""
import os

import pytest
import torch

os.environ.setdefault("OCRLAB_OFFLINE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def tiny_digits():
    """A small synthetic digit set (font split), quick to train on."""
    from ocrlab import synth

    train = synth.load_synthetic("train", n_per_class=60, seed=0)
    test = synth.load_synthetic("test", n_per_class=20, seed=0)
    return train, test
