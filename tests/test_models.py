"""Models of notebooks 05–08: shapes, the paper's structure, and parameter / MAC counts checked by hand."""
import pytest
import torch
import torch.nn as nn

from ocrlab import models
from ocrlab.models import complexity as cx
from ocrlab.diagnostics import trace_training


def test_lenet5_parameters_and_macs_by_hand():
    m = models.LeNet5()
    assert cx.count_parameters(m) == 61_706
    # output values × (inputs per output): C1 6·28·28·(1·5·5), C3 16·10·10·(6·5·5), then the dense layers
    by_hand = 6 * 28 * 28 * 25 + 16 * 10 * 10 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
    assert by_hand == 416_520
    assert cx.count_macs(m, (1, 28, 28)) == by_hand
    per_layer = cx.count_macs(m, (1, 28, 28), per_layer=True)
    assert per_layer["features.C1"] == 117_600 and per_layer["classifier.output"] == 840
    assert all(not mod._forward_hooks for mod in m.modules())  # count_macs removes its hooks


@pytest.mark.parametrize("variant", ["modern", "classic"])
def test_lenet5_layers_carry_the_papers_names(variant):
    """C1…output as in the lesson; the forward is the plain chain of those layers, in order (unchanged by the names)."""
    torch.manual_seed(0)
    m = models.LeNet5(variant=variant).eval()
    convs = [n for n, mod in m.named_modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]
    assert convs == ["features.C1", "features.C3", "classifier.C5", "classifier.F6", "classifier.output"]
    assert [n for n, mod in m.named_modules() if isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d))] == \
        ["features.S2", "features.S4"]
    assert cx.count_parameters(m) == 61_706
    x = torch.randn(3, 1, 28, 28)
    chain = nn.Sequential(*m.features, *m.classifier)  # the same modules, by position
    torch.testing.assert_close(m(x), chain(x))


@pytest.mark.parametrize("name,size", [(name, size) for name in models.REGISTRY for size in (28, 32)
                                       if not (name.startswith("lenet") and size == 32)])  # LeNet5: one size a build
def test_registry_models_forward(name, size):
    torch.manual_seed(0)
    m = models.create(name, num_classes=52).eval()
    assert m(torch.randn(2, 1, size, size)).shape == (2, 52)


def test_alexnet_dropout_and_vgg_option():
    a = models.AlexNet(dropout=0.3)
    assert [mod.p for mod in a.modules() if isinstance(mod, nn.Dropout)] == [0.3, 0.3]
    assert not any(isinstance(mod, nn.Dropout) and mod.p > 0 for mod in models.AlexNet(dropout=0).modules())
    v = models.vgg()
    assert {mod.kernel_size for mod in v.modules() if isinstance(mod, nn.Conv2d)} == {(3, 3)}
    with pytest.raises(ValueError, match="conv_style"):
        models.AlexNet(conv_style="inception")


def test_resnet_depth_plain_variant_and_zero_init():
    r, p = models.resnet20(), models.plain20()
    convs = lambda m: [c for n, c in m.named_modules() if isinstance(c, nn.Conv2d) and "downsample" not in n]  # noqa: E731
    assert len(convs(r)) + 1 == 20 and len(convs(p)) + 1 == 20  # 19 convs + the final linear layer
    assert not any("downsample" in n for n, _ in p.named_modules())
    assert cx.count_parameters(r) > cx.count_parameters(p)  # only the two 1×1 projection shortcuts differ
    assert cx.count_macs(models.resnet(32)) > cx.count_macs(r)
    with pytest.raises(ValueError, match="6n"):
        models.resnet(21)
    z = models.resnet20(zero_init_residual=True).eval()
    block = z.stages[0][1]
    x = torch.randn(1, 16, 7, 7)
    torch.testing.assert_close(block(x), torch.relu(x))  # each block starts as the identity (Goyal et al. 2017)


def test_densenet_blocks_grow_and_transitions_compress():
    block = models.DenseBlock(num_layers=4, in_channels=8, growth_rate=6)
    out = block(torch.randn(2, 8, 10, 10))
    assert out.shape == (2, 8 + 4 * 6, 10, 10) and block.out_channels == 32
    assert models.Transition(32, 16)(out).shape == (2, 16, 5, 5)
    no_b = models.DenseNet(bottleneck=False)
    assert cx.count_parameters(no_b) != cx.count_parameters(models.DenseNet())
    assert models.DenseNet(growth_rate=8, block_config=(2, 2))(torch.randn(1, 1, 28, 28)).shape == (1, 10)


def test_saved_activation_bytes_grows_with_batch_and_densenet_saves_more_per_parameter():
    r = models.resnet20()
    one, four = cx.saved_activation_bytes(r, batch_size=1), cx.saved_activation_bytes(r, batch_size=4)
    assert one > 0 and 3.5 < four / one < 4.5
    d = models.DenseNet()
    assert cx.saved_activation_bytes(d) / cx.count_parameters(d) > one / cx.count_parameters(r)


def test_trace_training_records_loss_and_gradients():
    torch.manual_seed(0)
    x, y = torch.randint(0, 255, (40, 28, 28), dtype=torch.uint8), torch.randint(0, 10, (40,))
    m = models.resnet(8, width=4)
    trace = trace_training(m, (x, y), steps=3, layers=["conv1"], batch_size=16)
    assert len(trace.loss) == 3 and len(trace.grad_norms["conv1"]) == 3 and trace.mean_grad_norm("conv1") > 0
    with pytest.raises(ValueError, match="No layer"):
        trace_training(m, (x, y), steps=1, layers=["nope"])


def test_checks_of_notebooks_05_08(capsys):
    from ocrlab import checks

    assert checks.check_conv_macs(lambda ci, co, k, h, w: co * h * w * ci * k * k)
    assert not checks.check_conv_macs(lambda ci, co, k, h, w: co * h * w * k * k)
    assert checks.check_stack_params(lambda c: (18 * c * c, 25 * c * c))
    assert checks.check_dense_channels(lambda c, k, n: c + n * k)
    assert not checks.check_dense_channels(lambda c, k, n: n * k)

    def zero_init(model):
        for b in model.modules():
            if isinstance(b, models.BasicBlock):
                nn.init.zeros_(b.bn2.weight)
    assert checks.check_identity_init(zero_init)
    assert not checks.check_identity_init(lambda model: None)
