"""The trainer: learns, is reproducible, explains divergence, survives interrupts, checkpoints safely."""
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

from ocrlab import augment, models, train


def _model():
    train.seed_everything(0)
    return models.create("lenet5")


def test_fit_learns_synthetic_digits_and_reports_history(tiny_digits):
    (xtr, ytr), test = tiny_digits
    model = _model()
    history = train.fit(model, (xtr, ytr), test, epochs=4, batch_size=64, lr=4e-3, verbose=False)
    assert history.epoch == [1, 2, 3, 4] and len(history.test_acc) == 4
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.final_test_acc > 0.6  # 600 images, held-out fonts, 4 epochs: far above chance (0.1)
    assert all(s > 0 for s in history.seconds) and all(r > 0 for r in history.images_per_s)
    assert model.input_normalization[1] > 0 and not model.training


def test_seeded_cpu_run_gives_identical_history_twice(tiny_digits):
    train_data, test = tiny_digits
    runs = []
    for _ in range(2):
        model = _model()
        h = train.fit(model, train_data, test, epochs=2, batch_size=50, device="cpu", seed=3, verbose=False,
                      augment=augment.RandomAffine())
        runs.append((h.train_loss, h.train_acc, h.test_loss, h.test_acc, model.state_dict()))
    assert runs[0][:4] == runs[1][:4]
    for key, value in runs[0][4].items():
        assert torch.equal(value, runs[1][4][key]), key


def test_nan_loss_stops_with_an_explanation(tiny_digits):
    (xtr, ytr), _ = tiny_digits
    bad = xtr.float() / 255
    bad[5, 3, 3] = float("nan")
    with pytest.raises(train.TrainingDivergedError, match="learning rate") as err:
        train.fit(_model(), (bad, ytr), epochs=1, batch_size=len(ytr), verbose=False)
    assert err.value.history.epoch == []


def test_interrupt_keeps_model_and_returns_history_so_far(tiny_digits, capsys):
    train_data, test = tiny_digits
    calls = {"n": 0}

    def interrupt_in_epoch_two(x, generator):
        calls["n"] += 1
        if calls["n"] == 12:  # 600 images / 64 = 10 batches per epoch: this is inside epoch 2
            raise KeyboardInterrupt
        return x

    model = _model()
    history = train.fit(model, train_data, test, epochs=5, batch_size=64, augment=interrupt_in_epoch_two,
                        verbose=False)
    assert history.interrupted and history.epoch == [1]
    assert "Interrupted" in capsys.readouterr().out
    assert train.evaluate(model, test).accuracy > 0.1  # the model is usable


def test_bad_inputs_are_explained(tiny_digits):
    (xtr, ytr), _ = tiny_digits
    with pytest.raises(ValueError, match="600 images but 599 labels"):
        train.fit(_model(), (xtr, ytr[:-1]), epochs=1)
    with pytest.raises(ValueError, match=r"shape \(N, H, W\) or \(N, C, H, W\)"):
        train.fit(_model(), (xtr.flatten(1), ytr), epochs=1)
    with pytest.raises(ValueError, match="integer class indices"):
        train.fit(_model(), (xtr, ytr.float()), epochs=1)
    with pytest.raises(ValueError, match="lr > 0"):
        train.fit(_model(), (xtr, ytr), epochs=1, lr=0)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        train.fit(_model(), (xtr, ytr), epochs=1, optimizer="adagrad", verbose=False)
    with pytest.raises(ValueError, match="Unknown device"):
        train.fit(_model(), (xtr, ytr), epochs=1, device="gpu0")
    with pytest.raises(ValueError, match="outputs 10 classes"):
        train.evaluate(_model(), (xtr, ytr + 10))


def test_evaluate_predict_and_confusion_matrix(tiny_digits):
    _, (xte, yte) = tiny_digits
    model = _model()
    model.input_normalization = (0.1, 0.3)
    ev = train.evaluate(model, (xte, yte))
    assert ev.predictions.shape == yte.shape and ev.probabilities.shape == (len(yte), 10)
    assert torch.allclose(ev.probabilities.sum(1), torch.ones(len(yte)))
    assert ev.accuracy == (ev.predictions == yte).float().mean().item()
    cm = train.confusion_matrix(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 2]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_checkpoint_round_trip_is_weights_only(tmp_path, tiny_digits):
    _, test = tiny_digits
    model = _model()
    model.input_normalization = (0.12, 0.31)
    path = tmp_path / "ck" / "lenet.pt"
    train.save_checkpoint(model, path, classes=list("0123456789"))
    fresh = models.create("lenet5")
    meta = train.load_checkpoint(fresh, path)
    assert meta["classes"][3] == "3" and fresh.input_normalization == (0.12, 0.31)
    assert torch.equal(train.predict(fresh, test[0][:8]), train.predict(model, test[0][:8]))
    with pytest.raises(FileNotFoundError, match="No checkpoint"):
        train.load_checkpoint(fresh, tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable"):
        train.load_checkpoint(fresh, tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="does not fit"):
        train.load_checkpoint(models.create("lenet5", num_classes=52), path)


def test_lenet5_shapes_and_variants():
    x = torch.zeros(2, 1, 28, 28)
    for name in ("lenet5", "lenet5-classic"):
        assert models.create(name)(x).shape == (2, 10)
    assert models.LeNet5(input_size=32)(torch.zeros(1, 1, 32, 32)).shape == (1, 10)
    assert sum(p.numel() for p in models.LeNet5().parameters()) == 61_706  # the well-known LeNet-5 count
    with pytest.raises(ValueError, match="variant"):
        models.LeNet5(variant="retro")
    with pytest.raises(ValueError, match="Unknown model"):
        models.create("vgg99")


def test_augment_keeps_shape_and_is_seeded():
    x = torch.randn(4, 1, 28, 28)
    aug = augment.RandomAffine(rotation=15)
    a = aug(x, torch.Generator().manual_seed(1))
    b = aug(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)


def _cli(*args, env_extra=None):
    import os

    env = {**os.environ, "OCRLAB_QUICK": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "ocrlab", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_cli_train_prints_test_accuracy_last():
    result = _cli("train", "lenet5", "--data", "synthetic-digits", "--epochs", "1", "--n-per-class", "100")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("lenet5 on synthetic-digits") and last.endswith("%")
    assert "Device: cpu" in result.stdout or "Device: cuda" in result.stdout


def test_cli_reports_bad_input_without_a_traceback(tmp_path):
    result = _cli("train", "lenet5", "--data", "kmnist", "--root", str(tmp_path))
    assert result.returncode == 2 and "OCRLAB_DATA" in result.stderr and "Traceback" not in result.stderr
    result = _cli("train", "lenet5", "--data", "synthetic-digits", "--device", "quantum")
    assert result.returncode == 2 and "Unknown device" in result.stderr
