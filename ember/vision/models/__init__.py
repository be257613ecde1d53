"""ember.vision.models: classification models (matches `torchvision.models`), plus the seed
tutorials' models in `ember.vision.models.seeds`."""

from ember.vision.models import seeds
from ember.vision.models._api import Weights, WeightsEnum
from ember.vision.models.alexnet import AlexNet, AlexNet_Weights, alexnet
from ember.vision.models.mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from ember.vision.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    ResNet101_Weights,
    ResNet152_Weights,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
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

_BUILDERS = {"alexnet": alexnet, "mobilenet_v2": mobilenet_v2, "resnet18": resnet18,
             "resnet34": resnet34, "resnet50": resnet50, "resnet101": resnet101,
             "resnet152": resnet152, "vgg11": vgg11, "vgg11_bn": vgg11_bn, "vgg13": vgg13,
             "vgg13_bn": vgg13_bn, "vgg16": vgg16, "vgg16_bn": vgg16_bn, "vgg19": vgg19,
             "vgg19_bn": vgg19_bn}


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


def get_model_weights(name):
    """The weights enum of a model builder or its name."""
    return _WEIGHTS[name if isinstance(name, str) else name.__name__]


__all__ = ["VGG", "AlexNet", "AlexNet_Weights", "BasicBlock", "Bottleneck", "MobileNetV2",
           "MobileNet_V2_Weights", "ResNet", "ResNet18_Weights", "ResNet34_Weights",
           "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights", "VGG11_BN_Weights",
           "VGG11_Weights", "VGG13_BN_Weights", "VGG13_Weights", "VGG16_BN_Weights",
           "VGG16_Weights", "VGG19_BN_Weights", "VGG19_Weights", "Weights", "WeightsEnum",
           "alexnet", "get_model", "get_model_builder", "get_model_weights", "list_models",
           "mobilenet_v2", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "seeds",
           "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]
