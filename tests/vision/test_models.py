"""ember.vision.models: torchvision's structures (parameter counts, state_dict keys, init),
weights handling offline, and the seed tutorials' models against the seeds' code in PyTorch."""

import os

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.vision import models
from ember.vision.models import seeds

# torchvision's published parameter counts, and the number of state_dict entries
KNOWN = {"resnet18": (11_689_512, 122), "resnet50": (25_557_032, 320),
         "mobilenet_v2": (3_504_872, 314), "alexnet": (61_100_840, 16),
         "vgg11": (132_863_336, 22), "vgg11_bn": (132_868_840, 62)}


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_parameter_counts_and_state_dict_sizes(name, monkeypatch):
    # initialising 60-130M parameters is slow on NumPy and the counts do not depend on it
    # (test_torchvision_initialisation checks the initialisation)
    for fn in ("kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "constant_",
               "ones_", "zeros_"):
        monkeypatch.setattr(nn.init, fn, lambda tensor, *args, **kwargs: tensor)
    model = models.get_model(name)
    assert _count(model) == KNOWN[name][0]
    assert len(model.state_dict()) == KNOWN[name][1]
    assert models.get_model_weights(name).DEFAULT.meta["num_params"] == KNOWN[name][0]


def test_resnet18_keys_and_repr():
    model = models.resnet18(num_classes=7)
    keys = list(model.state_dict())
    assert keys[:7] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                        "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight"]
    assert "layer2.0.downsample.0.weight" in keys and "layer2.0.downsample.1.running_var" in keys
    assert "layer1.0.downsample.0.weight" not in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    assert tuple(model.state_dict()["fc.weight"].shape) == (7, 512)
    text = repr(model)
    assert text.startswith("ResNet(\n  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), "
                           "padding=(3, 3), bias=False)\n")
    assert "(maxpool): MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, " \
           "ceil_mode=False)" in text
    assert "(avgpool): AdaptiveAvgPool2d(output_size=(1, 1))" in text
    assert "(relu): ReLU(inplace=True)" in text


def test_mobilenet_v2_and_resnet50_keys():
    net = models.mobilenet_v2()
    keys = list(net.state_dict())
    text = repr(net)
    assert "(2): ReLU6(inplace=True)" in text and "(0): ReLU6" not in text
    assert keys[:2] == ["features.0.0.weight", "features.0.1.weight"]
    assert "features.1.conv.0.0.weight" in keys and "features.2.conv.3.running_mean" in keys
    assert keys[-2:] == ["classifier.1.weight", "classifier.1.bias"]
    keys50 = list(models.resnet50().state_dict())
    assert "layer4.2.conv3.weight" in keys50 and "layer1.0.downsample.0.weight" in keys50


def test_torchvision_initialisation():
    ember.manual_seed(0)
    model = models.resnet18()
    w = model.conv1.weight.detach().numpy()
    assert abs(w.std() - np.sqrt(2 / (64 * 49))) < 0.002  # kaiming_normal_, fan_out, relu
    np.testing.assert_array_equal(model.bn1.weight.detach().numpy(), 1)
    np.testing.assert_array_equal(model.bn1.bias.detach().numpy(), 0)
    zero = models.resnet18(zero_init_residual=True)
    np.testing.assert_array_equal(zero.layer1[0].bn2.weight.detach().numpy(), 0)
    head = models.mobilenet_v2().classifier[1]
    assert abs(head.weight.detach().numpy().std() - 0.01) < 5e-4
    np.testing.assert_array_equal(head.bias.detach().numpy(), 0)


def test_forward_shapes():
    ember.manual_seed(0)
    x = ember.randn(2, 3, 16, 16)
    assert tuple(models.resnet18(num_classes=10)(x).shape) == (2, 10)
    net = models.mobilenet_v2(num_classes=5)
    assert tuple(net(x).shape) == (2, 5)
    net.eval()
    with ember.no_grad():
        assert tuple(net(x[:1]).shape) == (1, 5)


def test_pretrained_weights_offline_fail_clearly(tmp_path, monkeypatch, closed_url):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    monkeypatch.setattr(weights.value, "url", closed_url + "resnet18-f37072fd.pth")
    for call in (lambda: models.resnet18(weights="DEFAULT"),
                 lambda: models.resnet18(weights=weights),
                 lambda: models.resnet18(pretrained=True)):
        with pytest.raises(RuntimeError) as info:
            call()
        message = str(info.value)
        assert closed_url + "resnet18-f37072fd.pth" in message
        assert os.path.join(str(tmp_path), "hub", "checkpoints") in message
    with pytest.raises(ValueError, match="Failed to find Weights"):
        models.resnet18(weights="IMAGENET9K")
    with pytest.raises(ValueError, match="num_classes"):
        models.resnet18(weights="DEFAULT", num_classes=10)


def test_weights_enum_names():
    assert models.ResNet50_Weights.DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert repr(models.VGG11_Weights.DEFAULT) == "VGG11_Weights.IMAGENET1K_V1"
    assert models.AlexNet_Weights.IMAGENET1K_V1.url.endswith("alexnet-owt-7be5be79.pth")
    assert "resnet18" in models.list_models() and "vgg19_bn" in models.list_models()


def test_legacy_pretrained_flag_warns_as_torchvision(monkeypatch):
    """pretrained=/weights=<bool>: torchvision 0.28's two deprecation warnings (its
    handle_legacy_interface) and the builder's IMAGENET1K_V1 (not DEFAULT) for True."""
    with pytest.warns(UserWarning) as record:
        net = models.alexnet(pretrained=False)
    assert [str(w.message) for w in record] == [
        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
        "please use 'weights' instead.",
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 "
        "and may be removed in the future. The current behavior is equivalent to passing "
        "`weights=None`."]
    assert isinstance(net, models.AlexNet)
    fetched = []
    monkeypatch.setattr(models.resnet, "fetch_state", lambda w, p: fetched.append(w))
    monkeypatch.setattr(models.resnet, "load_weights", lambda model, state: model)
    monkeypatch.setattr(models.resnet, "ResNet", lambda *a, **k: None)
    with pytest.warns(UserWarning) as record:
        models.resnet50(weights=True)  # a flag as weights: only the second warning
    assert [str(w.message) for w in record] == [
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 "
        "and may be removed in the future. The current behavior is equivalent to passing "
        "`weights=ResNet50_Weights.IMAGENET1K_V1`. You can also use "
        "`weights=ResNet50_Weights.DEFAULT` to get the most up-to-date weights."]
    assert fetched == [models.ResNet50_Weights.IMAGENET1K_V1]


def test_local_checkpoint_and_cached_weights(tmp_path, monkeypatch):
    ember.manual_seed(1)
    source = models.resnet18()
    path = tmp_path / "resnet18.pth"
    ember.save(source.state_dict(), str(path))
    target = models.resnet18()
    target.load_state_dict(ember.load(str(path)))
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    # a checkpoint already in PyTorch's cache is used without any network access
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    cache = tmp_path / "home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    os.replace(path, cache / "resnet18-f37072fd.pth")
    loaded = models.resnet18(weights="DEFAULT")
    np.testing.assert_array_equal(loaded.fc.weight.detach().numpy(),
                                  source.fc.weight.detach().numpy())


# ---- the seeds' models, against the seeds' own code run on PyTorch ---------------------------
def _seed_code(nn):
    """The seed listings (000, 002, 003), written for the given nn module."""
    class Howjul(nn.Module):
        def __init__(self):
            super().__init__()
            self.model1 = nn.Sequential(
                nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 5, padding=2), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 5, padding=2), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(1024, 64), nn.Linear(64, 10))

    class MyCNN(nn.Module):
        def __init__(self, image_size, num_classes):
            super().__init__()
            self.conv1 = nn.Sequential(
                nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3, stride=1, padding=1),
                nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))
            self.conv2 = nn.Sequential(
                nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, stride=1, padding=1),
                nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))
            self.fc = nn.Linear(32 * (image_size // 4) * (image_size // 4), num_classes)

    def conv3x3(in_channels, out_channels, stride=1):
        return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1,
                         bias=False)

    class ResidualBlock(nn.Module):
        def __init__(self, in_channels, out_channels, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv3x3(in_channels, out_channels, stride)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(out_channels, out_channels)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.downsample = downsample

    class SELayer(nn.Module):
        def __init__(self, channel, reduction=16):
            super().__init__()
            self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
            self.relu = nn.ReLU(inplace=True)
            self.FC1 = nn.Linear(channel, channel // reduction)
            self.FC2 = nn.Linear(channel // reduction, channel)
            self.sigmoid = nn.Sigmoid()

    class SEResidualBlock(nn.Module):
        def __init__(self, in_channels, out_channels, stride=1, downsample=None, reduction=16):
            super().__init__()
            self.conv1 = conv3x3(in_channels, out_channels, stride)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(out_channels, out_channels)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.se = SELayer(out_channels, reduction)
            self.downsample = downsample

    class ResNet(nn.Module):
        def __init__(self, block, layers, num_classes=10):
            super().__init__()
            self.in_channels = 16
            self.conv = conv3x3(3, 16)
            self.bn = nn.BatchNorm2d(16)
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = self.make_layer(block, 16, num_blocks=layers[0])
            self.layer2 = self.make_layer(block, 32, num_blocks=layers[1], stride=2)
            self.layer3 = self.make_layer(block, 64, num_blocks=layers[2], stride=2)
            self.avg_pool = nn.AvgPool2d(8)
            self.fc = nn.Linear(64, num_classes)

        def make_layer(self, block, out_channels, num_blocks, stride=1):
            downsample = None
            if (stride != 1) or (self.in_channels != out_channels):
                downsample = nn.Sequential(
                    conv3x3(self.in_channels, out_channels, stride=stride),
                    nn.BatchNorm2d(out_channels))
            layers = [block(self.in_channels, out_channels, stride, downsample)]
            self.in_channels = out_channels
            for i in range(1, num_blocks):
                layers.append(block(out_channels, out_channels))
            return nn.Sequential(*layers)

    class VGG(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.features = self._make_layers(cfg)
            self.classifier = nn.Linear(512, 10)

        def _make_layers(self, cfg):
            layers = []
            in_channels = 3
            for x in cfg:
                if x == 'M':
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                else:
                    layers += [nn.Conv2d(in_channels, x, kernel_size=3, padding=1),
                               nn.BatchNorm2d(x), nn.ReLU(inplace=True)]
                    in_channels = x
            layers += [nn.AvgPool2d(kernel_size=1, stride=1)]
            return nn.Sequential(*layers)

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                nn.Linear(512, 10))

    vgg11 = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']
    return {"howjul": lambda: Howjul(), "mycnn": lambda: MyCNN(32, 10),
            "resnet": lambda: ResNet(ResidualBlock, [2, 2, 2]),
            "se-resnet": lambda: ResNet(SEResidualBlock, [2, 2, 2]),
            "vgg11": lambda: VGG(vgg11), "mlp": lambda: NeuralNetwork()}


EMBER_SEEDS = {"howjul": lambda: seeds.Howjul(), "mycnn": lambda: seeds.MyCNN(32, 10),
               "resnet": lambda: seeds.ResNet(seeds.ResidualBlock, [2, 2, 2]),
               "se-resnet": lambda: seeds.ResNet(seeds.SEResidualBlock, [2, 2, 2]),
               "vgg11": lambda: seeds.VGG(seeds.cfg["VGG11"]),
               "mlp": lambda: seeds.NeuralNetwork()}


@pytest.mark.parametrize("name", sorted(EMBER_SEEDS))
def test_seed_models_match_the_seed_code_in_pytorch(name):
    ours = EMBER_SEEDS[name]()
    reference = _seed_code(torch.nn)[name]()
    assert repr(ours) == repr(reference)
    ours_state, ref_state = ours.state_dict(), reference.state_dict()
    assert list(ours_state) == list(ref_state)
    for key in ref_state:
        assert tuple(ours_state[key].shape) == tuple(ref_state[key].shape), key


@pytest.mark.parametrize("name, builder", [
    ("howjul", lambda c, s: seeds.Howjul(c, s, 10)),
    ("mycnn", lambda c, s: seeds.MyCNN(s, 10, in_channels=c)),
    ("resnet", lambda c, s: seeds.ResNet(seeds.ResidualBlock, [2, 2, 2], 10, c, s)),
    ("se-resnet", lambda c, s: seeds.ResNet(seeds.SEResidualBlock, [2, 2, 2], 10, c, s)),
    ("mlp", lambda c, s: seeds.NeuralNetwork(c * s * s, 10)),
])
@pytest.mark.parametrize("channels, size", [(1, 8), (3, 16)])
def test_seed_models_run_on_other_inputs(name, builder, channels, size):
    model = builder(channels, size)
    out = model(ember.randn(2, channels, size, size))
    assert tuple(out.shape) == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_seed_vgg_on_32x32_and_se_layer():
    model = seeds.VGG(seeds.cfg["VGG11"], in_channels=1)
    assert tuple(model(ember.randn(2, 1, 32, 32)).shape) == (2, 10)
    se = seeds.SELayer(32, reduction=16)
    x = ember.randn(2, 32, 4, 4)
    scale = se.sigmoid(se.FC2(se.relu(se.FC1(x.mean(dim=(2, 3))))))
    np.testing.assert_allclose(se(x).detach().numpy(),
                               (scale[:, :, None, None] * x).detach().numpy(), rtol=1e-5)
