"""ResNet-18/34/50/101/152 (He et al. 2015) with torchvision's structure, state_dict keys and
initialisation (matches `torchvision.models.resnet`)."""

from ember import nn
from ember.ops.shape import flatten
from ember.vision.models._api import Weights, WeightsEnum, fetch_state, handle_legacy, load_weights

_BASE = "https://download.pytorch.org/models/"


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut: y = relu(bn(conv(relu(bn(conv(x))))) + x)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand (x4), and a shortcut (ResNet v1.5)."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """The ImageNet ResNet: 7x7 stem, four stages of blocks, global average pool, fc."""

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False,
                 groups: int = 1, width_per_group: int = 64, replace_stride_with_dilation=None,
                 norm_layer=None):
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, "
                             f"got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2, replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1,
                    dilate: bool = False) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = flatten(self.avgpool(x), 1)
        return self.fc(x)


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnet18-f37072fd.pth", 11689512)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnet34-b627a593.pth", 21797672)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnet50-0676ba61.pth", 25557032)
    IMAGENET1K_V2 = Weights(_BASE + "resnet50-11ad3fa6.pth", 25557032,
                            {"resize_size": 232})
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnet101-63fe2227.pth", 44549160)
    IMAGENET1K_V2 = Weights(_BASE + "resnet101-cd907fc2.pth", 44549160,
                            {"resize_size": 232})
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnet152-394f9c45.pth", 60192808)
    IMAGENET1K_V2 = Weights(_BASE + "resnet152-f82ba261.pth", 60192808,
                            {"resize_size": 232})
    DEFAULT = IMAGENET1K_V2


def _resnet(block, layers, weights, weights_enum, progress, kwargs) -> ResNet:
    state = fetch_state(handle_legacy(weights_enum, weights, kwargs), progress)
    return load_weights(ResNet(block, layers, **kwargs), state)


def resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18 (matches `torchvision.models.resnet18`)."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, ResNet18_Weights, progress, kwargs)


def resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34 (matches `torchvision.models.resnet34`)."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, ResNet34_Weights, progress, kwargs)


def resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50 (matches `torchvision.models.resnet50`)."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, ResNet50_Weights, progress, kwargs)


def resnet101(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101 (matches `torchvision.models.resnet101`)."""
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, ResNet101_Weights, progress, kwargs)


def resnet152(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-152 (matches `torchvision.models.resnet152`)."""
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, ResNet152_Weights, progress, kwargs)


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnext50_32x4d-7cdf4587.pth", 25028904)
    IMAGENET1K_V2 = Weights(_BASE + "resnext50_32x4d-1a0047aa.pth", 25028904,
                            {"resize_size": 232})
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_32X8D_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnext101_32x8d-8ba56ff5.pth", 88791336)
    IMAGENET1K_V2 = Weights(_BASE + "resnext101_32x8d-110c445d.pth", 88791336,
                            {"resize_size": 232})
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_64X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnext101_64x4d-173b62eb.pth", 83455272,
                            {"resize_size": 232})
    DEFAULT = IMAGENET1K_V1


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "wide_resnet50_2-95faca4d.pth", 68883240)
    IMAGENET1K_V2 = Weights(_BASE + "wide_resnet50_2-9ba9bcbe.pth", 68883240,
                            {"resize_size": 232})
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet101_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "wide_resnet101_2-32ee1156.pth", 126886696)
    IMAGENET1K_V2 = Weights(_BASE + "wide_resnet101_2-d733dc28.pth", 126886696,
                            {"resize_size": 232})
    DEFAULT = IMAGENET1K_V2


def _grouped(layers, groups: int, width: int, weights, weights_enum, progress, kwargs):
    """A Bottleneck ResNet with `groups` x `width` channels in its 3x3 convolutions (torchvision
    overwrites these two arguments)."""
    kwargs["groups"], kwargs["width_per_group"] = groups, width
    return _resnet(Bottleneck, layers, weights, weights_enum, progress, kwargs)


def resnext50_32x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-50 32x4d (matches `torchvision.models.resnext50_32x4d`)."""
    return _grouped([3, 4, 6, 3], 32, 4, weights, ResNeXt50_32X4D_Weights, progress, kwargs)


def resnext101_32x8d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 32x8d (matches `torchvision.models.resnext101_32x8d`)."""
    return _grouped([3, 4, 23, 3], 32, 8, weights, ResNeXt101_32X8D_Weights, progress, kwargs)


def resnext101_64x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 64x4d (matches `torchvision.models.resnext101_64x4d`)."""
    return _grouped([3, 4, 23, 3], 64, 4, weights, ResNeXt101_64X4D_Weights, progress, kwargs)


def wide_resnet50_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-50-2 (matches `torchvision.models.wide_resnet50_2`)."""
    return _grouped([3, 4, 6, 3], 1, 128, weights, Wide_ResNet50_2_Weights, progress, kwargs)


def wide_resnet101_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-101-2 (matches `torchvision.models.wide_resnet101_2`)."""
    return _grouped([3, 4, 23, 3], 1, 128, weights, Wide_ResNet101_2_Weights, progress, kwargs)
