"""The torchvision model zoo beyond ResNet/VGG: parameter counts against torchvision's published
`num_params`, state_dict keys and shapes against plain-torch re-implementations written from
torchvision's source (mobilenetv3.py, efficientnet.py, convnext.py, vision_transformer.py, ...),
seeded forwards with the same weights, and torchvision's initialisation statistics."""

import math
from collections import OrderedDict
from functools import partial

import numpy as np
import pytest
import torch
from torch import nn as tnn

import ember
from ember import nn
from ember.vision import models
from tests.differential import assert_same, copy_state

# torchvision's weights metadata: num_params of each builder's DEFAULT weights
NUM_PARAMS = {
    "mobilenet_v3_large": 5483032, "mobilenet_v3_small": 2542856,
    "efficientnet_b0": 5288548, "efficientnet_b1": 7794184, "efficientnet_b2": 9109994,
    "efficientnet_b3": 12233232, "efficientnet_b4": 19341616, "efficientnet_b5": 30389784,
    "efficientnet_b6": 43040704, "efficientnet_b7": 66347960, "efficientnet_v2_s": 21458488,
    "efficientnet_v2_m": 54139356, "efficientnet_v2_l": 118515272,
    "resnext50_32x4d": 25028904, "resnext101_32x8d": 88791336, "resnext101_64x4d": 83455272,
    "wide_resnet50_2": 68883240, "wide_resnet101_2": 126886696,
    "densenet121": 7978856, "densenet161": 28681000, "densenet169": 14149480,
    "densenet201": 20013928, "squeezenet1_0": 1248424, "squeezenet1_1": 1235496,
    "shufflenet_v2_x0_5": 1366792, "shufflenet_v2_x1_0": 2278604,
    "shufflenet_v2_x1_5": 3503624, "shufflenet_v2_x2_0": 7393996,
    "convnext_tiny": 28589128, "convnext_small": 50223688, "convnext_base": 88591464,
    "convnext_large": 197767336, "vit_b_16": 86567656, "vit_b_32": 88224232,
    "vit_l_16": 304326632, "vit_l_32": 306535400, "vit_h_14": 633470440,
    "mnasnet0_5": 2218512, "mnasnet0_75": 3170208, "mnasnet1_0": 4383312,
    "mnasnet1_3": 6282256, "regnet_y_400mf": 4344144, "regnet_y_800mf": 6432512,
    "regnet_y_1_6gf": 11202430, "regnet_y_3_2gf": 19436338, "regnet_y_8gf": 39381472,
    "regnet_y_16gf": 83590140, "regnet_y_32gf": 145046770, "regnet_x_400mf": 5495976,
    "regnet_x_800mf": 7259656, "regnet_x_1_6gf": 9190136, "regnet_x_3_2gf": 15296552,
    "regnet_x_8gf": 39572648, "regnet_x_16gf": 54278536, "regnet_x_32gf": 107811560}


@pytest.fixture
def no_init(monkeypatch):
    """Skip the (slow, irrelevant to counting) random initialisation."""
    for fn in ("kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "constant_",
               "ones_", "zeros_", "trunc_normal_", "xavier_uniform_"):
        monkeypatch.setattr(nn.init, fn, lambda tensor, *args, **kwargs: tensor)
    monkeypatch.setattr(ember.Tensor, "normal_", lambda self, *args, **kwargs: self)


@pytest.mark.parametrize("name", sorted(NUM_PARAMS))
def test_parameter_counts_match_torchvision_metadata(name, no_init):
    weights = models.get_model_weights(name).DEFAULT
    assert weights.meta["num_params"] == NUM_PARAMS[name]
    if NUM_PARAMS[name] > 90_000_000:  # allocating 0.5-2.5 GB is too heavy for the suite
        return
    model = models.get_model(name)
    assert sum(p.numel() for p in model.parameters()) == NUM_PARAMS[name]
    assert weights.url.startswith("https://download.pytorch.org/models/")
    assert name in models.list_models()


# ---- plain-torch references (torchvision's code, condensed) ----------------------------------
def _divisible(v, divisor=8, min_value=None):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _cna(cin, cout, k=3, s=1, groups=1, norm=tnn.BatchNorm2d, act=tnn.ReLU, padding=None,
         bias=None):
    """torchvision.ops.Conv2dNormActivation."""
    padding = (k - 1) // 2 if padding is None else padding
    layers = [tnn.Conv2d(cin, cout, k, s, padding, groups=groups,
                         bias=norm is None if bias is None else bias)]
    if norm is not None:
        layers.append(norm(cout))
    if act is not None:
        layers.append(act(inplace=True) if act not in (tnn.GELU,) else act())
    return tnn.Sequential(*layers)


class _SE(tnn.Module):
    def __init__(self, c, sq, act=tnn.ReLU, scale=tnn.Sigmoid):
        super().__init__()
        self.avgpool, self.fc1, self.fc2 = tnn.AdaptiveAvgPool2d(1), tnn.Conv2d(c, sq, 1), \
            tnn.Conv2d(sq, c, 1)
        self.activation, self.scale_activation = act(), scale()

    def forward(self, x):
        s = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return self.scale_activation(s) * x


class _Residual(tnn.Module):
    def __init__(self, block, use_res):
        super().__init__()
        self.block, self.use_res = block, use_res

    def forward(self, x):
        return self.block(x) + x if self.use_res else self.block(x)


def _torch_mobilenet_v3_small(num_classes):
    norm = partial(tnn.BatchNorm2d, eps=0.001, momentum=0.01)
    rows = [(16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2),
            (24, 3, 88, 24, False, "RE", 1), (24, 5, 96, 40, True, "HS", 2),
            (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
            (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1),
            (48, 5, 288, 96, True, "HS", 2), (96, 5, 576, 96, True, "HS", 1),
            (96, 5, 576, 96, True, "HS", 1)]
    layers = [_cna(3, 16, 3, 2, norm=norm, act=tnn.Hardswish)]
    for cin, k, exp, cout, se, a, s in rows:
        act = tnn.Hardswish if a == "HS" else tnn.ReLU
        block = [] if exp == cin else [_cna(cin, exp, 1, norm=norm, act=act)]
        block.append(_cna(exp, exp, k, s, groups=exp, norm=norm, act=act))
        if se:
            block.append(_SE(exp, _divisible(exp // 4), scale=tnn.Hardsigmoid))
        block.append(_cna(exp, cout, 1, norm=norm, act=None))
        layers.append(_Residual(tnn.Sequential(*block), s == 1 and cin == cout))
    layers.append(_cna(96, 576, 1, norm=norm, act=tnn.Hardswish))
    return tnn.Sequential(OrderedDict([
        ("features", tnn.Sequential(*layers)),
        ("avgpool", tnn.AdaptiveAvgPool2d(1)), ("flat", tnn.Flatten(1)),
        ("classifier", tnn.Sequential(tnn.Linear(576, 1024), tnn.Hardswish(), tnn.Dropout(0.2),
                                      tnn.Linear(1024, num_classes)))]))


def _torch_efficientnet_b0(num_classes):
    rows = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
            (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
            (6, 3, 1, 192, 320, 1)]
    layers = [_cna(3, 32, 3, 2, act=tnn.SiLU)]
    for e, k, s, cin, cout, n in rows:
        stage = []
        for i in range(n):
            cin_i, s_i = (cin, s) if i == 0 else (cout, 1)
            exp = _divisible(cin_i * e)
            block = [] if exp == cin_i else [_cna(cin_i, exp, 1, act=tnn.SiLU)]
            block += [_cna(exp, exp, k, s_i, groups=exp, act=tnn.SiLU),
                      _SE(exp, max(1, cin_i // 4), act=tnn.SiLU),
                      _cna(exp, cout, 1, act=None)]
            stage.append(_Residual(tnn.Sequential(*block), s_i == 1 and cin_i == cout))
        layers.append(tnn.Sequential(*stage))
    layers.append(_cna(320, 1280, 1, act=tnn.SiLU))
    return tnn.Sequential(OrderedDict([
        ("features", tnn.Sequential(*layers)), ("avgpool", tnn.AdaptiveAvgPool2d(1)),
        ("flat", tnn.Flatten(1)),
        ("classifier", tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes)))]))


class _LayerNorm2d(tnn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class _Permute(tnn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(self.dims)


class _CNBlock(tnn.Module):
    def __init__(self, dim):
        super().__init__()
        self.block = tnn.Sequential(
            tnn.Conv2d(dim, dim, 7, padding=3, groups=dim), _Permute([0, 2, 3, 1]),
            tnn.LayerNorm(dim, eps=1e-6), tnn.Linear(dim, 4 * dim), tnn.GELU(),
            tnn.Linear(4 * dim, dim), _Permute([0, 3, 1, 2]))
        self.layer_scale = tnn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x):
        return self.layer_scale * self.block(x) + x


def _torch_convnext(widths, depths, num_classes):
    norm = partial(_LayerNorm2d, eps=1e-6)
    layers = [_cna(3, widths[0], 4, 4, norm=norm, act=None, padding=0, bias=True)]
    for i, (w, d) in enumerate(zip(widths, depths)):
        layers.append(tnn.Sequential(*[_CNBlock(w) for _ in range(d)]))
        if i + 1 < len(widths):
            layers.append(tnn.Sequential(norm(w), tnn.Conv2d(w, widths[i + 1], 2, 2)))
    return tnn.Sequential(OrderedDict([
        ("features", tnn.Sequential(*layers)), ("avgpool", tnn.AdaptiveAvgPool2d(1)),
        ("classifier", tnn.Sequential(norm(widths[-1]), tnn.Flatten(1),
                                      tnn.Linear(widths[-1], num_classes)))]))


class _TorchViT(tnn.Module):
    """torchvision's VisionTransformer (no representation layer)."""

    def __init__(self, image_size, patch, layers, heads, hidden, mlp, num_classes):
        super().__init__()
        self.patch, self.hidden = patch, hidden
        self.conv_proj = tnn.Conv2d(3, hidden, patch, patch)
        self.class_token = tnn.Parameter(torch.zeros(1, 1, hidden))
        seq = (image_size // patch) ** 2 + 1
        enc = tnn.Module()
        enc.pos_embedding = tnn.Parameter(torch.empty(1, seq, hidden).normal_(std=0.02))
        blocks = OrderedDict()
        for i in range(layers):
            b = tnn.Module()
            b.ln_1 = tnn.LayerNorm(hidden, eps=1e-6)
            b.self_attention = tnn.MultiheadAttention(hidden, heads, batch_first=True)
            b.ln_2 = tnn.LayerNorm(hidden, eps=1e-6)
            b.mlp = tnn.Sequential(tnn.Linear(hidden, mlp), tnn.GELU(), tnn.Dropout(0.0),
                                   tnn.Linear(mlp, hidden), tnn.Dropout(0.0))
            blocks[f"encoder_layer_{i}"] = b
        enc.layers = tnn.Sequential(blocks)
        enc.ln = tnn.LayerNorm(hidden, eps=1e-6)
        self.encoder = enc
        self.heads = tnn.Sequential(OrderedDict(head=tnn.Linear(hidden, num_classes)))

    def forward(self, x):
        n = x.shape[0]
        x = self.conv_proj(x).reshape(n, self.hidden, -1).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], 1) + self.encoder.pos_embedding
        for b in self.encoder.layers:
            y = b.ln_1(x)
            x = b.self_attention(y, y, y, need_weights=False)[0] + x
            x = x + b.mlp(b.ln_2(x))
        return self.heads(self.encoder.ln(x)[:, 0])


def _same_state_layout(t_model, e_model):
    """Same state_dict keys in the same order, with the same shapes."""
    t_state, e_state = t_model.state_dict(), e_model.state_dict()
    assert list(e_state) == list(t_state)
    for key, value in t_state.items():
        assert tuple(e_state[key].shape) == tuple(value.shape), key


def _randomise(t_model, seed=0):
    """Non-trivial weights and BN statistics (so that every term shows in the output)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, v in t_model.state_dict().items():
            if v.is_floating_point():
                fill = torch.rand(v.shape, generator=g) * 0.5 + 0.75 if "running_var" in name \
                    or name.endswith("norm.weight") else torch.randn(v.shape, generator=g) * 0.2
                v.copy_(fill)


@pytest.mark.parametrize("name,build,size,rtol", [
    ("mobilenet_v3_small", lambda: _torch_mobilenet_v3_small(10), 64, 1e-4),
    ("efficientnet_b0", lambda: _torch_efficientnet_b0(10), 64, 1e-4),
    ("convnext_tiny", lambda: _torch_convnext((96, 192, 384, 768), (3, 3, 9, 3), 10), 64, 2e-4),
])
def test_seeded_forward_against_torch_reimplementation(name, build, size, rtol):
    torch.manual_seed(0)
    t_model = build().eval()
    _randomise(t_model)
    e_model = models.get_model(name, num_classes=10).eval()
    _same_state_layout(t_model, e_model)
    copy_state(t_model, e_model)
    x = np.random.default_rng(1).standard_normal((2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        expected = t_model(torch.tensor(x))
    with ember.no_grad():
        got = e_model(ember.tensor(x))
    assert_same(got, expected, rtol=rtol, atol=1e-4 * float(expected.abs().max()))


def test_vit_against_torch_reimplementation():
    torch.manual_seed(0)
    t_model = _TorchViT(32, 8, 2, 4, 64, 128, 10).eval()
    _randomise(t_model)
    e_model = models.VisionTransformer(32, 8, 2, 4, 64, 128, num_classes=10).eval()
    _same_state_layout(t_model, e_model)
    copy_state(t_model, e_model)
    x = np.random.default_rng(2).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = t_model(torch.tensor(x))
    with ember.no_grad():
        got = e_model(ember.tensor(x))
    assert_same(got, expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(AssertionError, match="Wrong image height! Expected 32 but got 16!"):
        e_model(ember.zeros(1, 3, 16, 32))


def test_vit_b_16_keys_and_forward():
    model = models.vit_b_16(num_classes=3).eval()
    keys = list(model.state_dict())
    assert keys[:4] == ["class_token", "conv_proj.weight", "conv_proj.bias",
                        "encoder.pos_embedding"]
    layer = "encoder.layers.encoder_layer_11."
    assert [k for k in keys if k.startswith(layer)] == [layer + s for s in (
        "ln_1.weight", "ln_1.bias", "self_attention.in_proj_weight",
        "self_attention.in_proj_bias", "self_attention.out_proj.weight",
        "self_attention.out_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.0.weight",
        "mlp.0.bias", "mlp.3.weight", "mlp.3.bias")]
    assert keys[-4:] == ["encoder.ln.weight", "encoder.ln.bias", "heads.head.weight",
                         "heads.head.bias"]
    assert tuple(model.encoder.pos_embedding.shape) == (1, 197, 768)
    # torchvision's init: zero head, LeCun-normal patch embedding, tiny MLP biases
    assert float(model.heads.head.weight.detach().abs().sum()) == 0.0
    std = float(model.conv_proj.weight.detach().std())
    assert abs(std - math.sqrt(1 / (3 * 16 * 16))) < 0.001  # trunc_normal_ cuts at +-2 only
    assert float(model.encoder.layers[0].mlp[0].bias.detach().abs().max()) < 1e-4
    with ember.no_grad():
        assert tuple(model(ember.randn(1, 3, 224, 224)).shape) == (1, 3)


def test_keys_of_the_convolutional_families():
    keys = list(models.densenet121().state_dict())
    assert keys[:2] == ["features.conv0.weight", "features.norm0.weight"]
    assert "features.denseblock1.denselayer6.conv2.weight" in keys
    assert "features.transition3.conv.weight" in keys and "features.transition4.conv.weight" \
        not in keys
    assert keys[-2:] == ["classifier.weight", "classifier.bias"]
    keys = list(models.squeezenet1_1().state_dict())
    assert keys[:4] == ["features.0.weight", "features.0.bias", "features.3.squeeze.weight",
                        "features.3.squeeze.bias"]
    assert keys[-2:] == ["classifier.1.weight", "classifier.1.bias"]
    keys = list(models.shufflenet_v2_x0_5().state_dict())
    assert "stage2.0.branch1.0.weight" in keys and "stage2.1.branch1.0.weight" not in keys
    assert "stage4.3.branch2.6.running_var" in keys and keys[-2:] == ["fc.weight", "fc.bias"]
    keys = list(models.mobilenet_v3_large().state_dict())
    assert "features.4.block.2.fc1.weight" in keys and "features.16.0.weight" in keys
    keys = list(models.efficientnet_b0().state_dict())
    assert "features.1.0.block.1.fc2.bias" in keys and "features.8.1.running_mean" in keys
    keys = list(models.efficientnet_v2_s().state_dict())
    assert "features.1.0.block.0.0.weight" in keys and "features.2.0.block.1.1.weight" in keys
    keys = list(models.regnet_y_400mf().state_dict())
    assert keys[:2] == ["stem.0.weight", "stem.1.weight"]
    assert "trunk_output.block1.block1-0.proj.0.weight" in keys
    assert "trunk_output.block4.block4-5.f.se.fc2.bias" in keys
    assert "trunk_output.block4.block4-6.f.a.0.weight" not in keys
    keys = list(models.mnasnet0_5().state_dict())
    assert "layers.8.0.layers.3.weight" in keys and keys[-2:] == ["classifier.1.weight",
                                                                  "classifier.1.bias"]
    net = models.resnext50_32x4d()
    assert net.layer1[0].conv2.groups == 32 and net.layer1[0].conv2.out_channels == 128
    assert models.wide_resnet50_2().layer1[0].conv2.out_channels == 128


def test_densenet_loads_legacy_checkpoint_keys():
    # the published checkpoints say 'norm.1' / 'conv.2' and have no num_batches_tracked
    model = models.densenet121(num_classes=5)
    legacy = {k.replace("norm1", "norm.1").replace("conv2", "conv.2"): v.clone() + 1
              for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    expected = legacy["features.denseblock1.denselayer1.conv.2.weight"].numpy().copy()
    from ember.vision.models import densenet
    densenet._load_state_dict(model, legacy)
    np.testing.assert_array_equal(
        model.features.denseblock1.denselayer1.conv2.weight.detach().numpy(), expected)


@pytest.mark.parametrize("name", ["densenet121", "squeezenet1_0", "squeezenet1_1",
                                  "shufflenet_v2_x1_0", "mobilenet_v3_large",
                                  "resnext50_32x4d", "efficientnet_v2_s", "mnasnet0_5",
                                  "regnet_y_400mf", "regnet_x_400mf"])
def test_forward_shapes(name):
    ember.manual_seed(0)
    model = models.get_model(name, num_classes=4).eval()
    with ember.no_grad():
        assert tuple(model(ember.randn(1, 3, 64, 64)).shape) == (1, 4)


def test_torchvision_initialisation_statistics():
    ember.manual_seed(0)
    net = models.mobilenet_v3_small()
    w = net.features[0][0].weight.detach().numpy()
    assert abs(w.std() - math.sqrt(2 / (16 * 9))) < 0.03  # kaiming_normal_ fan_out
    assert abs(float(net.classifier[0].weight.detach().std()) - 0.01) < 5e-4
    net = models.efficientnet_b0()
    head = net.classifier[1].weight.detach().numpy()
    bound = 1 / math.sqrt(1000)
    assert head.max() <= bound and head.min() >= -bound and head.std() > 0.9 * bound / 3 ** .5
    net = models.convnext_tiny()
    assert abs(float(net.features[1][0].block[3].weight.detach().std()) - 0.02) < 0.002
    assert float(net.features[1][0].layer_scale.detach().max()) == pytest.approx(1e-6)
    net = models.squeezenet1_0()
    assert abs(float(net.classifier[1].weight.detach().std()) - 0.01) < 0.001
    net = models.densenet121()
    w = net.features.conv0.weight.detach().numpy()
    assert abs(w.std() - math.sqrt(2 / (3 * 49))) < 0.01  # kaiming_normal_ fan_in


def test_googlenet_and_inception_v3(recwarn):
    with pytest.warns(FutureWarning, match="default weight initialization of GoogleNet"):
        net = models.googlenet(num_classes=6)
    # torchvision's num_params counts the model as shipped: without the auxiliary heads
    plain = models.googlenet(aux_logits=False, init_weights=True)
    assert sum(p.numel() for p in plain.parameters()) == 6624904
    assert models.GoogLeNet_Weights.DEFAULT.meta["num_params"] == 6624904
    keys = list(net.state_dict())
    assert keys[:2] == ["conv1.conv.weight", "conv1.bn.weight"]
    assert "inception3a.branch3.1.conv.weight" in keys and "aux2.fc2.bias" in keys
    # the known torchvision quirk: the "5x5" branch convolves 3x3
    assert tuple(net.inception3a.branch3[1].conv.weight.shape) == (32, 16, 3, 3)
    ember.manual_seed(0)
    out = net(ember.randn(2, 3, 64, 64))
    assert type(out).__name__ == "GoogLeNetOutputs" and out._fields == (
        "logits", "aux_logits2", "aux_logits1")
    assert tuple(out.aux_logits1.shape) == (2, 6)
    with ember.no_grad():
        assert tuple(net.eval()(ember.randn(1, 3, 64, 64)).shape) == (1, 6)
    with pytest.warns(FutureWarning, match="initialization of inception_v3"):
        net = models.inception_v3(num_classes=5)
    assert sum(p.numel() for p in models.inception_v3(init_weights=True).parameters()) \
        == 27161264 == models.Inception_V3_Weights.DEFAULT.meta["num_params"]
    keys = list(net.state_dict())
    assert keys[0] == "Conv2d_1a_3x3.conv.weight" and "Mixed_7c.branch3x3dbl_3b.bn.bias" in keys
    assert "AuxLogits.conv1.conv.weight" in keys and keys[-2:] == ["fc.weight", "fc.bias"]
    # torchvision's init: trunc_normal_ std 0.1, except the aux fc (0.001); the stddev set on
    # the aux conv block never reaches its Conv2d
    assert abs(float(net.Mixed_5b.branch1x1.conv.weight.detach().std()) - 0.1) < 0.005
    assert abs(float(net.AuxLogits.fc.weight.detach().std()) - 0.001) < 1e-4
    assert abs(float(net.AuxLogits.conv1.conv.weight.detach().std()) - 0.1) < 0.002
    with ember.no_grad():
        assert tuple(net.eval()(ember.randn(1, 3, 75, 75)).shape) == (1, 5)


def test_legacy_checkpoint_layouts():
    # ViT checkpoints name the MLP's linears linear_1 / linear_2 (MLPBlock version 1)
    vit = models.VisionTransformer(32, 8, 1, 2, 16, 32, num_classes=3)
    state = vit.state_dict()
    legacy = {k.replace("mlp.0.", "mlp.linear_1.").replace("mlp.3.", "mlp.linear_2."):
              v.clone() + 1 for k, v in state.items()}
    assert "encoder.layers.encoder_layer_0.mlp.linear_2.bias" in legacy
    assert repr(vit.load_state_dict(legacy)) == "<All keys matched successfully>"
    np.testing.assert_array_equal(vit.encoder.layers[0].mlp[3].bias.detach().numpy(),
                                  legacy["encoder.layers.encoder_layer_0.mlp.linear_2.bias"])
    # MNASNet insists on versioned checkpoints, as torchvision does
    net = models.mnasnet0_5()
    assert repr(net.load_state_dict(net.state_dict())) == "<All keys matched successfully>"
    with pytest.raises(ValueError, match="version shluld be set to 1 or 2 instead of None"):
        net.load_state_dict(dict(net.state_dict()))


def test_weights_transforms_follow_the_metadata():
    b0 = models.EfficientNet_B0_Weights.DEFAULT.transforms().transforms
    assert repr(b0[0]) == "Resize(size=256, interpolation=bicubic, max_size=None, antialias=True)"
    assert tuple(b0[1].size) == (224, 224)
    v2l = models.EfficientNet_V2_L_Weights.DEFAULT.transforms().transforms
    assert tuple(v2l[1].size) == (480, 480) and tuple(v2l[-1].mean) == (0.5, 0.5, 0.5)
    b1 = models.EfficientNet_B1_Weights.DEFAULT
    assert b1 is models.EfficientNet_B1_Weights.IMAGENET1K_V2
    assert "bilinear" in repr(b1.transforms().transforms[0])
    assert models.ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1.meta["min_size"] == (384, 384)
    assert models.MobileNet_V3_Large_Weights.DEFAULT.meta["_metrics"]["ImageNet-1K"][
        "acc@1"] == 75.274
