import pytest
import torch

from ocrlab import config
from ocrlab.device import get_device


def test_sizes_switch_on_quick_mode(monkeypatch, capsys):
    monkeypatch.setenv("OCRLAB_QUICK", "1")
    assert config.sizes(full=dict(epochs=8), quick=dict(epochs=1)).epochs == 1
    assert "QUICK" in capsys.readouterr().out
    monkeypatch.setenv("OCRLAB_QUICK", "0")
    assert config.sizes(full=dict(epochs=8), quick=dict(epochs=1)).epochs == 8
    with pytest.raises(ValueError, match="same keys"):
        config.sizes(full=dict(epochs=8), quick=dict(n=1))


def test_progress_bars_are_off_under_test_and_can_be_forced(monkeypatch):
    monkeypatch.delenv("OCRLAB_PROGRESS", raising=False)
    assert config.progress_enabled() is False  # PYTEST_CURRENT_TEST is set
    monkeypatch.setenv("OCRLAB_PROGRESS", "1")
    assert config.progress_enabled() is True


def test_device_auto_env_override_and_errors(monkeypatch, capsys):
    monkeypatch.delenv("OCRLAB_DEVICE", raising=False)
    auto = get_device(verbose=True)
    assert "Device:" in capsys.readouterr().out
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert auto.type == expected
    monkeypatch.setenv("OCRLAB_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    monkeypatch.setenv("OCRLAB_DEVICE", "tpu")
    with pytest.raises(ValueError, match="OCRLAB_DEVICE"):
        get_device()
    monkeypatch.delenv("OCRLAB_DEVICE")
    with pytest.raises(ValueError, match="Unknown device 'gpu0'"):
        get_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available on this machine") as err:
            get_device("cuda")
        assert "OCRLAB_DEVICE" not in str(err.value) and "device='cpu'" in str(err.value)
        with pytest.raises(ValueError, match=r"from --device.*Use --device cpu") as err:
            get_device("cuda:1", argument="--device")
        monkeypatch.setenv("OCRLAB_DEVICE", "cuda")
        with pytest.raises(ValueError, match="Unset OCRLAB_DEVICE"):
            get_device()
        monkeypatch.delenv("OCRLAB_DEVICE")
    else:
        with pytest.raises(ValueError, match="does not exist"):
            get_device(f"cuda:{torch.cuda.device_count()}")
