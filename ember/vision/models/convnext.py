"""ConvNeXt tiny / small / base / large (Liu et al. 2022) with torchvision's structure,
state_dict keys and initialisation (matches `torchvision.models.convnext`)."""

from functools import partial

from ember import nn
from ember.nn import functional as F
from ember.ops.creation import ones
from ember.vision.models._api import Weights, WeightsEnum, fetch_state, handle_legacy, load_weights
from ember.vision.ops.misc import Conv2dNormActivation, Permute
from ember.vision.ops.stochastic_depth import StochasticDepth

_BASE = "https://download.pytorch.org/models/"


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an (N, C, H, W) tensor."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """7x7 depthwise conv, LayerNorm, MLP (x4, GELU) in channels-last, layer scale, stochastic
    depth, residual."""

    def __init__(self, dim: int, layer_scale: float, stochastic_depth_prob: float,
                 norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input):
        result = self.stochastic_depth(self.layer_scale * self.block(input))
        result += input
        return result


class CNBlockConfig:
    """One stage: its width, the width after its downsampling (None for the last), depth."""

    def __init__(self, input_channels: int, out_channels, num_layers: int):
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(input_channels={self.input_channels}, "
                f"out_channels={self.out_channels}, num_layers={self.num_layers})")


class ConvNeXt(nn.Module):
    """4x4 patchify stem, stages of CNBlocks joined by LayerNorm + 2x2 strided convs, pooled
    LayerNorm + Linear classifier."""

    def __init__(self, block_setting, stochastic_depth_prob: float = 0.0,
                 layer_scale: float = 1e-6, num_classes: int = 1000, block=None,
                 norm_layer=None, **kwargs):
        super().__init__()
        if not block_setting:
            raise ValueError("The block_setting should not be empty")
        if not (isinstance(block_setting, (list, tuple))
                and all(isinstance(s, CNBlockConfig) for s in block_setting)):
            raise TypeError("The block_setting should be List[CNBlockConfig]")
        block = block or CNBlock
        norm_layer = norm_layer or partial(LayerNorm2d, eps=1e-6)
        layers = [Conv2dNormActivation(3, block_setting[0].input_channels, kernel_size=4,
                                       stride=4, padding=0, norm_layer=norm_layer,
                                       activation_layer=None, bias=True)]
        total_stage_blocks = sum(cnf.num_layers for cnf in block_setting)
        stage_block_id = 0
        for cnf in block_setting:
            stage = []
            for _ in range(cnf.num_layers):
                sd_prob = stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0)
                stage.append(block(cnf.input_channels, layer_scale, sd_prob))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:
                layers.append(nn.Sequential(
                    norm_layer(cnf.input_channels),
                    nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = block_setting[-1]
        last_channels = last.out_channels if last.out_channels is not None else \
            last.input_channels
        self.classifier = nn.Sequential(norm_layer(last_channels), nn.Flatten(1),
                                        nn.Linear(last_channels, num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


class ConvNeXt_Tiny_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "convnext_tiny-983f1562.pth", 28589128,
                            {"min_size": (32, 32), "resize_size": 236})
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "convnext_small-0c510722.pth", 50223688,
                            {"min_size": (32, 32), "resize_size": 230})
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Base_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "convnext_base-6075fbad.pth", 88591464,
                            {"min_size": (32, 32), "resize_size": 232})
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "convnext_large-ea097f82.pth", 197767336,
                            {"min_size": (32, 32), "resize_size": 232})
    DEFAULT = IMAGENET1K_V1


def _convnext(widths, depths, sd_prob, weights_enum, weights, progress, kwargs) -> ConvNeXt:
    state = fetch_state(handle_legacy(weights_enum, weights, kwargs), progress)
    outs = list(widths[1:]) + [None]
    setting = [CNBlockConfig(w, o, d) for w, o, d in zip(widths, outs, depths)]
    sd_prob = kwargs.pop("stochastic_depth_prob", sd_prob)
    return load_weights(ConvNeXt(setting, stochastic_depth_prob=sd_prob, **kwargs), state)


def convnext_tiny(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Tiny (matches `torchvision.models.convnext_tiny`)."""
    return _convnext((96, 192, 384, 768), (3, 3, 9, 3), 0.1, ConvNeXt_Tiny_Weights, weights,
                     progress, kwargs)


def convnext_small(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Small (matches `torchvision.models.convnext_small`)."""
    return _convnext((96, 192, 384, 768), (3, 3, 27, 3), 0.4, ConvNeXt_Small_Weights, weights,
                     progress, kwargs)


def convnext_base(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Base (matches `torchvision.models.convnext_base`)."""
    return _convnext((128, 256, 512, 1024), (3, 3, 27, 3), 0.5, ConvNeXt_Base_Weights, weights,
                     progress, kwargs)


def convnext_large(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Large (matches `torchvision.models.convnext_large`)."""
    return _convnext((192, 384, 768, 1536), (3, 3, 27, 3), 0.5, ConvNeXt_Large_Weights,
                     weights, progress, kwargs)
