"""Pretrained-weight descriptions and their loading (matches `torchvision.models.WeightsEnum`).

NOTE [Pretrained weights offline]
Weights are PyTorch checkpoints fetched from download.pytorch.org into PyTorch's own cache
(`$TORCH_HOME/hub/checkpoints`, by default ~/.cache/torch/hub/checkpoints), so a file that
PyTorch already downloaded is reused, and a user without network can copy the .pth there.
Without the file and without network, the error says exactly that, naming the URL and folder.
"""

import hashlib
import os
import re
from dataclasses import dataclass, field
from enum import Enum

from ember._warnings import warn
from ember.serialization import load
from ember.vision import transforms as T
from ember.vision.datasets.utils import download_url

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def get_dir() -> str:
    """PyTorch's hub directory: $TORCH_HOME/hub (default ~/.cache/torch/hub)."""
    torch_home = os.path.expanduser(os.getenv(
        "TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))
    return os.path.join(torch_home, "hub")


def load_state_dict_from_url(url: str, model_dir=None, map_location=None, progress=True,
                             check_hash: bool = False, file_name=None, weights_only=True):
    """Load a checkpoint from the cache, downloading it first if needed (matches
    `torch.hub.load_state_dict_from_url`)."""
    model_dir = model_dir or os.path.join(get_dir(), "checkpoints")
    filename = file_name or os.path.basename(url)
    cached = os.path.join(model_dir, filename)
    if not os.path.isfile(cached):
        download_url(url, model_dir, filename)
        if check_hash:
            _check_hash_prefix(cached)
    return load(cached, map_location=map_location, weights_only=weights_only)


def _check_hash_prefix(path: str) -> None:
    """Checkpoint names end in -<first hex digits of their SHA-256>.pth; check them."""
    match = re.search(r"-([a-f0-9]*)\.", os.path.basename(path))
    if not match:
        return
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if not digest.hexdigest().startswith(match.group(1)):
        os.remove(path)
        raise RuntimeError(f'invalid hash value (expected "{match.group(1)}", got '
                           f'"{digest.hexdigest()}")')


@dataclass(eq=False)
class Weights:
    """A pretrained checkpoint: where it is and what it expects."""

    url: str
    num_params: int
    meta: dict = field(default_factory=dict)

    def transforms(self):
        """The ImageNet evaluation preprocessing these weights were trained with."""
        crop = self.meta.get("crop_size", 224)
        interpolation = getattr(T.InterpolationMode, self.meta.get("interpolation", "BILINEAR"))
        return T.Compose([T.Resize(self.meta.get("resize_size", 256), interpolation=interpolation),
                          T.CenterCrop(crop), T.ToTensor(),
                          T.Normalize(self.meta.get("mean", _IMAGENET_MEAN),
                                      self.meta.get("std", _IMAGENET_STD))])


class WeightsEnum(Enum):
    """An enum of Weights; members are looked up by name ('IMAGENET1K_V1', 'DEFAULT')."""

    @classmethod
    def verify(cls, obj):
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            try:
                return cls[obj.replace(cls.__name__ + ".", "")]
            except KeyError:
                raise ValueError(f"Failed to find Weights {obj} in {cls.__name__}.") from None
        raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                        f"{type(obj).__name__}.")

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def meta(self) -> dict:
        return {"num_params": self.value.num_params, "num_classes": 1000, **self.value.meta}

    def transforms(self):
        return self.value.transforms()

    def get_state_dict(self, progress: bool = True, check_hash: bool = True):
        return load_state_dict_from_url(self.url, progress=progress, check_hash=check_hash)

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


def handle_legacy(weights_enum, weights, kwargs: dict):
    """Resolve `weights` (and the legacy `pretrained=True`) to a member of weights_enum."""
    if isinstance(weights, bool) or (weights is None and "pretrained" in kwargs):
        weights = _legacy_weights(weights_enum, weights, kwargs)
    weights = weights_enum.verify(weights)
    if weights is not None:
        num_classes = kwargs.get("num_classes", 1000)
        if num_classes != 1000:
            raise ValueError(f"The parameter 'num_classes' expected value 1000 but got "
                             f"{num_classes} instead.")
    return weights


def _legacy_weights(weights_enum, weights, kwargs: dict):
    """The weights a legacy `pretrained=flag` (or `weights=flag`) stands for, with
    torchvision's deprecation warnings (its `handle_legacy_interface`)."""
    flag_as_weights = isinstance(weights, bool)
    pretrained = weights if flag_as_weights else kwargs.pop("pretrained")
    # the legacy default is every builder's first ImageNet checkpoint, not its DEFAULT
    default = weights_enum.IMAGENET1K_V1 if pretrained else None
    if not flag_as_weights:
        warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the "
             "future, please use 'weights' instead.")
    message = ("Arguments other than a weight enum or `None` for 'weights' are deprecated since "
               "0.13 and may be removed in the future. The current behavior is equivalent to "
               f"passing `weights={default}`.")
    if pretrained:
        message += (f" You can also use `weights={weights_enum.__name__}.DEFAULT` to get the "
                    "most up-to-date weights.")
    warn(message)
    return default


def fetch_state(weights, progress: bool = True):
    """The pretrained state_dict (None for weights=None), fetched before the model is built so
    that an offline run fails at once."""
    if weights is None:
        return None
    return weights.get_state_dict(progress=progress, check_hash=True)


def load_weights(model, state):
    """Load a fetched state into the freshly built model."""
    if state is not None:
        model.load_state_dict(state)
    return model
