"""Comparisons, logical and bitwise ops, where, clamp, maximum/minimum.

Comparisons return bool tensors and are not differentiable. where/clamp/maximum/minimum route
the gradient with a constant mask; PyTorch's conventions at ties and bounds are noted per op.
"""

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._util import as_operand, binary_operands, broadcast_error
from ember.ops.broadcast import sum_to


def _constant(array) -> Tensor:
    return Tensor._make(np.asarray(array))


def _compare(array_fn, name):
    def fn(input, other, *, out=None):
        a, b = binary_operands(input, other)
        try:
            return _constant(array_fn(a._data, b._data))
        except ValueError:
            raise broadcast_error(a._data.shape, b._data.shape) from None

    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name}, a bool tensor (matches `torch.{name}`)."
    return fn


eq = _compare(np.equal, "eq")
ne = not_equal = _compare(np.not_equal, "ne")
lt = less = _compare(np.less, "lt")
le = less_equal = _compare(np.less_equal, "le")
gt = greater = _compare(np.greater, "gt")
ge = greater_equal = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")


def logical_not(input: Tensor) -> Tensor:
    """Elementwise not, a bool tensor (matches `torch.logical_not`)."""
    return _constant(np.logical_not(input._data))


def _bitwise(array_fn, name):
    def fn(input, other):
        a, b = binary_operands(input, other)
        if a.dtype.is_floating_point:
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{a.dtype.name.capitalize()}\'')
        return _constant(array_fn(a._data, b._data))

    fn.__name__ = name
    return fn


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input: Tensor) -> Tensor:
    """~input: logical not for bool, two's complement for integers (matches `torch.bitwise_not`)."""
    if input.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return _constant(np.invert(input._data))


def isnan(input):
    return _constant(np.isnan(input._data))


def isinf(input):
    return _constant(np.isinf(input._data))


def isfinite(input):
    return _constant(np.isfinite(input._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _constant(np.isclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether all elements are close (matches `torch.allclose`)."""
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """Same shape and values (matches `torch.equal`)."""
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


class Where(Op):
    """y = a where cond else b;  ga = gy where cond,  gb = gy where not cond."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        return np.where(condition._data, a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        zero = _constant(np.zeros((), dtype=gy._data.dtype))
        ga = gb = None
        if ctx.needs_input_grad[1]:
            ga = sum_to(where(ctx.condition, gy, zero), ctx._input_meta[1][0])
        if ctx.needs_input_grad[2]:
            gb = sum_to(where(ctx.condition, zero, gy), ctx._input_meta[2][0])
        return None, ga, gb


def where(condition, input=None, other=None):
    """Choose elements from input where condition holds, else other (matches `torch.where`)."""
    if input is None and other is None:
        return tuple(_constant(i) for i in np.nonzero(condition._data))
    if condition.dtype is not _dtype.bool:
        if condition.dtype is _dtype.uint8:
            condition = _constant(condition._data.astype(bool))
        else:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{condition.dtype.name.capitalize()}")
    a, b = binary_operands(input, other)
    try:
        return Where.apply(condition, a, b)
    except ValueError:
        raise RuntimeError(
            f"The size of tensors do not broadcast: condition {list(condition.shape)}, input "
            f"{list(a.shape)}, other {list(b.shape)}") from None


class Clamp(Op):
    """y = min(max(x, lo), hi);  gx = gy where lo <= x <= hi (the bounds pass the gradient)."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return np.clip(x._data, lo, hi).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = np.ones(x._data.shape, dtype=bool)
        if lo is not None:
            inside &= x._data >= lo
        if hi is not None:
            inside &= x._data <= hi
        return gy * _constant(inside.astype(gy._data.dtype)), None, None


def clamp(input, min=None, max=None, *, out=None):
    """Limit values to [min, max] (matches `torch.clamp`); bounds may be numbers or tensors."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        bounds = [v for v in (min, max) if v is not None]
        dtype = _dtype.result_type(input, *bounds)
        lo, hi = (None if v is None else as_operand(v, dtype) for v in (min, max))
        return ClampTensor.apply(as_operand(input, dtype), lo, hi)
    if not input.dtype.is_floating_point and any(
            isinstance(v, float) for v in (min, max)):
        input = as_operand(input, _dtype.get_default_dtype())
    lo = None if min is None else np.asarray(min, dtype=input._data.dtype)
    hi = None if max is None else np.asarray(max, dtype=input._data.dtype)
    return Clamp.apply(input, lo, hi)


clip = clamp


class ClampTensor(Op):
    """y = min(max(x, lo), hi) with tensor bounds (either may be None);
    gx = gy where lo <= x <= hi;  glo = gy where x < lo < hi;  ghi = gy where x > hi or hi < lo.
    """

    node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        y = x._data
        if lo is not None:
            y = np.maximum(y, lo._data)
        if hi is not None:
            y = np.minimum(y, hi._data)
        return np.array(y, dtype=x._data.dtype, copy=True)

    @staticmethod
    def backward(ctx, gy):
        x, lo, hi = ctx.saved_tensors
        x, lo, hi = x._data, None if lo is None else lo._data, None if hi is None else hi._data
        inside = np.ones(gy._data.shape, dtype=bool)
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        grads = [_routed(gy, inside, ctx, 0)]
        if lo is not None:
            below = (x < lo) if hi is None else (x < lo) & (lo < hi)
            grads.append(_routed(gy, below, ctx, 1))
        else:
            grads.append(None)
        if hi is not None:
            above = (x > hi) if lo is None else (x > hi) | (hi < lo)
            grads.append(_routed(gy, above, ctx, 2))
        else:
            grads.append(None)
        return tuple(grads)


def _routed(gy, mask, ctx, index):
    """gy where mask, summed back to input `index`'s shape (None if that input needs no grad)."""
    if not ctx.needs_input_grad[index]:
        return None
    kept = gy * _constant(np.broadcast_to(mask, gy._data.shape).astype(gy._data.dtype))
    return sum_to(kept, ctx._input_meta[index][0])


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class Maximum(Op):
    """y = max(a, b);  the gradient goes to the larger, split evenly at ties (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, b, take_max):
        ctx.save_for_backward(a, b)
        ctx.take_max = take_max
        return np.maximum(a._data, b._data) if take_max else np.minimum(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        a_wins = a._data > b._data if ctx.take_max else a._data < b._data
        tie = a._data == b._data
        weight_a = _constant((a_wins + 0.5 * tie).astype(gy._data.dtype))
        ga = sum_to(gy * weight_a, a._data.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(gy * (1 - weight_a), b._data.shape) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def maximum(input, other):
    """Elementwise max (matches `torch.maximum`)."""
    a, b = binary_operands(input, other)
    return Maximum.apply(a, b, True)


def minimum(input, other):
    """Elementwise min (matches `torch.minimum`)."""
    a, b = binary_operands(input, other)
    return Maximum.apply(a, b, False)


def fmax(input, other):
    """Elementwise max that ignores NaN (matches `torch.fmax`).

    NOTE [fmax gradient]
    PyTorch sends the gradient to `input` where input >= other or other is NaN, else to
    `other` (ties are not split, unlike maximum), which is a `where` on a constant mask.
    """
    a, b = binary_operands(input, other)
    keep_a = (a._data >= b._data) | np.isnan(b._data)
    return where(_constant(keep_a), a, b)


def fmin(input, other):
    """Elementwise min that ignores NaN (matches `torch.fmin`); ties go to input."""
    a, b = binary_operands(input, other)
    keep_a = (a._data <= b._data) | np.isnan(b._data)
    return where(_constant(keep_a), a, b)


def _inplace(fn):
    def method(self, *args, **kwargs):
        return self._inplace_update(fn(self, *args, **kwargs))

    method.__name__ = f"{fn.__name__}_"
    return method


for _name, _fn in {
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "not_equal": ne, "less": lt,
    "less_equal": le, "greater": gt, "greater_equal": ge, "logical_and": logical_and,
    "logical_or": logical_or, "logical_xor": logical_xor, "logical_not": logical_not,
    "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor,
    "bitwise_not": bitwise_not, "isnan": isnan, "isinf": isinf, "isfinite": isfinite,
    "isclose": isclose, "allclose": allclose, "equal": equal, "where": None, "clamp": clamp,
    "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max, "maximum": maximum,
    "minimum": minimum, "fmax": fmax, "fmin": fmin,
}.items():
    if _fn is not None:
        setattr(Tensor, _name, _fn)
for _name in ("clamp", "clip", "clamp_min", "clamp_max", "logical_not", "logical_and",
              "logical_or", "logical_xor"):
    setattr(Tensor, _name + "_", _inplace(getattr(Tensor, _name)))
Tensor.where = lambda self, condition, other: where(condition, self, other)
Tensor.__eq__ = eq
Tensor.__ne__ = ne
Tensor.__lt__ = lt
Tensor.__le__ = le
Tensor.__gt__ = gt
Tensor.__ge__ = ge
Tensor.__and__ = Tensor.__rand__ = bitwise_and
Tensor.__or__ = Tensor.__ror__ = bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
Tensor.__invert__ = bitwise_not
Tensor.__iand__ = _inplace(bitwise_and)
Tensor.__ior__ = _inplace(bitwise_or)
Tensor.__ixor__ = _inplace(bitwise_xor)
Tensor.__hash__ = lambda self: id(self)
