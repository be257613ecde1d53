"""Conversions: dtype casts (`Tensor.to`, `.float()`, `.long()`, ...), `clone` and `contiguous`.

A cast is an op (`ToCopy`) so that it stays in the graph: the gradient of `x.double()` flows
back to a float32 `x` as float32.
"""

from ember import _dtype
from ember._device import check_device, device
from ember._registry import op, tensor_method
from ember._tensor import Tensor, type_name
from ember.autograd.function import Op


class ToCopy(Op):
    """y = x converted to another dtype;  gx = gy converted back to x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x._data.astype(dtype.numpy)

    @staticmethod
    def backward(ctx, gy):
        return cast(gy, ctx.input_dtype), None


def cast(x: Tensor, dtype) -> Tensor:
    """x as `dtype`, a copy that stays in the graph (what `Tensor.to(dtype)` does)."""
    dtype = _dtype.to_dtype(dtype)
    if x._data.dtype == dtype.numpy:
        return x
    return ToCopy.apply(x, dtype)


class Clone(Op):
    """y = a copy of x;  gx = gy."""

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy


@op(method=True)
def clone(x: Tensor, *, memory_format=None) -> Tensor:
    """A copy of x in new memory, differentiable (matches `torch.clone`)."""
    return Clone.apply(x)


@tensor_method("to")
def tensor_to(self, *args, **kwargs):
    """Convert dtype and/or device (CPU only) (matches `Tensor.to`)."""
    dtype = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    check_device(kwargs.get("device"))
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, _dtype.dtype):
            dtype = arg
        elif isinstance(arg, (str, device, int)):
            check_device(arg)
        elif arg in (float, int, bool):
            dtype = _dtype.to_dtype(arg)
    if dtype is None or dtype is self.dtype:
        return self.clone() if copy else self
    return cast(self, dtype)


@tensor_method("type")
def tensor_type(self, dtype=None):
    """With no argument, the type name ('torch.FloatTensor'); otherwise convert."""
    if dtype is None:
        return type_name(self)
    if isinstance(dtype, str):
        names = {"torch.FloatTensor": _dtype.float32, "torch.DoubleTensor": _dtype.float64,
                 "torch.LongTensor": _dtype.int64, "torch.IntTensor": _dtype.int32,
                 "torch.HalfTensor": _dtype.float16, "torch.ByteTensor": _dtype.uint8,
                 "torch.BoolTensor": _dtype.bool, "torch.CharTensor": _dtype.int8,
                 "torch.ShortTensor": _dtype.int16}
        dtype = names[dtype]
    return self.to(dtype)


@tensor_method("type_as")
def tensor_type_as(self, other):
    return self.to(other.dtype)


@tensor_method("float")
def tensor_float(self):
    return self.to(_dtype.float32)


@tensor_method("double")
def tensor_double(self):
    return self.to(_dtype.float64)


@tensor_method("half")
def tensor_half(self):
    return self.to(_dtype.float16)


@tensor_method("long")
def tensor_long(self):
    return self.to(_dtype.int64)


@tensor_method("int")
def tensor_int(self):
    return self.to(_dtype.int32)


@tensor_method("short")
def tensor_short(self):
    return self.to(_dtype.int16)


@tensor_method("char")
def tensor_char(self):
    return self.to(_dtype.int8)


@tensor_method("byte")
def tensor_byte(self):
    return self.to(_dtype.uint8)


@tensor_method("bool")
def tensor_bool(self):
    return self.to(_dtype.bool)


@tensor_method("contiguous")
def tensor_contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return self.clone()
