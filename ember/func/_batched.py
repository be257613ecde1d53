"""Batched tensors: how vmap carries a batch dimension through ops without looping.

NOTE [Batched tensors]
Inside `vmap`, every input that is mapped over becomes a `BatchedTensor`: a tensor whose
*logical* shape is one batch element's (what the function sees: `x.shape`, `x.dim()`) and whose
*physical* value `_value` holds the whole batch, with the batch dimension in front. Its
`_data` is a `LogicalArray`: element 0 of the physical array, so the argument checks and shape
arithmetic every op does on `x._data.shape` see the logical shape.

Ops reach the batch through one hook in `Function.apply` (ember/autograd/function.py): while a
vmap runs, an op applied to a batched argument goes to its batching rule (ember/func/_rules.py),
which moves the batch dim where the op needs it, applies the same op once to the physical
tensors and wraps the result. Autograd records that physical op, so gradients, `grad` inside
vmap and vmap inside `grad` all work on whole batches. Ops without a rule run once per batch
element inside the hook (the per-op fallback), still one op at a time.

Each vmap is a *level*. A tensor batched at an outer level is, for an inner vmap, an ordinary
tensor: the rule for the innermost (highest) level unwraps only that level, and applying the op
to the physical tensors reaches the rules of the outer levels in turn. That is nested vmap.

Code that does array math on `x._data` without an op (comparisons, masks) works too: a
`LogicalArray` batches NumPy ufuncs, basic indexing, `astype` and `copy` the same way. Any other
use of its values (a reduction, `.item()`, `np.sort`) raises `Unbatchable`, and vmap runs the
whole function once per batch element instead: the loop is the fallback, never a wrong answer.
`STATS` counts which path ran, per op, so tests can check that the rules were used.
"""

import collections

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.gradients import Unbatchable, VmapRefused  # noqa: F401  (vmap's signals)

ACTIVE_SIZES = []  # the batch size of each running vmap, outermost (level 1) first
STATS = {"rule": collections.Counter(), "op_fallback": collections.Counter(),
         "function_fallback": collections.Counter()}


def reset_stats() -> None:
    """Clear the counters of which vmap path ran."""
    for counter in STATS.values():
        counter.clear()


def _refuse(name):
    def method(self, *args, **kwargs):
        raise Unbatchable(f"ndarray.{name}")

    method.__name__ = name
    return method


def _refused_property(name):
    return property(_refuse(name))


class LogicalArray(xp.ndarray):
    """The `_data` of a batched tensor: one batch element's view, carrying the whole batch."""

    _physical = None  # the array of the whole batch, batch dim first
    _level = 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """An elementwise NumPy ufunc on batched arrays, computed on the whole batch."""
        if method != "__call__" or ufunc.signature is not None or "out" in kwargs:
            raise Unbatchable(f"{ufunc.__name__}.{method}")
        level = max(array_level(a) for a in inputs)
        rank = max(xp.ndim(a) for a in inputs)
        physical = [_aligned_array(a, level, rank) for a in inputs]
        result = getattr(ufunc, method)(*physical, **kwargs)
        if isinstance(result, tuple):
            return tuple(logical_array(r, level) for r in result)
        return logical_array(result, level)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in _SHAPE_FUNCTIONS and args and args[0] is self:
            return _SHAPE_FUNCTIONS[func.__name__](self, *args[1:], **kwargs)
        if func.__name__ in _REDUCTIONS and args and args[0] is self:
            return _reduce(self, func, args[1:], kwargs)
        if func.__name__ not in _METADATA_FUNCTIONS:
            raise Unbatchable(f"numpy.{func.__name__}")
        args = [plain_view(a) if isinstance(a, LogicalArray) else a for a in args]
        return func(*args, **kwargs)

    def __getitem__(self, index):
        """Basic indexing (ints, slices, None, ...) of every batch element."""
        items = index if isinstance(index, tuple) else (index,)
        for item in items:
            if not (item is None or item is Ellipsis or isinstance(item, (int, slice, xp.integer))):
                raise Unbatchable("advanced indexing of a batched array")
        if Ellipsis not in items:
            items = items + (Ellipsis,)
        return logical_array(self._physical[(slice(None),) + items], self._level)

    def astype(self, dtype, *args, **kwargs):
        """The cast of every batch element."""
        return logical_array(self._physical.astype(dtype, *args, **kwargs), self._level)

    def copy(self, order="C"):
        """A copy of every batch element."""
        return logical_array(self._physical.copy(), self._level)

    def reshape(self, *shape, order="C"):
        """The reshape of every batch element."""
        return _reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def squeeze(self, axis=None):
        """The squeeze of every batch element."""
        return _squeeze(self, axis)


def _reduction_method(name):
    def method(self, *args, **kwargs):
        """The reduction of every batch element on its own (its axes shifted past the batch)."""
        return _reduce(self, getattr(xp, name), args, kwargs)

    method.__name__ = name
    return method


for _name in ("sum", "mean", "var", "std", "max", "min", "prod", "all", "any", "argmax",
              "argmin"):
    setattr(LogicalArray, _name, _reduction_method(_name))


# NOTE [Refusing the rest of ndarray]
# Every other ndarray method that reads or writes values would see one batch element only, so
# it raises Unbatchable (vmap then loops); metadata (shape, ndim, dtype, size, strides) is left.
for _name in ("argpartition", "argsort", "byteswap",
              "choose", "clip", "compress", "conj", "conjugate", "cumprod", "cumsum", "diagonal",
              "dot", "dump", "dumps", "fill", "flatten", "getfield", "item",
              "nonzero", "partition", "put", "ravel", "repeat",
              "resize", "round", "searchsorted", "setfield", "sort",
              "swapaxes", "take", "tobytes", "tofile", "tolist", "trace", "transpose",
              "view", "__setitem__", "__iter__", "__bool__", "__int__", "__float__",
              "__complex__", "__index__", "__array__", "__reduce__", "__reduce_ex__",
              "__copy__", "__deepcopy__", "__contains__", "__dlpack__"):
    setattr(LogicalArray, _name, _refuse(_name))
for _name in ("T", "mT", "real", "imag", "flat", "data", "ctypes", "base"):
    setattr(LogicalArray, _name, _refused_property(_name))

# array functions that look only at shapes and dtypes: answered for one batch element
_METADATA_FUNCTIONS = frozenset({"shape", "ndim", "size", "result_type", "can_cast",
                                 "iscomplexobj", "isrealobj", "zeros_like", "ones_like",
                                 "empty_like", "full_like", "min_scalar_type"})


def _reshape(array, shape, order="C", copy=None):
    """numpy.reshape of every batch element: a view where one batch element's reshape is."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    xp.reshape(plain_view(array), shape, order=order, copy=copy)  # one element's error, if any
    target = (array._physical.shape[0],) + shape
    try:
        result = xp.reshape(array._physical, target, order=order, copy=copy)
    except ValueError:  # the batch dim came from elsewhere: the physical layout needs a copy
        result = xp.reshape(array._physical, target, order=order)
    return logical_array(result, array._level)


_REDUCTIONS = frozenset({"sum", "mean", "var", "std", "max", "min", "amax", "amin", "prod",
                         "all", "any", "argmax", "argmin"})


def _reduce(array, func, args, kwargs):
    """func(array, axis, ...) on every batch element: the logical axes shifted past the batch."""
    if len(args) == 1 and "axis" not in kwargs:
        kwargs, args = dict(kwargs, axis=args[0]), ()
    if args or "out" in kwargs:
        raise Unbatchable(f"numpy.{func.__name__} with positional or out arguments")
    axis = kwargs.pop("axis", None)
    ndim = array.ndim
    if ndim == 0 and axis is not None:
        raise Unbatchable(f"numpy.{func.__name__} of a 0-d batched array along an axis")
    if axis is None and func.__name__ in ("argmax", "argmin"):  # an index into each element
        if kwargs.get("keepdims"):
            raise Unbatchable(f"numpy.{func.__name__} with keepdims and no axis")
        flat = xp.reshape(array._physical, (array._physical.shape[0], -1))
        return logical_array(xp.asanyarray(func(flat, axis=1, **kwargs)), array._level)
    if axis is None:
        axis = tuple(range(1, ndim + 1))
    elif isinstance(axis, (tuple, list)):
        axis = tuple(int(a) % ndim + 1 for a in axis)
    else:
        axis = int(axis) % ndim + 1
    return logical_array(xp.asanyarray(func(array._physical, axis=axis, **kwargs)),
                         array._level)


def _squeeze(array, axis=None):
    """numpy.squeeze of every batch element."""
    shape = array.shape
    if axis is None:
        axes = tuple(i + 1 for i, n in enumerate(shape) if n == 1)
    else:
        axes = tuple(int(a) % array.ndim + 1 for a in (axis if isinstance(axis, tuple)
                                                      else (axis,)))
    return logical_array(xp.squeeze(array._physical, axes), array._level)


def _expand_dims(array, axis):
    """numpy.expand_dims of every batch element."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    ndim = array.ndim + len(axes)
    shifted = tuple(int(a) % ndim + 1 for a in axes)
    return logical_array(xp.expand_dims(array._physical, shifted), array._level)


def _broadcast_to(array, shape, subok=False):
    """numpy.broadcast_to of every batch element."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    physical = _aligned_array(array, array._level, len(shape))
    return logical_array(xp.broadcast_to(physical, (physical.shape[0],) + shape),
                         array._level)


_SHAPE_FUNCTIONS = {"reshape": _reshape, "squeeze": _squeeze, "expand_dims": _expand_dims,
                    "broadcast_to": _broadcast_to}


def plain_view(array):
    """One batch element of a batched array as an ordinary ndarray (for metadata only)."""
    return xp.ndarray.view(array, xp.ndarray)


def logical_array(physical, level):
    """The LogicalArray of a batch whose physical array has the batch dim first."""
    element = xp.ndarray.__getitem__(physical, (0, Ellipsis))
    logical = xp.ndarray.view(element, LogicalArray)
    logical._physical = physical
    logical._level = level
    return logical


def array_level(a) -> int:
    """The vmap level an array (or scalar) is batched at; 0 when it is not batched."""
    return a._level if type(a) is LogicalArray else 0


def _aligned_array(a, level, rank):
    """A batched-at-level array as (B, 1..., *shape) of rank+1; others unchanged."""
    if array_level(a) != level:
        return a
    pad = rank - a.ndim
    physical = a._physical
    return physical[(slice(None),) + (None,) * pad] if pad else physical


# ---- batched tensors ------------------------------------------------------------------------
_ITEM = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
         "calling .item() on a Tensor, please try to rewrite what you're doing with other "
         "operations. If error is occurring somewhere inside PyTorch internals, please file a "
         "bug report.")
_CONTROL_FLOW = ("vmap: It looks like you're attempting to use a Tensor in some data-dependent "
                 "control flow. We don't support that yet, please file an issue at "
                 "https://github.com/pytorch/pytorch/issues .")
_NO_STORAGE = "Cannot access data pointer of Tensor that doesn't have storage"


def _refused_by_torch(message):
    def method(self, *args, **kwargs):
        raise VmapRefused(message)

    return method


class BatchedTensor(Tensor):
    """A tensor inside vmap: logical shape outside, the whole batch in `_value` (NOTE above)."""

    __slots__ = ("_value",)

    item = __float__ = __int__ = __complex__ = _refused_by_torch(_ITEM)
    __bool__ = _refused_by_torch(_CONTROL_FLOW)  # (a comparison made without an op still loops)
    tolist = numpy = _refused_by_torch(_NO_STORAGE)

    def detach(self):
        """The batch cut from the graph (matches `Tensor.detach` inside vmap)."""
        return wrap(self._value.detach(), self._data._level)

    def requires_grad_(self, requires_grad: bool = True):
        self._value.requires_grad_(requires_grad)
        self._requires_grad = self._value._requires_grad
        return self

    def __repr__(self, *, tensor_contents=None):
        return (f"BatchedTensor(lvl={self._data._level}, bdim=0, value=\n"
                f"{self._value!r}\n)")


def level_of(t) -> int:
    """The vmap level a tensor (or ndarray) is batched at; 0 when it is not batched."""
    if isinstance(t, Tensor):
        return array_level(t._data)
    return array_level(t)


def wrap(value: Tensor, level: int) -> Tensor:
    """The batched tensor whose physical value (batch dim first) is `value`."""
    t = BatchedTensor._make(logical_array(value._data, level), value._requires_grad)
    t._value = value
    t.grad_fn = value.grad_fn
    return t


def physical(t, level):
    """The whole batch behind a tensor batched at `level` (batch dim first), else None."""
    if level_of(t) != level:
        return None
    if isinstance(t, BatchedTensor):
        return t._value
    if isinstance(t, Tensor):  # made from batched arrays without an op: no graph to keep
        return Tensor._make(t._data._physical)
    return t._physical


def batch_size(t, level) -> int:
    """The batch size of a tensor batched at `level`."""
    return t._data._physical.shape[0]


def wrap_outputs(out, level):
    """Wrap an op's physical output(s) as batched at `level`."""
    if isinstance(out, tuple):
        return tuple(wrap_outputs(o, level) for o in out)
    if isinstance(out, list):
        return [wrap_outputs(o, level) for o in out]
    if isinstance(out, Tensor):
        return wrap(out, level)
    return out


def unwrap_all(t):
    """(the innermost physical tensor, the levels outermost-first) of a possibly nested batch.

    The physical tensor has one batch dim per level in front, the innermost level first."""
    levels = []
    while level_of(t):
        level = level_of(t)
        levels.append(level)
        t = physical(t, level)
    return t, levels


def rewrap(value, levels):
    """Wrap a physical tensor (batch dims for `levels` in front, innermost level first)."""
    for level in reversed(levels):
        value = wrap(value, level)
    return value


def batched_at_all_levels(t):
    """(the physical tensor of t with a batch dim for every running vmap, innermost level
    first, and those levels outermost-first): unbatched levels are repeated views."""
    value, levels = unwrap_all(t)
    for level in range(1, len(ACTIVE_SIZES) + 1):
        if level not in levels:
            position = level - 1
            value = value.unsqueeze(position)
            shape = list(value.shape)
            shape[position] = ACTIVE_SIZES[level - 1]
            value = value.expand(shape)
    return value, list(range(len(ACTIVE_SIZES), 0, -1))
