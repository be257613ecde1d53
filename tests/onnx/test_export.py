"""ember.onnx.export checked for real: each covered model and layer is exported, passes
onnx.checker, runs in onnxruntime at two batch sizes (dynamic axes) and gives ember's output
(rtol 1e-4, atol 1e-5). Ops and attention masks: test_export_ops.py."""

import pytest

import ember
from ember import nn
from ember.cli import _setup
from ember.vision import models
from ember.vision.models import vgg
from tests.onnx._helpers import BATCH, SEQ2, Lambda, check, r


def _seed(name, size=16):
    return lambda: _setup.MODELS[name][0](3, size, 10)


def _torchvision_vgg():
    """torchvision's vgg11_bn with a small classifier (its 4096-wide one takes a minute to
    initialise here): features, the 7x7 adaptive pool (1x1 -> 7x7 on 32x32 images), Linear."""
    features = vgg.make_layers(vgg.cfgs["A"], batch_norm=True)
    return nn.Sequential(features, nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
                         nn.Linear(512 * 7 * 7, 10))


# ---- models: (builder, first input shape, second input shape, dynamic axes) --------------------
MODELS = {
    "mlp": (_seed("mlp", 8), (2, 3, 8, 8), (5, 3, 8, 8), BATCH),
    "seed000-net": (_seed("seed000-net"), (2, 3, 16, 16), (3, 3, 16, 16), BATCH),
    "mycnn": (_seed("mycnn"), (2, 3, 16, 16), (3, 3, 16, 16), BATCH),
    "cifar-resnet": (_seed("cifar-resnet"), (2, 3, 16, 16), (3, 3, 16, 16), BATCH),
    "se-resnet": (_seed("se-resnet"), (2, 3, 16, 16), (3, 3, 16, 16), BATCH),
    "vgg11-bn": (_seed("vgg11-bn", 32), (2, 3, 32, 32), (3, 3, 32, 32), BATCH),
    "resnet18": (lambda: models.resnet18(num_classes=10), (2, 3, 32, 32), (3, 3, 32, 32), BATCH),
    "mobilenet_v2": (lambda: models.mobilenet_v2(num_classes=10), (2, 3, 32, 32),
                     (3, 3, 32, 32), BATCH),
    "vgg11-bn-features": (_torchvision_vgg, (1, 3, 32, 32), (2, 3, 32, 32), BATCH),
    "transformer-encoder": (
        lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2),
        (2, 5, 16), (3, 7, 16), SEQ2),
    "transformer-norm-first-gelu": (
        lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(
            16, 4, 32, activation="gelu", norm_first=True), 1, enable_nested_tensor=False),
        (5, 2, 16), (6, 3, 16), [{0: "time", 1: "batch"}]),
    "lstm-2-layers-batch-first": (lambda: nn.LSTM(4, 8, 2, batch_first=True), (2, 5, 4),
                                  (3, 7, 4), SEQ2),
    "lstm-bidirectional": (lambda: nn.LSTM(4, 6, 2, bidirectional=True), (5, 2, 4), (7, 3, 4),
                           [{0: "time", 1: "batch"}]),
    "lstm-no-bias": (lambda: nn.LSTM(4, 6, bias=False), (5, 2, 4), (7, 3, 4),
                     [{0: "time", 1: "batch"}]),
    "gru-bidirectional": (lambda: nn.GRU(4, 8, 2, bidirectional=True, batch_first=True),
                          (2, 5, 4), (3, 6, 4), SEQ2),
    "rnn-relu": (lambda: nn.RNN(4, 8, nonlinearity="relu"), (5, 2, 4), (6, 3, 4),
                 [{0: "time", 1: "batch"}]),
}


@pytest.mark.parametrize("name", MODELS)
def test_model_runs_in_onnxruntime(name):
    build, first, second, dynamic = MODELS[name]
    ember.manual_seed(0)
    model = build()
    check(model, [r(*first)], [r(*second)], dynamic)


def test_lstm_with_initial_state_and_unbatched_gru():
    ember.manual_seed(0)
    lstm = nn.LSTM(3, 5, 2)
    x, h0, c0 = r(4, 2, 3), r(2, 2, 5), r(2, 2, 5)
    model = Lambda(lambda x, m: m(x, hx=(h0, c0)), lstm)
    check(model, [x], [r(6, 2, 3)], [{0: "time"}])
    check(nn.GRU(3, 5), [r(4, 3)], [r(7, 3)], [{0: "time"}])


# ---- layers and ops: (module, input shape, second input shape) --------------------------------
def _conv_cases():
    yield "conv1d", nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)
    yield "conv2d-all", nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1),
                                  groups=2), (2, 4, 9, 8)
    yield "conv2d-same", nn.Conv2d(3, 4, (4, 3), padding="same", dilation=(1, 2),
                                   bias=False), (2, 3, 9, 9)
    yield "conv2d-valid-depthwise", nn.Conv2d(4, 8, 3, padding="valid", groups=4), (2, 4, 7, 7)
    yield "conv3d", nn.Conv3d(2, 3, 3, stride=(1, 2, 2), padding=1), (2, 2, 5, 6, 6)
    yield "conv-transpose1d", nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1,
                                                 output_padding=2), (2, 3, 5)
    yield "conv-transpose2d-all", nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                     output_padding=1, groups=2, dilation=2,
                                                     bias=False), (2, 4, 5, 6)
    yield "conv-transpose3d", nn.ConvTranspose3d(2, 3, 2, stride=2), (2, 2, 3, 3, 3)


def _layer_cases():
    yield from _conv_cases()
    yield "maxpool1d", nn.MaxPool1d(3, stride=2, padding=1), (2, 3, 9)
    yield "maxpool2d-ceil-dilation", nn.MaxPool2d(3, stride=2, padding=1, dilation=2,
                                                  ceil_mode=True), (2, 3, 10, 10)
    yield "maxpool3d", nn.MaxPool3d(2), (2, 2, 4, 4, 4)
    yield "avgpool1d", nn.AvgPool1d(3, stride=2), (2, 3, 9)
    yield "avgpool2d-pad", nn.AvgPool2d(3, stride=2, padding=1), (2, 3, 9, 9)
    yield "avgpool2d-exclude-pad", nn.AvgPool2d(3, stride=2, padding=1,
                                                count_include_pad=False), (2, 3, 9, 9)
    yield "avgpool2d-divisor", nn.AvgPool2d(2, divisor_override=3), (2, 3, 8, 8)
    yield "avgpool3d", nn.AvgPool3d(2), (2, 2, 4, 4, 4)
    yield "adaptive-avg-global", nn.AdaptiveAvgPool2d((1, 1)), (2, 3, 7, 5)
    yield "adaptive-avg-even", nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 8, 9)
    yield "adaptive-avg-uneven", nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)
    yield "adaptive-avg1d", nn.AdaptiveAvgPool1d(4), (2, 3, 8)
    yield "batchnorm1d", nn.BatchNorm1d(5), (3, 5)
    yield "batchnorm2d-no-affine", nn.BatchNorm2d(3, affine=False), (2, 3, 4, 4)
    yield "batchnorm3d", nn.BatchNorm3d(2), (2, 2, 3, 3, 3)
    yield "layernorm", nn.LayerNorm((4, 5)), (2, 3, 4, 5)
    yield "layernorm-no-affine", nn.LayerNorm(5, elementwise_affine=False), (2, 5)
    yield "groupnorm", nn.GroupNorm(2, 4), (2, 4, 3, 3)
    yield "groupnorm-no-affine", nn.GroupNorm(2, 4, affine=False), (2, 4, 3, 3)
    yield "instancenorm", nn.InstanceNorm2d(3), (2, 3, 4, 4)
    for act in (nn.ReLU(), nn.LeakyReLU(0.2), nn.GELU(), nn.GELU("tanh"), nn.SiLU(),
                nn.Sigmoid(), nn.Tanh(), nn.Softplus(), nn.Softplus(beta=2.0), nn.ELU(0.5),
                nn.SELU(), nn.CELU(0.7), nn.Hardswish(), nn.Hardsigmoid(), nn.ReLU6(),
                nn.Hardtanh(-0.5, 0.5), nn.Mish(), nn.PReLU(3), nn.LogSigmoid(),
                nn.Softmax(1), nn.LogSoftmax(-1), nn.Dropout(0.5), nn.Identity()):
        yield type(act).__name__ + repr(act)[len(type(act).__name__):], act, (2, 3, 5)
    yield "adaptive-max-global", nn.AdaptiveMaxPool2d(1), (2, 3, 6, 5)
    yield "adaptive-max-even", nn.AdaptiveMaxPool2d((2, 3)), (2, 3, 6, 6)
    yield "upsample-nearest", nn.Upsample(scale_factor=2), (2, 3, 4, 5)
    yield "upsample-bilinear", nn.Upsample(size=(7, 3), mode="bilinear", align_corners=True), \
        (2, 3, 4, 5)
    yield "pixel-shuffle", nn.PixelShuffle(2), (2, 8, 3, 4)
    yield "conv-reflect", nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (2, 3, 5, 5)
    yield "replication-pad", nn.ReplicationPad2d((1, 2, 0, 1)), (2, 3, 4, 4)
    yield "zero-pad", nn.ZeroPad2d((1, 2, 0, 1)), (2, 3, 4, 4)
    yield "glu-channel-shuffle", nn.Sequential(nn.GLU(1), nn.ChannelShuffle(2)), (2, 8, 3, 3)
    yield "flatten-linear", nn.Sequential(nn.Flatten(), nn.Linear(15, 4)), (2, 3, 5)
    yield "linear-on-sequences", nn.Linear(5, 4), (2, 3, 5)


LAYERS = {name: (module, shape) for name, module, shape in _layer_cases()}


def _twin(shape):
    return (shape[0] + 2,) + tuple(shape[1:])


@pytest.mark.parametrize("name", LAYERS)
def test_layer_runs_in_onnxruntime(name):
    ember.manual_seed(0)
    module, shape = LAYERS[name]
    module.eval()
    for buffer in ("running_mean", "running_var"):  # statistics that are not the defaults
        if getattr(module, buffer, None) is not None:
            getattr(module, buffer).copy_(ember.rand(getattr(module, buffer).shape) + 0.5)
    check(module, [r(*shape)], [r(*_twin(shape))], BATCH)


def test_multihead_attention_with_weights():
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    model = Lambda(lambda x, m: m(x, x * 2, x)[0] + m(x, x, x)[1].sum(-1, keepdim=True), mha)
    check(model, [r(2, 5, 8)], [r(3, 5, 8)], BATCH)


def test_embedding_and_int_inputs():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 2))
    first = [ember.tensor([[1, 2, 0], [3, 9, 4]])]
    check(model, first, [ember.tensor([[5, 2, 0], [3, 9, 4], [0, 0, 1]])], BATCH)


def test_float64_model():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.LayerNorm(3)).double()
    check(model, [r(2, 4).double()], [r(5, 4).double()], BATCH)
