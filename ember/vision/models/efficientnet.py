"""EfficientNet B0-B7 (Tan & Le 2019) and EfficientNetV2 S/M/L (Tan & Le 2021) with
torchvision's structure, state_dict keys and initialisation (matches
`torchvision.models.efficientnet`)."""

import copy
import math
from functools import partial

from ember import nn
from ember.ops.shape import flatten
from ember.vision.models._api import Weights, WeightsEnum, fetch_state, handle_legacy, load_weights
from ember.vision.models.mobilenetv2 import _make_divisible, init_mobilenet
from ember.vision.ops.misc import Conv2dNormActivation, SqueezeExcitation
from ember.vision.ops.stochastic_depth import StochasticDepth

_BASE = "https://download.pytorch.org/models/"


class _MBConvConfig:
    """One stage: expansion, kernel, stride, channels, depth and its block class."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int,
                 out_channels: int, num_layers: int, block):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels: int, width_mult: float, min_value=None) -> int:
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    """An MBConv stage, channels and depth scaled by width_mult and depth_mult."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int,
                 out_channels: int, num_layers: int, width_mult: float = 1.0,
                 depth_mult: float = 1.0, block=None):
        input_channels = self.adjust_channels(input_channels, width_mult)
        out_channels = self.adjust_channels(out_channels, width_mult)
        num_layers = self.adjust_depth(num_layers, depth_mult)
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                         block or MBConv)

    @staticmethod
    def adjust_depth(num_layers: int, depth_mult: float) -> int:
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    """A FusedMBConv stage (EfficientNetV2's early stages)."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int,
                 out_channels: int, num_layers: int, block=None):
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                         block or FusedMBConv)


class MBConv(nn.Module):
    """1x1 expand, depthwise, squeeze-excitation (SiLU), 1x1 project; stochastic depth on the
    residual branch."""

    def __init__(self, cnf, stochastic_depth_prob: float, norm_layer,
                 se_layer=SqueezeExcitation):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel,
                                           stride=cnf.stride, groups=expanded,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(se_layer(expanded, squeeze_channels,
                               activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class FusedMBConv(nn.Module):
    """A full kxk convolution in place of expand + depthwise, then a 1x1 projection."""

    def __init__(self, cnf, stochastic_depth_prob: float, norm_layer):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded != cnf.input_channels:
            layers = [Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=cnf.kernel,
                                           stride=cnf.stride, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU),
                      Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None)]
        else:
            layers = [Conv2dNormActivation(cnf.input_channels, cnf.out_channels,
                                           kernel_size=cnf.kernel, stride=cnf.stride,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result



def _uniform_linear(linear):
    """EfficientNet's linear weights: U(-1/√out, 1/√out)."""
    bound = 1.0 / math.sqrt(linear.out_features)
    nn.init.uniform_(linear.weight, -bound, bound)

class EfficientNet(nn.Module):
    """SiLU stem, stages of (Fused)MBConv blocks with linearly growing stochastic depth, 1x1
    head conv, dropout + linear classifier."""

    def __init__(self, inverted_residual_setting, dropout: float,
                 stochastic_depth_prob: float = 0.2, num_classes: int = 1000, norm_layer=None,
                 last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, (list, tuple)) and all(
                isinstance(s, _MBConvConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        norm_layer = norm_layer or nn.BatchNorm2d
        layers = [Conv2dNormActivation(3, inverted_residual_setting[0].input_channels,
                                       kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.SiLU)]
        total_stage_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        stage_block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # later blocks of a stage keep its width and stride 1
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(last_out, num_classes))
        init_mobilenet(self, _uniform_linear)

    def forward(self, x):
        x = flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def _efficientnet_conf(arch: str, width_mult: float = 1.0, depth_mult: float = 1.0):
    """The stage configs and last channel of arch."""
    if arch.startswith("efficientnet_b"):
        conf = partial(MBConvConfig, width_mult=width_mult, depth_mult=depth_mult)
        rows = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
                (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
                (6, 3, 1, 192, 320, 1)]
        return [conf(*row) for row in rows], None
    fused = {"efficientnet_v2_s": [(1, 3, 1, 24, 24, 2), (4, 3, 2, 24, 48, 4),
                                   (4, 3, 2, 48, 64, 4)],
             "efficientnet_v2_m": [(1, 3, 1, 24, 24, 3), (4, 3, 2, 24, 48, 5),
                                   (4, 3, 2, 48, 80, 5)],
             "efficientnet_v2_l": [(1, 3, 1, 32, 32, 4), (4, 3, 2, 32, 64, 7),
                                   (4, 3, 2, 64, 96, 7)]}
    mb = {"efficientnet_v2_s": [(4, 3, 2, 64, 128, 6), (6, 3, 1, 128, 160, 9),
                                (6, 3, 2, 160, 256, 15)],
          "efficientnet_v2_m": [(4, 3, 2, 80, 160, 7), (6, 3, 1, 160, 176, 14),
                                (6, 3, 2, 176, 304, 18), (6, 3, 1, 304, 512, 5)],
          "efficientnet_v2_l": [(4, 3, 2, 96, 192, 10), (6, 3, 1, 192, 224, 19),
                                (6, 3, 2, 224, 384, 25), (6, 3, 1, 384, 640, 7)]}
    if arch not in fused:
        raise ValueError(f"Unsupported model type {arch}")
    setting = [FusedMBConvConfig(*row) for row in fused[arch]]
    return setting + [MBConvConfig(*row) for row in mb[arch]], 1280


def _weights(name: str, num_params: int, crop: int, resize: int, **meta) -> Weights:
    # the B0-B7 checkpoints evaluate with bicubic resizing (torchvision's transforms)
    return Weights(_BASE + name, num_params, {"min_size": (1, 1), "crop_size": crop,
                                              "resize_size": resize,
                                              "interpolation": "BICUBIC", **meta})


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_b0_rwightman-7f5810bc.pth", 5288548, 224, 256)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_b1_rwightman-bac287d4.pth", 7794184, 240, 256)
    IMAGENET1K_V2 = _weights("efficientnet_b1-c27df63c.pth", 7794184, 240, 255,
                             interpolation="BILINEAR")
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_b2_rwightman-c35c1473.pth", 9109994, 288, 288)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_b3_rwightman-b3899882.pth", 12233232, 300, 320)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B4_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_b4_rwightman-23ab8bcd.pth", 19341616, 380, 384)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_b5_lukemelas-1a07897c.pth", 30389784, 456, 456)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B6_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_b6_lukemelas-24a108a5.pth", 43040704, 528, 528)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B7_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_b7_lukemelas-c5b4e57e.pth", 66347960, 600, 600)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_v2_s-dd5fe13b.pth", 21458488, 384, 384,
                             interpolation="BILINEAR")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_M_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_v2_m-dc08266a.pth", 54139356, 480, 480,
                             interpolation="BILINEAR")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_L_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("efficientnet_v2_l-59c71312.pth", 118515272, 480, 480,
                             interpolation="BICUBIC", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    DEFAULT = IMAGENET1K_V1


# name: (width_mult, depth_mult, dropout, norm_layer or None)
_B_SCALES = {"efficientnet_b0": (1.0, 1.0, 0.2, None), "efficientnet_b1": (1.0, 1.1, 0.2, None),
             "efficientnet_b2": (1.1, 1.2, 0.3, None), "efficientnet_b3": (1.2, 1.4, 0.3, None),
             "efficientnet_b4": (1.4, 1.8, 0.4, None),
             "efficientnet_b5": (1.6, 2.2, 0.4, "lukemelas"),
             "efficientnet_b6": (1.8, 2.6, 0.5, "lukemelas"),
             "efficientnet_b7": (2.0, 3.1, 0.5, "lukemelas")}
_V2_DROPOUT = {"efficientnet_v2_s": 0.2, "efficientnet_v2_m": 0.3, "efficientnet_v2_l": 0.4}


def _efficientnet(arch: str, weights_enum, weights, progress, kwargs) -> EfficientNet:
    state = fetch_state(handle_legacy(weights_enum, weights, kwargs), progress)
    if arch in _B_SCALES:
        width, depth, dropout, norm = _B_SCALES[arch]
        setting, last_channel = _efficientnet_conf(arch, width, depth)
        if norm is not None:  # the B5-B7 checkpoints were trained with TF's BN settings
            kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))
    else:
        setting, last_channel = _efficientnet_conf(arch)
        dropout = _V2_DROPOUT[arch]
        kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=1e-03))
    model = EfficientNet(setting, kwargs.pop("dropout", dropout), last_channel=last_channel,
                         **kwargs)
    return load_weights(model, state)


def _builder(arch: str, weights_enum):
    def build(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
        return _efficientnet(arch, weights_enum, weights, progress, kwargs)

    build.__name__ = build.__qualname__ = arch
    build.__doc__ = f"{arch} (matches `torchvision.models.{arch}`)."
    return build


efficientnet_b0 = _builder("efficientnet_b0", EfficientNet_B0_Weights)
efficientnet_b1 = _builder("efficientnet_b1", EfficientNet_B1_Weights)
efficientnet_b2 = _builder("efficientnet_b2", EfficientNet_B2_Weights)
efficientnet_b3 = _builder("efficientnet_b3", EfficientNet_B3_Weights)
efficientnet_b4 = _builder("efficientnet_b4", EfficientNet_B4_Weights)
efficientnet_b5 = _builder("efficientnet_b5", EfficientNet_B5_Weights)
efficientnet_b6 = _builder("efficientnet_b6", EfficientNet_B6_Weights)
efficientnet_b7 = _builder("efficientnet_b7", EfficientNet_B7_Weights)
efficientnet_v2_s = _builder("efficientnet_v2_s", EfficientNet_V2_S_Weights)
efficientnet_v2_m = _builder("efficientnet_v2_m", EfficientNet_V2_M_Weights)
efficientnet_v2_l = _builder("efficientnet_v2_l", EfficientNet_V2_L_Weights)
