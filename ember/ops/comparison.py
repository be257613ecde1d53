"""Comparisons, logical and bitwise ops, where, clamp, maximum/minimum.

Comparisons return bool tensors and are not differentiable. where/clamp/maximum/minimum route
the gradient with a constant mask; PyTorch's conventions at ties and bounds are noted per op.
"""

from ember import _dtype
from ember._backend import get_array_module, quiet, xp
from ember._registry import op, tensor_method
from ember.ops._out_rules import where_out
from ember._schemas import type_name
from ember._tensor import Tensor, short_name
from ember.autograd import grad_mode
from ember.autograd._shown_graph import tensor_slots
from ember.autograd.function import Op
from ember.ops._opmath import magnitude
from ember.ops._selection import where_array
from ember.ops.relu_kernels import kept
from ember.ops._util import as_operand, binary_operands, broadcast_error, check_broadcast
from ember.ops.broadcast import sum_to
from ember.ops._wirtinger import refuse_complex


def _constant(array) -> Tensor:
    return Tensor._make(xp.asanyarray(array))


def kept_gradient(gy: Tensor, keep) -> Tensor:
    """gy where the bool array `keep` holds, else +0: PyTorch's `cond ? grad : 0` backwards,
    where an inf or NaN gradient stays out of the zeros (a product with the mask would make
    them NaN). One integer pass for a first-order gradient, a `where` under create_graph."""
    g = gy._data
    if (not grad_mode._state["enabled"] and type(g) is xp.ndarray and g.dtype.kind == "f"
            and keep.shape == g.shape):
        return Tensor._make(kept(g, keep))
    zero = _constant(get_array_module(g).zeros((), dtype=g.dtype))
    return where(_constant(keep), gy, zero)


def zero_gradient(gy: Tensor) -> Tensor:
    """+0 of gy's shape and dtype: the gradient of a piecewise-constant function (PyTorch's
    zeros_like(grad), which an inf or NaN grad does not reach, unlike grad·0)."""
    return Tensor._make(get_array_module(gy._data).zeros(gy._data.shape, dtype=gy._data.dtype))


def require_tensors(name, input, other=None, both=False):
    """PyTorch's TypeError when a Python number stands where `name` takes a tensor: the input
    always (`torch.eq(1, t)`), the other operand too when both must be tensors
    (`torch.maximum(t, 2)`)."""
    for position, (arg, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor) and (position == 1 or both):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")


def _compare(array_fn, name, both=False, **faces):
    """The op `name` comparing two operands elementwise, declared with its `faces` (see
    `ember._registry.op`): a method with `out=`, plus the given aliases and operators.
    both: the other operand must be a tensor too (logical ops)."""

    def fn(input, other):
        require_tensors(name, input, other, both)
        a, b = binary_operands(input, other)
        if name in ("lt", "le", "gt", "ge"):
            refuse_complex(a, NotImplementedError,
                           f'"{name}_cpu" not implemented for \'{short_name(a.dtype)}\'')
        try:
            return _constant(array_fn(a._data, b._data))
        except ValueError:
            raise broadcast_error(a._data.shape, b._data.shape) from None

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}, a bool tensor (matches `torch.{name}`)."
    return op(method=True, out=True, **faces)(fn)


# In-place comparisons (`x.eq_(y)`) write 1/0 in x's own dtype, as in PyTorch.
eq = _compare(xp.equal, "eq", operators=("__eq__",), inplace=True)
ne = _compare(xp.not_equal, "ne", aliases=("not_equal",), operators=("__ne__",), inplace=True)
lt = _compare(xp.less, "lt", aliases=("less",), operators=("__lt__",), inplace=True)
le = _compare(xp.less_equal, "le", aliases=("less_equal",), operators=("__le__",),
              inplace=True)
gt = _compare(xp.greater, "gt", aliases=("greater",), operators=("__gt__",), inplace=True)
ge = _compare(xp.greater_equal, "ge", aliases=("greater_equal",), operators=("__ge__",),
              inplace=True)
logical_and = _compare(xp.logical_and, "logical_and", True, inplace=True)
logical_or = _compare(xp.logical_or, "logical_or", True, inplace=True)
logical_xor = _compare(xp.logical_xor, "logical_xor", True, inplace=True)


@op(method=True, inplace=True, out=True)
def logical_not(input: Tensor) -> Tensor:
    """Elementwise not, a bool tensor (matches `torch.logical_not`)."""
    return _constant(xp.logical_not(input._data))


def _bitwise(array_fn, name, operators):
    """The bitwise op `name` of integer or bool operands: a method, its in-place form and the
    operators `operators` (`__and__`, `__rand__`, then `__iand__` for the in-place form)."""

    def fn(input, other):
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type_name(input)}")
        a, b = binary_operands(input, other)
        check_broadcast(a._data.shape, b._data.shape)
        if a.dtype.is_floating_point or a.dtype.is_complex:  # torch has no such kernel
            raise NotImplementedError(
                f'"{name}_cpu" not implemented for \'{short_name(a.dtype)}\'')
        return _constant(array_fn(a._data, b._data))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} of integer or bool tensors (matches `torch.{name}`)."
    return op(method=True, inplace=True, operators=operators[:2],
              inplace_operators=operators[2:], out=True)(fn)


bitwise_and = _bitwise(xp.bitwise_and, "bitwise_and", ("__and__", "__rand__", "__iand__"))
bitwise_or = _bitwise(xp.bitwise_or, "bitwise_or", ("__or__", "__ror__", "__ior__"))
bitwise_xor = _bitwise(xp.bitwise_xor, "bitwise_xor", ("__xor__", "__rxor__", "__ixor__"))


def _reflected_bitwise(fn, name):
    """`Tensor.__rand__` etc.: called on a non-tensor (`Tensor.__rand__(2, t)`) it is torch's
    TypeError, not a result."""

    def method(self, other):
        if not isinstance(self, Tensor):
            raise TypeError(f"descriptor '{name}' for 'torch._C.TensorBase' objects doesn't "
                            f"apply to a '{type(self).__name__}' object")
        return fn(self, other)

    method.__name__ = method.__qualname__ = name
    return tensor_method(name)(method)


for _fn, _name in ((bitwise_and, "__rand__"), (bitwise_or, "__ror__"), (bitwise_xor, "__rxor__")):
    _reflected_bitwise(_fn, _name)


@op(method=True, inplace=True, out="same")
def bitwise_not(input: Tensor) -> Tensor:
    """~input: logical not for bool, two's complement for integers (matches `torch.bitwise_not`)."""
    if input.dtype.is_floating_point or input.dtype.is_complex:
        raise NotImplementedError(
            f'"bitwise_not_cpu" not implemented for \'{short_name(input.dtype)}\'')
    return _constant(xp.invert(input._data))


@tensor_method("__invert__")
def tensor_invert(self) -> Tensor:
    """`~t` (matches torch: a TypeError for floating tensors, where bitwise_not raises
    NotImplementedError)."""
    if self.dtype.is_floating_point or self.dtype.is_complex:
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


@op(method=True)
def isnan(input):
    return _constant(xp.isnan(input._data))


@op(method=True)
def isinf(input):
    return _constant(xp.isinf(input._data))


@op(method=True)
def isfinite(input):
    return _constant(xp.isfinite(input._data))


@op(method=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol·|other| elementwise (matches `torch.isclose`)."""
    require_tensors("isclose", input, other, both=True)
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {value}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{short_name(input.dtype)} did not match {short_name(other.dtype)}")
    check_broadcast(input._data.shape, other._data.shape)
    return _constant(_isclose_arrays(input._data, other._data, rtol, atol, equal_nan))


def _isclose_arrays(a, b, rtol, atol, equal_nan):
    """PyTorch's isclose on arrays: equal, or (NaN and NaN with equal_nan), or a finite
    |a - b| <= atol + |rtol·b| computed in the tensors' own dtype (integers and bools in the
    default float dtype, as torch casts them); NumPy's isclose works in float64 instead."""
    close = a == b
    if equal_nan and a.dtype.kind in "fc":
        close |= xp.isnan(a) & xp.isnan(b)
    if rtol == 0 and atol == 0:
        return close
    if a.dtype.kind in "biu":
        default = _dtype.get_default_dtype().numpy
        a, b = a.astype(default), b.astype(default)
    with quiet():  # (inf - inf and the like: not finite, so not close)
        allowed = magnitude(b * rtol) + atol
        actual = magnitude(a - b)
        close |= xp.isfinite(actual) & (actual <= allowed)
    return close


@op(method=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether all elements are close (matches `torch.allclose`: isclose(...).all(), with its
    checks)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@op(method=True)
def equal(input, other) -> bool:
    """Same shape and values (matches `torch.equal`)."""
    return input.shape == other.shape and bool(xp.array_equal(input._data, other._data))


@tensor_method("__hash__")
def tensor_hash(self):
    """Tensors hash by identity (`==` is elementwise), as in PyTorch."""
    return id(self)


class Where(Op):
    """y = a where cond else b;  ga = gy where cond,  gb = gy where not cond."""

    torch_edges = tensor_slots(1, 2)  # (PyTorch's node lists a and b, not the condition)

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        return where_array(condition._data, a._data, b._data)  # NOTE [Selecting by bits]

    @staticmethod
    def backward(ctx, gy):
        zero = _constant(get_array_module(gy._data).zeros((), dtype=gy._data.dtype))
        ga = gb = None
        if ctx.needs_input_grad[1]:
            ga = sum_to(where(ctx.condition, gy, zero), ctx._input_meta[1][0])
        if ctx.needs_input_grad[2]:
            gb = sum_to(where(ctx.condition, zero, gy), ctx._input_meta[2][0])
        return None, ga, gb


@op(out=where_out)
def where(condition, input=None, other=None):
    """Choose elements from input where condition holds, else other (matches `torch.where`)."""
    if input is None and other is None:
        return tuple(_constant(i) for i in xp.nonzero(condition._data))
    if condition.dtype is not _dtype.bool:
        if condition.dtype is _dtype.uint8:
            condition = _constant(condition._data.astype(bool))
        else:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{short_name(condition.dtype)}")
    a, b = binary_operands(input, other)
    try:
        return Where.apply(condition, a, b)
    except ValueError:
        raise _broadcast_error(condition, a, b) from None


def _broadcast_error(*operands):
    """torch's TensorIterator error: the operands' shapes broadcast one after another, the
    first that does not fit named against the shape so far."""
    shape = ()
    for operand in operands:
        try:
            shape = xp.broadcast_shapes(shape, operand._data.shape)
        except ValueError:
            return broadcast_error(shape, operand._data.shape)
    return RuntimeError(f"shapes {[list(o.shape) for o in operands]} cannot be broadcast")


class Clamp(Op):
    """y = min(max(x, lo), hi);  gx = gy where lo <= x <= hi (the bounds pass the gradient)."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        d = x._data
        if d.dtype.char in "fd":  # a missing bound as ±inf: NumPy's clip to one bound is its
            # maximum/minimum with a 0-d operand, which turns -0 into +0 (PyTorch keeps -0) and
            # has no SIMD loop; its two-bound clip keeps -0 (checked against torch)
            lo = xp.asarray(-xp.inf, dtype=d.dtype) if lo is None else lo
            hi = xp.asarray(xp.inf, dtype=d.dtype) if hi is None else hi
        return xp.clip(d, lo, hi).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = xp.ones_like(x._data, dtype=bool)
        if lo is not None:
            inside &= x._data >= lo
        if hi is not None:
            inside &= x._data <= hi
        return kept_gradient(gy, xp.broadcast_to(inside, gy._data.shape)), None, None


class ClampMin(Clamp):
    node_name = "ClampMinBackward0"


class ClampMax(Clamp):
    node_name = "ClampMaxBackward0"


@op(method=True, inplace=True, aliases=("clip",), out=True)
def clamp(input, min=None, max=None):
    """Limit values to [min, max] (matches `torch.clamp`); bounds may be numbers or tensors."""
    return _clamp(input, min, max, ClampTensor, Clamp)


def _clamp(input, min, max, tensor_node, number_node):
    """clamp through the given nodes (clamp_min/clamp_max have their own node names)."""
    refuse_complex(input, NotImplementedError,
                   "clamp is not supported for complex types")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        bounds = [v for v in (min, max) if v is not None]
        for bound in bounds:
            if isinstance(bound, Tensor):
                check_broadcast(input.shape, bound.shape)
        dtype = _dtype.result_type(input, *bounds)
        lo, hi = (None if v is None else as_operand(v, dtype) for v in (min, max))
        return tensor_node.apply(as_operand(input, dtype), lo, hi)
    if not input.dtype.is_floating_point and any(
            isinstance(v, float) for v in (min, max)):
        input = as_operand(input, _dtype.get_default_dtype())
    module = get_array_module(input._data)
    lo = None if min is None else module.asarray(min, dtype=input._data.dtype)
    hi = None if max is None else module.asarray(max, dtype=input._data.dtype)
    return number_node.apply(input, lo, hi)


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
            y = _tie_to_second(xp.maximum, y, lo._data)
        if hi is not None:
            y = _tie_to_second(xp.minimum, y, hi._data)
        return xp.asanyarray(y).astype(x._data.dtype)  # a copy, even of x

    @staticmethod
    def backward(ctx, gy):
        x, lo, hi = ctx.saved_tensors
        x, lo, hi = x._data, None if lo is None else lo._data, None if hi is None else hi._data
        inside = xp.ones_like(gy._data, dtype=bool)
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


class ClampMinTensor(ClampTensor):
    node_name = "ClampMinBackward1"


class ClampMaxTensor(ClampTensor):
    node_name = "ClampMaxBackward1"


def _routed(gy, mask, ctx, index):
    """gy where mask, summed back to input `index`'s shape (None if that input needs no grad)."""
    if not ctx.needs_input_grad[index]:
        return None
    kept = kept_gradient(gy, xp.broadcast_to(mask, gy._data.shape))
    return sum_to(kept, ctx._input_meta[index][0])


@op(method=True, inplace=True, out=True)
def clamp_min(input, min):
    """max(input, min) elementwise (matches `torch.clamp_min`)."""
    require_tensors("clamp_min", input)
    _require_bound("clamp_min", min)
    return _clamp(input, min, None, ClampMinTensor, ClampMin)


@op(method=True, inplace=True, out=True)
def clamp_max(input, max):
    """min(input, max) elementwise (matches `torch.clamp_max`)."""
    require_tensors("clamp_max", input)
    _require_bound("clamp_max", max)
    return _clamp(input, None, max, ClampMaxTensor, ClampMax)


def _require_bound(name, bound):
    """clamp_min/clamp_max need a bound: a tensor or a number (torch: TypeError otherwise)."""
    if not isinstance(bound, (Tensor, bool, int, float)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"{type(bound).__name__})")


def _tie_to_second(extreme, a, b):
    """maximum/minimum of a and b giving b where they tie (+0 and -0), as PyTorch's kernels
    do: NumPy's loops do so too except float16's, which give a."""
    return extreme(b, a) if a.dtype == xp.float16 else extreme(a, b)


class Maximum(Op):
    """y = max(a, b);  the gradient goes to the larger, split evenly at ties, and to both where
    either is NaN (PyTorch's where(a == b, g/2, g) with the smaller's entries zeroed)."""

    @staticmethod
    def forward(ctx, a, b, take_max):
        check_broadcast(a._data.shape, b._data.shape)
        ctx.save_for_backward(a, b)
        ctx.take_max = take_max
        return _tie_to_second(xp.maximum if take_max else xp.minimum, a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        shape = gy._data.shape
        tie = a._data == b._data
        shared = where(_constant(tie), gy / 2, gy) if tie.any() else gy
        ga = gb = None
        if ctx.needs_input_grad[0]:  # zeroed where b wins (a NaN on either side: nobody wins)
            a_loses = a._data < b._data if ctx.take_max else a._data > b._data
            ga = sum_to(kept_gradient(shared, xp.broadcast_to(~a_loses, shape)), a._data.shape)
        if ctx.needs_input_grad[1]:
            b_loses = a._data > b._data if ctx.take_max else a._data < b._data
            gb = sum_to(kept_gradient(shared, xp.broadcast_to(~b_loses, shape)), b._data.shape)
        return ga, gb, None


@op(method=True, out=True)
def maximum(input, other):
    """Elementwise max (matches `torch.maximum`)."""
    for operand in (input, other):  # (either side: torch refuses a complex other too)
        refuse_complex(operand, RuntimeError, "maximum not implemented for complex tensors.")
    require_tensors("maximum", input, other, both=True)
    a, b = binary_operands(input, other)
    return Maximum.apply(a, b, True)


@op(method=True, out=True)
def minimum(input, other):
    """Elementwise min (matches `torch.minimum`)."""
    for operand in (input, other):  # (either side: torch refuses a complex other too)
        refuse_complex(operand, RuntimeError, "minimum not implemented for complex tensors.")
    require_tensors("minimum", input, other, both=True)
    a, b = binary_operands(input, other)
    return Maximum.apply(a, b, False)


@op(method=True, out=True)
def fmax(input, other):
    """Elementwise max that ignores NaN (matches `torch.fmax`).

    NOTE [fmax gradient]
    PyTorch sends the gradient to `input` where input >= other or other is NaN, else to
    `other` (ties are not split, unlike maximum), which is a `where` on a constant mask.
    """
    for operand in (input, other):  # (either side: torch refuses a complex other too)
        refuse_complex(operand, RuntimeError, "fmax not implemented for complex tensors.")
    require_tensors("fmax", input, other, both=True)
    a, b = binary_operands(input, other)
    check_broadcast(a._data.shape, b._data.shape)
    keep_a = (a._data >= b._data) | xp.isnan(b._data)
    return where(_constant(keep_a), a, b)


@op(method=True, out=True)
def fmin(input, other):
    """Elementwise min that ignores NaN (matches `torch.fmin`); ties go to input."""
    for operand in (input, other):  # (either side: torch refuses a complex other too)
        refuse_complex(operand, RuntimeError, "fmin not implemented for complex tensors.")
    require_tensors("fmin", input, other, both=True)
    a, b = binary_operands(input, other)
    check_broadcast(a._data.shape, b._data.shape)
    keep_a = (a._data <= b._data) | xp.isnan(b._data)
    return where(_constant(keep_a), a, b)


@tensor_method("where")
def tensor_where(self, condition, other):
    """`x.where(condition, y)`: x where condition holds, else y (matches `Tensor.where`)."""
    return where(condition, self, other)
