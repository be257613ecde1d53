"""ember.vision.models: classification models (matches `torchvision.models`), plus the seed
tutorials' models in `ember.vision.models.seeds`."""

from ember.vision.models import seeds
from ember.vision.models._api import Weights, WeightsEnum
from ember.vision.models.alexnet import AlexNet, AlexNet_Weights, alexnet
from ember.vision.models.convnext import (
    ConvNeXt,
    ConvNeXt_Base_Weights,
    ConvNeXt_Large_Weights,
    ConvNeXt_Small_Weights,
    ConvNeXt_Tiny_Weights,
    convnext_base,
    convnext_large,
    convnext_small,
    convnext_tiny,
)
from ember.vision.models.densenet import (
    DenseNet,
    DenseNet121_Weights,
    DenseNet161_Weights,
    DenseNet169_Weights,
    DenseNet201_Weights,
    densenet121,
    densenet161,
    densenet169,
    densenet201,
)
from ember.vision.models.efficientnet import (
    EfficientNet,
    EfficientNet_B0_Weights,
    EfficientNet_B1_Weights,
    EfficientNet_B2_Weights,
    EfficientNet_B3_Weights,
    EfficientNet_B4_Weights,
    EfficientNet_B5_Weights,
    EfficientNet_B6_Weights,
    EfficientNet_B7_Weights,
    EfficientNet_V2_L_Weights,
    EfficientNet_V2_M_Weights,
    EfficientNet_V2_S_Weights,
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_b2,
    efficientnet_b3,
    efficientnet_b4,
    efficientnet_b5,
    efficientnet_b6,
    efficientnet_b7,
    efficientnet_v2_l,
    efficientnet_v2_m,
    efficientnet_v2_s,
)
from ember.vision.models.googlenet import GoogLeNet, GoogLeNet_Weights, GoogLeNetOutputs, googlenet
from ember.vision.models.inception import (
    Inception3,
    Inception_V3_Weights,
    InceptionOutputs,
    inception_v3,
)
from ember.vision.models.mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from ember.vision.models.mobilenetv3 import (
    MobileNet_V3_Large_Weights,
    MobileNet_V3_Small_Weights,
    MobileNetV3,
    mobilenet_v3_large,
    mobilenet_v3_small,
)
from ember.vision.models.mnasnet import (
    MNASNet,
    MNASNet0_5_Weights,
    MNASNet0_75_Weights,
    MNASNet1_0_Weights,
    MNASNet1_3_Weights,
    mnasnet0_5,
    mnasnet0_75,
    mnasnet1_0,
    mnasnet1_3,
)
from ember.vision.models.regnet import (
    RegNet,
    RegNet_X_16GF_Weights,
    RegNet_X_1_6GF_Weights,
    RegNet_X_32GF_Weights,
    RegNet_X_3_2GF_Weights,
    RegNet_X_400MF_Weights,
    RegNet_X_800MF_Weights,
    RegNet_X_8GF_Weights,
    RegNet_Y_16GF_Weights,
    RegNet_Y_1_6GF_Weights,
    RegNet_Y_32GF_Weights,
    RegNet_Y_3_2GF_Weights,
    RegNet_Y_400MF_Weights,
    RegNet_Y_800MF_Weights,
    RegNet_Y_8GF_Weights,
    regnet_x_16gf,
    regnet_x_1_6gf,
    regnet_x_32gf,
    regnet_x_3_2gf,
    regnet_x_400mf,
    regnet_x_800mf,
    regnet_x_8gf,
    regnet_y_16gf,
    regnet_y_1_6gf,
    regnet_y_32gf,
    regnet_y_3_2gf,
    regnet_y_400mf,
    regnet_y_800mf,
    regnet_y_8gf,
)
from ember.vision.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    ResNet101_Weights,
    ResNet152_Weights,
    ResNeXt50_32X4D_Weights,
    ResNeXt101_32X8D_Weights,
    ResNeXt101_64X4D_Weights,
    Wide_ResNet50_2_Weights,
    Wide_ResNet101_2_Weights,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    resnext101_32x8d,
    resnext101_64x4d,
    wide_resnet50_2,
    wide_resnet101_2,
)
from ember.vision.models.shufflenetv2 import (
    ShuffleNet_V2_X0_5_Weights,
    ShuffleNet_V2_X1_0_Weights,
    ShuffleNet_V2_X1_5_Weights,
    ShuffleNet_V2_X2_0_Weights,
    ShuffleNetV2,
    shufflenet_v2_x0_5,
    shufflenet_v2_x1_0,
    shufflenet_v2_x1_5,
    shufflenet_v2_x2_0,
)
from ember.vision.models.squeezenet import (
    SqueezeNet,
    SqueezeNet1_0_Weights,
    SqueezeNet1_1_Weights,
    squeezenet1_0,
    squeezenet1_1,
)
from ember.vision.models.vgg import (
    VGG,
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG13_BN_Weights,
    VGG13_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    VGG19_BN_Weights,
    VGG19_Weights,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from ember.vision.models.vision_transformer import (
    VisionTransformer,
    ViT_B_16_Weights,
    ViT_B_32_Weights,
    ViT_H_14_Weights,
    ViT_L_16_Weights,
    ViT_L_32_Weights,
    vit_b_16,
    vit_b_32,
    vit_h_14,
    vit_l_16,
    vit_l_32,
)

_BUILDERS = {"alexnet": alexnet, "mobilenet_v2": mobilenet_v2, "resnet18": resnet18,
             "resnet34": resnet34, "resnet50": resnet50, "resnet101": resnet101,
             "resnet152": resnet152, "vgg11": vgg11, "vgg11_bn": vgg11_bn, "vgg13": vgg13,
             "vgg13_bn": vgg13_bn, "vgg16": vgg16, "vgg16_bn": vgg16_bn, "vgg19": vgg19,
             "vgg19_bn": vgg19_bn}
_BUILDERS.update({fn.__name__: fn for fn in (
    convnext_tiny, convnext_small, convnext_base, convnext_large, densenet121, densenet161,
    densenet169, densenet201, efficientnet_b0, efficientnet_b1, efficientnet_b2,
    efficientnet_b3, efficientnet_b4, efficientnet_b5, efficientnet_b6, efficientnet_b7,
    efficientnet_v2_s, efficientnet_v2_m, efficientnet_v2_l, googlenet, inception_v3,
    mobilenet_v3_large,
    mobilenet_v3_small, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d, wide_resnet50_2,
    wide_resnet101_2, shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5,
    shufflenet_v2_x2_0, squeezenet1_0, squeezenet1_1, vit_b_16, vit_b_32, vit_l_16, vit_l_32,
    vit_h_14, mnasnet0_5, mnasnet0_75, mnasnet1_0, mnasnet1_3, regnet_y_400mf,
    regnet_y_800mf, regnet_y_1_6gf, regnet_y_3_2gf, regnet_y_8gf, regnet_y_16gf,
    regnet_y_32gf, regnet_x_400mf, regnet_x_800mf, regnet_x_1_6gf, regnet_x_3_2gf,
    regnet_x_8gf, regnet_x_16gf, regnet_x_32gf)})


def list_models(module=None, include=None, exclude=None) -> list:
    """The sorted names of the model builders (matches `torchvision.models.list_models`)."""
    import fnmatch

    names = sorted(_BUILDERS)
    if include:
        names = [n for n in names if fnmatch.fnmatch(n, include)]
    if exclude:
        names = [n for n in names if not fnmatch.fnmatch(n, exclude)]
    return names


def get_model_builder(name: str):
    """The builder function called name."""
    try:
        return _BUILDERS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config):
    """Build the model called name (matches `torchvision.models.get_model`)."""
    return get_model_builder(name)(**config)


_WEIGHTS = {"alexnet": AlexNet_Weights, "mobilenet_v2": MobileNet_V2_Weights,
            "resnet18": ResNet18_Weights, "resnet34": ResNet34_Weights,
            "resnet50": ResNet50_Weights, "resnet101": ResNet101_Weights,
            "resnet152": ResNet152_Weights, "vgg11": VGG11_Weights, "vgg11_bn": VGG11_BN_Weights,
            "vgg13": VGG13_Weights, "vgg13_bn": VGG13_BN_Weights, "vgg16": VGG16_Weights,
            "vgg16_bn": VGG16_BN_Weights, "vgg19": VGG19_Weights, "vgg19_bn": VGG19_BN_Weights}
_WEIGHTS.update({
    "convnext_tiny": ConvNeXt_Tiny_Weights, "convnext_small": ConvNeXt_Small_Weights,
    "convnext_base": ConvNeXt_Base_Weights, "convnext_large": ConvNeXt_Large_Weights,
    "densenet121": DenseNet121_Weights, "densenet161": DenseNet161_Weights,
    "densenet169": DenseNet169_Weights, "densenet201": DenseNet201_Weights,
    "efficientnet_b0": EfficientNet_B0_Weights, "efficientnet_b1": EfficientNet_B1_Weights,
    "efficientnet_b2": EfficientNet_B2_Weights, "efficientnet_b3": EfficientNet_B3_Weights,
    "efficientnet_b4": EfficientNet_B4_Weights, "efficientnet_b5": EfficientNet_B5_Weights,
    "efficientnet_b6": EfficientNet_B6_Weights, "efficientnet_b7": EfficientNet_B7_Weights,
    "efficientnet_v2_s": EfficientNet_V2_S_Weights,
    "efficientnet_v2_m": EfficientNet_V2_M_Weights,
    "efficientnet_v2_l": EfficientNet_V2_L_Weights, "googlenet": GoogLeNet_Weights,
    "inception_v3": Inception_V3_Weights,
    "mobilenet_v3_large": MobileNet_V3_Large_Weights,
    "mobilenet_v3_small": MobileNet_V3_Small_Weights,
    "resnext50_32x4d": ResNeXt50_32X4D_Weights, "resnext101_32x8d": ResNeXt101_32X8D_Weights,
    "resnext101_64x4d": ResNeXt101_64X4D_Weights, "wide_resnet50_2": Wide_ResNet50_2_Weights,
    "wide_resnet101_2": Wide_ResNet101_2_Weights,
    "shufflenet_v2_x0_5": ShuffleNet_V2_X0_5_Weights,
    "shufflenet_v2_x1_0": ShuffleNet_V2_X1_0_Weights,
    "shufflenet_v2_x1_5": ShuffleNet_V2_X1_5_Weights,
    "shufflenet_v2_x2_0": ShuffleNet_V2_X2_0_Weights,
    "squeezenet1_0": SqueezeNet1_0_Weights, "squeezenet1_1": SqueezeNet1_1_Weights,
    "vit_b_16": ViT_B_16_Weights, "vit_b_32": ViT_B_32_Weights, "vit_l_16": ViT_L_16_Weights,
    "vit_l_32": ViT_L_32_Weights, "vit_h_14": ViT_H_14_Weights, "mnasnet0_5":
    MNASNet0_5_Weights, "mnasnet0_75": MNASNet0_75_Weights, "mnasnet1_0":
    MNASNet1_0_Weights, "mnasnet1_3": MNASNet1_3_Weights, "regnet_y_400mf":
    RegNet_Y_400MF_Weights, "regnet_y_800mf": RegNet_Y_800MF_Weights, "regnet_y_1_6gf":
    RegNet_Y_1_6GF_Weights, "regnet_y_3_2gf": RegNet_Y_3_2GF_Weights, "regnet_y_8gf":
    RegNet_Y_8GF_Weights, "regnet_y_16gf": RegNet_Y_16GF_Weights, "regnet_y_32gf":
    RegNet_Y_32GF_Weights, "regnet_x_400mf": RegNet_X_400MF_Weights, "regnet_x_800mf":
    RegNet_X_800MF_Weights, "regnet_x_1_6gf": RegNet_X_1_6GF_Weights, "regnet_x_3_2gf":
    RegNet_X_3_2GF_Weights, "regnet_x_8gf": RegNet_X_8GF_Weights, "regnet_x_16gf":
    RegNet_X_16GF_Weights, "regnet_x_32gf": RegNet_X_32GF_Weights})


def get_model_weights(name):
    """The weights enum of a model builder or its name."""
    return _WEIGHTS[name if isinstance(name, str) else name.__name__]


__all__ = ["AlexNet", "AlexNet_Weights", "BasicBlock", "Bottleneck", "ConvNeXt",
           "ConvNeXt_Base_Weights", "ConvNeXt_Large_Weights", "ConvNeXt_Small_Weights",
           "ConvNeXt_Tiny_Weights", "DenseNet", "DenseNet121_Weights",
           "DenseNet161_Weights", "DenseNet169_Weights", "DenseNet201_Weights",
           "EfficientNet", "EfficientNet_B0_Weights", "EfficientNet_B1_Weights",
           "EfficientNet_B2_Weights", "EfficientNet_B3_Weights",
           "EfficientNet_B4_Weights", "EfficientNet_B5_Weights",
           "EfficientNet_B6_Weights", "EfficientNet_B7_Weights",
           "EfficientNet_V2_L_Weights", "EfficientNet_V2_M_Weights",
           "EfficientNet_V2_S_Weights", "GoogLeNet", "GoogLeNetOutputs",
           "GoogLeNet_Weights", "Inception3", "InceptionOutputs",
           "Inception_V3_Weights", "MNASNet", "MNASNet0_5_Weights",
           "MNASNet0_75_Weights", "MNASNet1_0_Weights", "MNASNet1_3_Weights",
           "MobileNetV2", "MobileNetV3", "MobileNet_V2_Weights",
           "MobileNet_V3_Large_Weights", "MobileNet_V3_Small_Weights", "RegNet",
           "RegNet_X_16GF_Weights", "RegNet_X_1_6GF_Weights", "RegNet_X_32GF_Weights",
           "RegNet_X_3_2GF_Weights", "RegNet_X_400MF_Weights", "RegNet_X_800MF_Weights",
           "RegNet_X_8GF_Weights", "RegNet_Y_16GF_Weights", "RegNet_Y_1_6GF_Weights",
           "RegNet_Y_32GF_Weights", "RegNet_Y_3_2GF_Weights", "RegNet_Y_400MF_Weights",
           "RegNet_Y_800MF_Weights", "RegNet_Y_8GF_Weights", "ResNeXt101_32X8D_Weights",
           "ResNeXt101_64X4D_Weights", "ResNeXt50_32X4D_Weights", "ResNet",
           "ResNet101_Weights", "ResNet152_Weights", "ResNet18_Weights",
           "ResNet34_Weights", "ResNet50_Weights", "ShuffleNetV2",
           "ShuffleNet_V2_X0_5_Weights", "ShuffleNet_V2_X1_0_Weights",
           "ShuffleNet_V2_X1_5_Weights", "ShuffleNet_V2_X2_0_Weights", "SqueezeNet",
           "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights", "VGG", "VGG11_BN_Weights",
           "VGG11_Weights", "VGG13_BN_Weights", "VGG13_Weights", "VGG16_BN_Weights",
           "VGG16_Weights", "VGG19_BN_Weights", "VGG19_Weights", "ViT_B_16_Weights",
           "ViT_B_32_Weights", "ViT_H_14_Weights", "ViT_L_16_Weights",
           "ViT_L_32_Weights", "VisionTransformer", "Weights", "WeightsEnum",
           "Wide_ResNet101_2_Weights", "Wide_ResNet50_2_Weights", "alexnet",
           "convnext_base", "convnext_large", "convnext_small", "convnext_tiny",
           "densenet121", "densenet161", "densenet169", "densenet201",
           "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
           "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
           "efficientnet_v2_l", "efficientnet_v2_m", "efficientnet_v2_s", "get_model",
           "get_model_builder", "get_model_weights", "googlenet", "inception_v3",
           "list_models", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
           "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "regnet_x_16gf",
           "regnet_x_1_6gf", "regnet_x_32gf", "regnet_x_3_2gf", "regnet_x_400mf",
           "regnet_x_800mf", "regnet_x_8gf", "regnet_y_16gf", "regnet_y_1_6gf",
           "regnet_y_32gf", "regnet_y_3_2gf", "regnet_y_400mf", "regnet_y_800mf",
           "regnet_y_8gf", "resnet101", "resnet152", "resnet18", "resnet34", "resnet50",
           "resnext101_32x8d", "resnext101_64x4d", "resnext50_32x4d", "seeds",
           "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
           "shufflenet_v2_x2_0", "squeezenet1_0", "squeezenet1_1", "vgg11", "vgg11_bn",
           "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "vit_b_16",
           "vit_b_32", "vit_h_14", "vit_l_16", "vit_l_32", "wide_resnet101_2",
           "wide_resnet50_2"]
