"""Tensor subclasses that tell the v2 transforms what a tensor is (matches
`torchvision.tv_tensors`): an `Image` (C, H, W), a `Video` (T, C, H, W) or a `Mask`.

As in torchvision, an op on one of them gives a plain Tensor, except `clone`, `to`, `detach`
and `requires_grad_`, which keep the subclass; `wrap(tensor, like=...)` puts a result back in
its input's class.
"""

from ember._tensor import Tensor
from ember.ops.creation import tensor as _as_tensor


class TVTensor(Tensor):
    """The base of the tv_tensors: a Tensor that knows what it holds."""

    @classmethod
    def _wrap(cls, tensor: Tensor) -> "TVTensor":
        """tensor's data (shared) and autograd state as an instance of cls."""
        result = cls._make(tensor._data, tensor.requires_grad)
        result.grad_fn, result._output_nr = tensor.grad_fn, tensor._output_nr
        result._version_counter, result._base = tensor._version_counter, tensor._base
        return result

    @staticmethod
    def _to_tensor(data, dtype=None, device=None, requires_grad=None) -> Tensor:
        """data as a tensor (a tensor as it is, unless dtype or requires_grad change it)."""
        if requires_grad is None:
            requires_grad = data.requires_grad if isinstance(data, Tensor) else False
        if isinstance(data, Tensor):
            data = data.detach() if not requires_grad else data
            out = data if dtype is None else data.to(dtype)
        else:
            out = _as_tensor(data, dtype=dtype)
        return out.requires_grad_(requires_grad) if out.is_leaf else out

    def __repr__(self, *, tensor_contents=None) -> str:
        # torchvision appends its (here empty) extra fields to the tensor's repr: ", )"
        return f"{super().__repr__()[:-1]}, )"

    # the methods whose result keeps the subclass (torchvision's _FORCE_TORCHFUNCTION_SUBCLASS)
    def clone(self, *args, **kwargs):
        return type(self)._wrap(Tensor.clone(self, *args, **kwargs))

    def to(self, *args, **kwargs):
        return type(self)._wrap(Tensor.to(self, *args, **kwargs))

    def detach(self):
        return type(self)._wrap(Tensor.detach(self))

    def requires_grad_(self, requires_grad: bool = True):
        Tensor.requires_grad_(self, requires_grad)
        return self

    def as_subclass(self, cls):
        """The same data as an instance of cls (a plain Tensor for `torch.Tensor`)."""
        return cls._wrap(self) if issubclass(cls, TVTensor) else _plain(self)


def _plain(t: Tensor) -> Tensor:
    """t's data and autograd state as a plain Tensor."""
    result = Tensor._make(t._data, t.requires_grad)
    result.grad_fn, result._output_nr = t.grad_fn, t._output_nr
    result._version_counter, result._base = t._version_counter, t._base
    return result


class Image(TVTensor):
    """An image tensor (..., C, H, W); a 2-d input gets a channel dim, a PIL image is read."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        if _is_pil(data):
            from ember.vision.transforms import functional
            data = functional.pil_to_tensor(data)
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 2:
            raise ValueError
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
        return cls._wrap(tensor)

    def __init__(self, *args, **kwargs):
        pass


class Video(TVTensor):
    """A video tensor (..., T, C, H, W)."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 4:
            raise ValueError
        return cls._wrap(tensor)

    def __init__(self, *args, **kwargs):
        pass


class Mask(TVTensor):
    """A segmentation mask (..., H, W); a PIL image is read as one channel squeezed."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        if _is_pil(data):
            from ember.vision.transforms import functional
            data = functional.pil_to_tensor(data)[0]
        return cls._wrap(cls._to_tensor(data, dtype=dtype, device=device,
                                        requires_grad=requires_grad))

    def __init__(self, *args, **kwargs):
        pass


def _is_pil(data) -> bool:
    try:
        from PIL import Image as _PIL
    except ImportError:
        return False
    return isinstance(data, _PIL.Image)


def wrap(wrappee, *, like, **kwargs):
    """wrappee as an instance of like's tv_tensor class."""
    return type(like)._wrap(wrappee)


__all__ = ["TVTensor", "Image", "Video", "Mask", "wrap"]
