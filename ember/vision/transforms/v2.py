"""ember.vision.transforms.v2 (matches the commonly used part of `torchvision.transforms.v2`).

A v2 transform is an `nn.Module` called on any structure of inputs: `t(img)`, `t(img, label)`,
`t({"image": img, "label": 3})`. The structure is flattened (ember.utils._pytree) and only the
leaves it transforms are changed: PIL images, tv_tensors (Image, Video, Mask) and, when the
sample has no explicit image, the first plain tensor; everything else passes through. Its repr
lists its public attributes of simple types (`ToDtype(scale=True)`).

The geometric and color transforms run the v1 kernels (transforms.py, _augment.py) on each
leaf, with the same random draws for every leaf of a call (an image and its mask get the same
crop), and a tv_tensor comes back in its class.
"""

import enum
import math

import numpy as np

from ember import _dtype
from ember import nn
from ember._tensor import Tensor
from ember._warnings import warn
from ember.random import get_rng_state, set_rng_state
from ember.utils._pytree import tree_flatten, tree_unflatten
from ember.vision import tv_tensors
from ember.vision.transforms import _augment, transforms as _v1
from ember.vision.transforms import functional
from ember.vision.transforms.functional import InterpolationMode  # noqa: F401


def _is_pure_tensor(x) -> bool:
    return isinstance(x, Tensor) and not isinstance(x, tv_tensors.TVTensor)


class Transform(nn.Module):
    """The base of the v2 transforms: flattens the inputs and transforms the image-like
    leaves with `transform(inpt, params)` (matches `torchvision.transforms.v2.Transform`)."""

    _transformed_types = (Tensor, "PIL")

    def __init__(self):
        super().__init__()

    def forward(self, *inputs):
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        needs = self._needs_transform_list(flat_inputs)
        params = self.make_params([x for x, n in zip(flat_inputs, needs) if n])
        flat_outputs = [self.transform(x, params) if n else x for x, n in zip(flat_inputs, needs)]
        return tree_unflatten(flat_outputs, spec)

    def make_params(self, flat_inputs) -> dict:
        return {}

    def transform(self, inpt, params):
        raise NotImplementedError

    def _needs_transform_list(self, flat_inputs) -> list:
        """Which leaves to transform: a plain tensor only when the sample holds no explicit
        image or video, and then only the first one (torchvision's heuristic)."""
        transform_pure_tensor = not any(
            isinstance(x, (tv_tensors.Image, tv_tensors.Video)) or functional._is_pil(x)
            for x in flat_inputs)
        needs = []
        for inpt in flat_inputs:
            need = _is_type(inpt, self._transformed_types)
            if need and _is_pure_tensor(inpt):
                need, transform_pure_tensor = transform_pure_tensor, False
            needs.append(need)
        return needs

    def extra_repr(self) -> str:
        extra = [f"{name}={value}" for name, value in self._repr_fields()
                 if not name.startswith("_") and name != "training"
                 and isinstance(value, (bool, int, float, str, tuple, list, enum.Enum))]
        return ", ".join(extra)

    def _repr_fields(self):
        """(name, value) of the attributes the repr lists, in the order they were set."""
        return self.__dict__.items()


def _is_type(inpt, types) -> bool:
    """inpt is of one of types ("PIL" standing for PIL images, "ndarray" for NumPy's)."""
    for t in types:
        if t == "PIL" and functional._is_pil(inpt):
            return True
        if t == "ndarray" and isinstance(inpt, np.ndarray):
            return True
        if t == "pure" and _is_pure_tensor(inpt):
            return True
        if isinstance(t, type) and isinstance(inpt, t):
            return True
    return False


def _rewrap(output, like):
    """A kernel's output in its input's tv_tensor class."""
    if isinstance(like, tv_tensors.TVTensor) and isinstance(output, Tensor):
        return tv_tensors.wrap(output, like=like)
    return output


class _FromV1(Transform):
    """A v2 transform running its v1 namesake's forward on each leaf it transforms.

    Every leaf sees the same random draws (the generator's state is set back before each
    one and left as after one), so an image and its mask get the same crop or flip, as
    torchvision draws a call's parameters once. A Mask is resized and rotated with NEAREST
    interpolation, and passes through the color transforms, as in torchvision.
    """

    _color = False  # (a color transform leaves masks alone)

    def forward(self, *inputs):
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        needs = self._needs_transform_list(flat_inputs)
        start, after = get_rng_state(), None
        flat_outputs = []
        for inpt, need in zip(flat_inputs, needs):
            if need:
                if after is not None:
                    set_rng_state(start)
                inpt = self.transform(inpt, {})
                after = get_rng_state() if after is None else after
            flat_outputs.append(inpt)
        if after is not None:
            set_rng_state(after)
        return tree_unflatten(flat_outputs, spec)

    def transform(self, inpt, params):
        if not isinstance(inpt, tv_tensors.Mask):
            return _rewrap(self._v1_forward(inpt), inpt)
        if self._color:
            return inpt
        interpolation = self.__dict__.get("interpolation")
        if interpolation is not None:  # (nearest for masks, whatever the images get)
            self.interpolation = InterpolationMode.NEAREST
        try:
            flat = inpt.ndim == 2  # (a (H, W) mask through the (C, H, W) kernels)
            out = self._v1_forward(inpt.unsqueeze(0) if flat else _plain_mask(inpt))
            return tv_tensors.wrap(out[0] if flat else out, like=inpt)
        finally:
            if interpolation is not None:
                self.interpolation = interpolation

    def _repr_fields(self):
        # the attributes as torchvision's v2 class sets them (order and form)
        fields = _V2_FIELDS.get(type(self).__name__)
        return fields(self) if fields else self.__dict__.items()


def _plain_mask(mask):
    """A mask's data as a plain tensor."""
    return mask.as_subclass(Tensor)


def _pad4(padding) -> list:
    """Padding as v2 keeps it: [left, top, right, bottom]."""
    if isinstance(padding, int):
        return [padding] * 4
    padding = list(padding)
    return padding * 4 if len(padding) == 1 else padding * 2 if len(padding) == 2 else padding


def _erasing_value(value):
    """RandomErasing's value as v2 keeps it: a list of floats, None for "random"."""
    if isinstance(value, (int, float)):
        return [float(value)]
    return None if isinstance(value, str) else list(value) if isinstance(value, tuple) else value


_V2_FIELDS = {
    "RandomResizedCrop": lambda t: [("size", t.size), ("scale", t.scale), ("ratio", t.ratio),
                                    ("interpolation", t.interpolation),
                                    ("antialias", t.antialias)],
    "Resize": lambda t: [("size", [t.size] if isinstance(t.size, int) else t.size and
                          list(t.size)), ("max_size", t.max_size),
                         ("interpolation", t.interpolation), ("antialias", t.antialias)],
    "RandomCrop": lambda t: [("size", t.size),
                             ("padding", _pad4(t.padding) if t.padding else None),
                             ("pad_if_needed", t.pad_if_needed), ("fill", t.fill),
                             ("padding_mode", t.padding_mode)],
    "Pad": lambda t: [("padding", _pad4(t.padding)), ("fill", t.fill),
                      ("padding_mode", t.padding_mode)],
    "GaussianBlur": lambda t: [("kernel_size", t.kernel_size), ("sigma", list(t.sigma))],
    "RandomErasing": lambda t: [("p", t.p), ("scale", t.scale), ("ratio", t.ratio),
                                ("value", _erasing_value(t.value)), ("inplace", t.inplace)],
}


def _from_v1(v1_class, doc: str):
    """The v2 class of a v1 transform (same constructor and kernel, v2 calling and repr)."""
    return type(v1_class.__name__, (_FromV1, v1_class),
                {"__doc__": doc, "__module__": __name__, "__init__": v1_class.__init__,
                 "_v1_forward": v1_class.forward,
                 "__repr__": nn.Module.__repr__, "forward": _FromV1.forward})


CenterCrop = _from_v1(_v1.CenterCrop, "Crop the center (matches `v2.CenterCrop`).")
Grayscale = _from_v1(_v1.Grayscale, "To grayscale (matches `v2.Grayscale`).")
Pad = _from_v1(_v1.Pad, "Pad the borders (matches `v2.Pad`).")
Resize = _from_v1(_v1.Resize, "Resize (matches `v2.Resize`).")
ColorJitter = _from_v1(_augment.ColorJitter, "Random color changes (matches `v2.ColorJitter`).")
GaussianBlur = _from_v1(_augment.GaussianBlur, "Gaussian blur (matches `v2.GaussianBlur`).")
Grayscale._color = ColorJitter._color = GaussianBlur._color = True
RandomAffine = _from_v1(_augment.RandomAffine, "Random affine map (`v2.RandomAffine`).")
RandomCrop = _from_v1(_augment.RandomCrop, "Random crop (matches `v2.RandomCrop`).")
RandomErasing = _from_v1(_augment.RandomErasing, "Random erasing (`v2.RandomErasing`).")
RandomGrayscale = _from_v1(_augment.RandomGrayscale, "Random grayscale (`v2.RandomGrayscale`).")
RandomGrayscale._color = RandomErasing._color = True
RandomHorizontalFlip = _from_v1(_augment.RandomHorizontalFlip,
                                "Random horizontal flip (`v2.RandomHorizontalFlip`).")
RandomVerticalFlip = _from_v1(_augment.RandomVerticalFlip,
                              "Random vertical flip (`v2.RandomVerticalFlip`).")


class RandomResizedCrop(_from_v1(_augment.RandomResizedCrop, "")):
    """Random crop, resized (matches `v2.RandomResizedCrop`): its aspect ratio's exp is taken
    in float64 (`math.exp`), v1's in float32."""

    def _v1_forward(self, img):
        i, j, h, w = _augment.resized_crop_params(
            img, self.scale, self.ratio, lambda log_ratio: math.exp(
                _augment._uniform(log_ratio[0], log_ratio[1])))
        return functional.resized_crop(img, i, j, h, w, self.size, self.interpolation,
                                       antialias=self.antialias)

RandomRotation = _from_v1(_augment.RandomRotation, "Random rotation (`v2.RandomRotation`).")


class Normalize(_FromV1, _v1.Normalize):
    """(x − mean[c]) / std[c] per channel (matches `v2.Normalize`); PIL images refused."""

    _transformed_types = (Tensor,)
    _color = True  # (masks pass through)
    _v1_forward = _v1.Normalize.forward
    __repr__ = nn.Module.__repr__
    forward = _FromV1.forward

    def __init__(self, mean, std, inplace: bool = False):
        _v1.Normalize.__init__(self, mean, std, inplace)
        self.mean, self.std = list(mean), list(std)


class Lambda(Transform):
    """Apply a function to every leaf of the types given (matches `v2.Lambda`)."""

    def __init__(self, lambd, *types):
        super().__init__()
        self.lambd = lambd
        self.types = types or (object,)

    def transform(self, inpt, params):
        return self.lambd(inpt) if isinstance(inpt, self.types) else inpt

    def extra_repr(self) -> str:
        name = getattr(self.lambd, "__name__", None)
        types = f"types={[t.__name__ for t in self.types]}"
        return f"{name}, {types}" if name else types


class Compose(Transform):
    """Apply transforms one after the other to the whole sample (matches `v2.Compose`)."""

    def __init__(self, transforms):
        super().__init__()
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not transforms:
            raise ValueError("Pass at least one transform")
        self.transforms = transforms

    def forward(self, *inputs):
        needs_unpacking = len(inputs) > 1
        for transform in self.transforms:
            outputs = transform(*inputs)
            inputs = outputs if needs_unpacking else (outputs,)
        return outputs

    def extra_repr(self) -> str:
        return "\n".join(f"    {t}" for t in self.transforms)


class ToImage(Transform):
    """PIL image, ndarray (H, W, C) or plain tensor -> tv_tensors.Image (matches
    `v2.ToImage`)."""

    _transformed_types = ("pure", "PIL", "ndarray")

    def transform(self, inpt, params):
        if isinstance(inpt, np.ndarray):
            array = inpt[:, :, None] if inpt.ndim == 2 else inpt
            inpt = Tensor._make(np.ascontiguousarray(array.transpose(2, 0, 1)))
        return tv_tensors.Image(inpt)


class ToPureTensor(Transform):
    """tv_tensors -> plain tensors (matches `v2.ToPureTensor`)."""

    _transformed_types = (tv_tensors.TVTensor,)

    def transform(self, inpt, params):
        return inpt.as_subclass(Tensor)


class PILToTensor(Transform):
    """PIL image -> plain (C, H, W) tensor of its dtype (matches `v2.PILToTensor`)."""

    _transformed_types = ("PIL",)

    def transform(self, inpt, params):
        return functional.pil_to_tensor(inpt)


class ToPILImage(Transform):
    """Plain tensor, Image or ndarray -> PIL image (matches `v2.ToPILImage`)."""

    _transformed_types = ("pure", tv_tensors.Image, "ndarray")

    def __init__(self, mode=None):
        super().__init__()
        self.mode = mode

    def transform(self, inpt, params):
        return functional.to_pil_image(inpt, mode=self.mode)


class ToTensor(Transform):
    """Deprecated: PIL image or ndarray -> float tensor in [0, 1] (matches `v2.ToTensor`)."""

    _transformed_types = ("pure", "PIL", "ndarray")

    def __init__(self):
        warn("The transform `ToTensor()` is deprecated and will be removed in a future release. "
             "Instead, please use `v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, "
             "scale=True)])`.Output is equivalent up to float precision.")
        super().__init__()

    def transform(self, inpt, params):
        return functional.to_tensor(inpt)


class ToDtype(Transform):
    """Convert tensors' dtype; with scale=True rescale images' values (ints span 0..max,
    floats 0..1) (matches `v2.ToDtype`). dtype may be a dict: {tv_tensor class or "others":
    dtype or None}."""

    _transformed_types = (Tensor,)

    def __init__(self, dtype, scale: bool = False):
        super().__init__()
        if not isinstance(dtype, (dict, _dtype.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        if isinstance(dtype, dict) and Tensor in dtype and any(
                cls in dtype for cls in (tv_tensors.Image, tv_tensors.Video)):
            warn("Got `dtype` values for `torch.Tensor` and either `tv_tensors.Image` or "
                 "`tv_tensors.Video`. Note that a plain `torch.Tensor` will *not* be transformed "
                 "by this (or any other transformation) in case a `tv_tensors.Image` or "
                 "`tv_tensors.Video` is present in the input.")
        self.dtype = dtype
        self.scale = scale

    def transform(self, inpt, params):
        image_like = _is_pure_tensor(inpt) or isinstance(inpt, (tv_tensors.Image,
                                                                tv_tensors.Video))
        if isinstance(self.dtype, _dtype.dtype):
            if not image_like:  # only images and videos, as ConvertImageDtype
                return inpt
            dtype = self.dtype
        elif type(inpt) in self.dtype:
            dtype = self.dtype[type(inpt)]
        elif "others" in self.dtype:
            dtype = self.dtype["others"]
        else:
            raise ValueError(f"No dtype was specified for type {type(inpt)}. If you only need "
                             "to convert the dtype of images or videos, you can just pass e.g. "
                             "dtype=torch.float32. If you're passing a dict as dtype, you can "
                             'use "others" as a catch-all key e.g. dtype={tv_tensors.Mask: '
                             'torch.int64, "others": None} to pass-through the rest of the '
                             "inputs.")
        if dtype is None:
            if self.scale and image_like:
                warn("scale was set to True but no dtype was specified for images or videos: "
                     "no scaling will be done.")
            return inpt
        return _rewrap(to_dtype(inpt, dtype, scale=self.scale and image_like), inpt)


class ConvertImageDtype(Transform):
    """Convert images' dtype rescaling their values (matches `v2.ConvertImageDtype`)."""

    _transformed_types = ("pure", tv_tensors.Image, tv_tensors.Video)

    def __init__(self, dtype=_dtype.float32):
        super().__init__()
        self.dtype = dtype

    def transform(self, inpt, params):
        return _rewrap(to_dtype(inpt, self.dtype, scale=True), inpt)


def to_dtype(image: Tensor, dtype=_dtype.float32, scale: bool = False) -> Tensor:
    """image in dtype; scaled: ints span 0..max and floats 0..1 (matches `v2.functional.
    to_dtype`; unlike v1's convert_image_dtype, int to float multiplies by 1 / max)."""
    dtype = _dtype.to_dtype(dtype)
    if image.dtype is dtype:
        return image
    if not scale:
        return image.to(dtype)
    if image.dtype.is_floating_point:
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype is _dtype.float32 and dtype in (_dtype.int32, _dtype.int64)) or (
                image.dtype is _dtype.float64 and dtype is _dtype.int64):
            raise RuntimeError(f"The conversion from {image.dtype} to {dtype} cannot be "
                               "performed safely.")
        return image.mul(float(_max_value(dtype)) + 1.0 - 1e-3).to(dtype)
    if dtype.is_floating_point:
        return image.to(dtype).mul_(1.0 / _max_value(image.dtype))
    bits_in, bits_out = _value_bits(image.dtype), _value_bits(dtype)
    if bits_in > bits_out:
        return image.bitwise_right_shift(bits_in - bits_out).to(dtype)
    return image.to(dtype).bitwise_left_shift_(bits_out - bits_in)


def _max_value(dtype) -> int:
    return 1 if dtype is _dtype.bool else int(np.iinfo(dtype.numpy).max)


def _value_bits(dtype) -> int:
    return 1 if dtype is _dtype.bool else np.iinfo(dtype.numpy).bits - \
        (1 if np.iinfo(dtype.numpy).min < 0 else 0)
