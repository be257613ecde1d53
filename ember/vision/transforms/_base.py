"""The bases of the transform classes and the size check they share (`_Callable`,
`Transform`, `_setup_size`); the transforms themselves are in transforms.py and _augment.py."""

import numbers
from collections.abc import Sequence

from ember import nn


def _setup_size(size, error_msg: str) -> tuple:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size[0], size[1]


class _Callable:
    """Base of the transforms that torchvision keeps as plain callables (Compose, ToTensor,
    PILToTensor, ToPILImage, Lambda): `__call__` runs `forward`."""

    def __call__(self, *args):
        return self.forward(*args)

    def forward(self, img):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Transform(nn.Module):
    """Base of the transforms that are `nn.Module`s in torchvision (so that they also go in an
    `nn.Sequential`); each subclass calls `super().__init__()` and defines `forward`."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
