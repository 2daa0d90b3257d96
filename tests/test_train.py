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
    assert "--root DIR" in _cli("train", "lenet5", "--data", "kmnist", "--root", str(tmp_path)).stderr
    result = _cli("train", "lenet5", "--data", "synthetic-digits", "--epochs", "-1")
    assert result.returncode == 2 and "must be at least 1" in result.stderr and "Data:" not in result.stdout
    if not torch.cuda.is_available():
        result = _cli("train", "lenet5", "--data", "synthetic-digits", "--device", "cuda:1")
        assert result.returncode == 2 and "--device cpu" in result.stderr and "OCRLAB_DEVICE" not in result.stderr
    help_text = _cli("train", "--help").stdout + _cli("--help").stdout
    assert "``" not in help_text and "--resume" in help_text


# ------------------------------------------------------------------ bugs found in review: each test failed before
def test_cli_save_writes_a_loadable_checkpoint(tmp_path, monkeypatch, capsys):
    from ocrlab import cli

    path = tmp_path / "lenet5.pt"
    assert cli.main(["train", "lenet5", "--data", "synthetic-digits", "--epochs", "1", "--n-per-class", "30",
                     "--save", str(path)]) == 0
    meta = train.load_checkpoint(models.create("lenet5"), path)
    assert meta["architecture"] == "lenet5" and meta["classes"] == list("0123456789")
    assert f"Checkpoint: {path}" in capsys.readouterr().out


def test_interrupt_during_evaluation_keeps_history_consistent(tiny_digits, monkeypatch):
    train_data, test = tiny_digits
    real, calls = train.evaluate, {"n": 0}

    def interrupted_second_time(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train, "evaluate", interrupted_second_time)
    history = train.fit(_model(), train_data, test, epochs=3, batch_size=100, verbose=False)
    assert history.interrupted and history.epoch == [1]
    assert len(history.train_loss) == len(history.test_acc) == len(history.seconds) == 1


def test_seed_none_draws_a_fresh_seed_and_records_it(tiny_digits):
    train_data, _ = tiny_digits
    runs = [train.fit(_model(), train_data, epochs=1, batch_size=100, seed=None, verbose=False) for _ in range(2)]
    assert runs[0].settings["seed"] != runs[1].settings["seed"]
    assert runs[0].train_loss != runs[1].train_loss  # the same initial weights, shuffled differently


def test_amp_on_cpu_is_honoured_as_bf16(tiny_digits):
    train_data, test = tiny_digits
    history = train.fit(_model(), train_data, test, epochs=2, batch_size=64, amp=True, device="cpu", verbose=False)
    assert history.settings["amp"] == "torch.bfloat16" and history.final_test_acc > 0.3
    assert train.fit(_model(), train_data, epochs=1, device="cpu", verbose=False).settings["amp"] == "None"


def test_predict_on_a_model_without_parameters():
    class Fixed(nn.Module):
        def forward(self, x):
            return torch.stack([x.flatten(1).mean(1), -x.flatten(1).mean(1)], dim=1)

    probs = train.predict(Fixed(), torch.zeros(3, 4, 4, dtype=torch.uint8), normalization=(0.0, 1.0))
    assert probs.shape == (3, 2) and torch.allclose(probs, torch.full((3, 2), 0.5))


def test_labels_beyond_the_models_outputs_are_refused_up_front(tiny_digits):
    (xtr, ytr), (xte, yte) = tiny_digits
    with pytest.raises(ValueError, match=r"train labels go up to 11 .* num_classes=12"):
        train.fit(_model(), (xtr, ytr.clone().index_fill_(0, torch.tensor([0]), 11)), epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"test labels go up to 10"):
        train.fit(_model(), (xtr, ytr), (xte, yte.clone().index_fill_(0, torch.tensor([0]), 10)), epochs=1,
                  verbose=False)


def test_saved_activation_bytes_leaves_batchnorm_statistics_alone():
    model = models.resnet(8, width=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert models.complexity.saved_activation_bytes(model, batch_size=2) > 0
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_random_affine_fills_with_the_background_of_normalised_images():
    glyphs = torch.zeros(4, 1, 28, 28)
    glyphs[:, :, 8:20, 12:16] = 1.0  # a white bar on black paper
    mean, std = 0.1, 0.3
    x = (glyphs - mean) / std
    out = augment.RandomAffine(rotation=45, scale=(0.7, 0.7), shift=0.0, shear=0.0)(x, torch.Generator().manual_seed(0))
    corners = out[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    torch.testing.assert_close(corners, torch.full_like(corners, -mean / std))  # blank paper, not 0 (mean grey)
    inverted = augment.RandomAffine(rotation=45, scale=(0.7, 0.7), shift=0.0, shear=0.0)(-x)
    torch.testing.assert_close(inverted[:, 0, 0, 0], torch.full((4,), mean / std))  # dark-on-light too


def test_checkpoint_metadata_that_a_safe_load_would_refuse_is_refused_when_saving(tmp_path):
    with pytest.raises(TypeError, match="'classes'.*function.*weights_only"):
        train.save_checkpoint(_model(), tmp_path / "x.pt", classes=lambda: "0123456789")
    with pytest.raises(TypeError, match=r"'extra'\[0\]"):
        train.save_checkpoint(_model(), tmp_path / "x.pt", extra=[object()])
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_resume_continues_exactly_in_process(tmp_path, tiny_digits):
    from ocrlab.callbacks import SaveEveryEpoch, Callback

    train_data, test = tiny_digits
    full = _model()
    train.fit(full, train_data, test, epochs=3, batch_size=64, verbose=False, augment=augment.RandomAffine())

    class StopInEpochTwo(Callback):
        def on_batch_end(self, run):
            if run.epoch == 2 and run.step == 13:
                raise KeyboardInterrupt

    path = tmp_path / "run.pt"
    part = _model()
    h = train.fit(part, train_data, test, epochs=3, batch_size=64, verbose=False, augment=augment.RandomAffine(),
                  callbacks=[SaveEveryEpoch(path), StopInEpochTwo()])
    assert h.interrupted and h.epoch == [1]
    resumed = _model()
    h2 = train.fit(resumed, train_data, test, epochs=3, batch_size=64, verbose=False, augment=augment.RandomAffine(),
                   resume=path)
    assert h2.epoch == [1, 2, 3] and len(h2.test_acc) == 3
    for key, value in full.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
    with pytest.raises(ValueError, match="batch_size 64 → 32"):
        train.fit(_model(), train_data, epochs=3, batch_size=32, verbose=False, resume=path)
    train.save_checkpoint(full, tmp_path / "weights.pt")
    with pytest.raises(ValueError, match="weights only"):
        train.fit(_model(), train_data, epochs=3, verbose=False, resume=tmp_path / "weights.pt")


def test_cli_run_interrupted_with_ctrl_c_and_resumed_ends_with_the_same_weights(tmp_path):
    import os
    import signal

    env = {**os.environ, "OCRLAB_PROGRESS": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("OCRLAB_QUICK", None)
    args = ["train", "lenet5", "--data", "synthetic-digits", "--epochs", "4", "--n-per-class", "400",
            "--batch-size", "32", "--device", "cpu"]
    assert _cli(*args, "--save", str(tmp_path / "whole.pt"), env_extra={"OCRLAB_QUICK": ""}).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "ocrlab", *args, "--save", str(tmp_path / "cut.pt")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    for line in proc.stdout:
        if line.startswith("epoch  1/4"):
            proc.send_signal(signal.SIGINT)  # Ctrl-C during epoch 2
            break
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 130, out  # really interrupted: the run did not finish first
    assert "--resume" in out
    resumed = _cli(*args, "--resume", str(tmp_path / "cut.pt"), env_extra={"OCRLAB_QUICK": ""})
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch 1" in resumed.stdout and "epoch  1/4" not in resumed.stdout
    whole, cut = models.create("lenet5"), models.create("lenet5")
    train.load_checkpoint(whole, tmp_path / "whole.pt"), train.load_checkpoint(cut, tmp_path / "cut.pt")
    for key, value in whole.state_dict().items():
        assert torch.equal(value, cut.state_dict()[key]), key


def test_import_train_loads_no_plotting_or_widgets():
    code = "import sys, ocrlab.train, ocrlab.cli; print('matplotlib' in sys.modules, 'ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip() == "False False"


def test_every_readme_command_runs(tmp_path):
    """Each `python -m ocrlab ...` line of the README, as a new user would type it (quick mode, in a fresh folder)."""
    import os
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    commands = [line.split("#")[0].split() for line in re.findall(r"^python -m ocrlab .*$", readme, re.M)]
    assert len(commands) >= 5
    env = {**os.environ, "OCRLAB_QUICK": "1", "OCRLAB_PROGRESS": "0"}
    for words in commands:
        result = subprocess.run([sys.executable, *words[1:]], capture_output=True, text=True, env=env, cwd=tmp_path,
                                timeout=600)
        needs_download = "--data mnist" in " ".join(words) and "not found" in result.stderr
        assert result.returncode == 0 or (needs_download and result.returncode == 2), (words, result.stderr)
        assert "Traceback" not in result.stderr, words


def test_every_module_imports_on_its_own_so_there_is_no_import_cycle():
    """Import each ocrlab module first, in a fresh set of ocrlab modules: a cycle fails for some starting point."""
    import importlib
    import pkgutil

    import ocrlab

    names = [m.name for m in pkgutil.walk_packages(ocrlab.__path__, "ocrlab.") if not m.name.endswith("__main__")]
    assert len(names) > 25
    saved = {k: v for k, v in sys.modules.items() if k == "ocrlab" or k.startswith("ocrlab.")}
    try:
        for name in names:
            for loaded in [k for k in sys.modules if k == "ocrlab" or k.startswith("ocrlab.")]:
                del sys.modules[loaded]
            importlib.import_module(name)
    finally:  # the other tests keep the module objects they imported
        for loaded in [k for k in sys.modules if k == "ocrlab" or k.startswith("ocrlab.")]:
            del sys.modules[loaded]
        sys.modules.update(saved)
