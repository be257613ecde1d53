"""ember.vision: torchvision's API (datasets, transforms, models, utils).

`import ember.vision as torchvision` gives torchvision's names; `ember run script.py` serves it
as `torchvision` to unmodified scripts.
"""

from ember.vision import datasets, io, models, ops, transforms, tv_tensors, utils

from ember.version import ember as _ember_release

# The torchvision release paired with PyTorch 2.13, whose behaviour ember.vision implements.
__version__ = f"0.28.0+ember{_ember_release}"

__all__ = ["datasets", "io", "models", "ops", "transforms", "tv_tensors", "utils"]


def get_image_backend() -> str:
    """The image backend: always 'PIL' (matches `torchvision.get_image_backend`)."""
    return "PIL"


def set_image_backend(backend: str) -> None:
    if backend != "PIL":
        raise ValueError(f"Invalid backend '{backend}'. Options are 'PIL'")
