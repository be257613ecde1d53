"""Tensor creation: tensor/as_tensor/from_numpy, zeros/ones/full/empty (+ _like), ranges, eye
(random tensors are in random_creation.py, the distributions in sampling.py).

Dtype inference follows PyTorch, not NumPy: Python floats give the default dtype (float32),
Python ints int64, bools bool; NumPy arrays keep their dtype (float64 stays float64).
"""

import math
import numbers

from ember._warnings import warn as _warn
from ember import _dtype, random
from ember._backend import get_array_module, quiet, xp
from ember._device import Size, check_device, size_keyword
from ember._registry import op, tensor_method, torch_function
from ember.ops._out_rules import (arange_out, check_factory_dtype, factory_out,
                                  set_requires_grad)
from ember.ops._allocation import check_allocation
from ember._tensor import Tensor, preserve_format, short_name
from ember.ops._creation_numpy import (_PYTHON_NUMBERS, _plain_numbers, other_sequence,
                                       ragged_array, sequences_as_lists, shared_writable,
                                       string_error)
from ember.ops._creation_space import (arange_values, data_array, fill_scalar, linspace_array,
                                       logspace_array, space_args, space_dtype)
from ember.ops.conversion import in_format, layout_copy, new_layout, real_part_for
from ember.ops.random_creation import (_float_dtype, check_randperm_dtype, draw_integers,
                                       draw_normal, draw_target, draw_uniform, out_dtype,
                                       resize_out)


def _finish(array, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Wrap a freshly made array; cast to dtype; set requires_grad (floats only)."""
    check_device(device)
    if dtype is not None:
        array = array.astype(_dtype.to_dtype(dtype).numpy, copy=False)
    t = Tensor._make(array)
    if requires_grad:
        t._require_grad_as_new()
    return t


def _shape(size) -> tuple:
    """Accept zeros(2, 3), zeros((2, 3)), zeros([2, 3]) and zeros(Size)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    for s in size:
        if not isinstance(s, (numbers.Integral, Tensor)):
            raise TypeError(
                f"zeros(): argument 'size' must be tuple of ints, but found element of type "
                f"{type(s).__name__}")
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    check_allocation(shape)
    return shape


def _infer_dtype(data) -> "_dtype.dtype":
    """The dtype PyTorch gives nested Python data: bool < int64 < default float."""
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, xp.ndarray):
        return _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, xp.generic):
        return _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, (list, tuple, range)):
        result = None
        for item in data:
            item_dtype = _infer_dtype(item)
            result = item_dtype if result is None else _dtype.promote_types(result, item_dtype)
        return result or _dtype.get_default_dtype()
    if type(data) not in _PYTHON_NUMBERS and not isinstance(data, numbers.Number):
        if other_sequence(data):  # (a deque, ...: read as the list it holds)
            return _infer_dtype(sequences_as_lists(data))
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")  # None, ...
    return _dtype.scalar_dtype(data)


_FLOAT32_MAX = float(xp.finfo(xp.float32).max)


def _to_array(data, dtype, checked=True) -> xp.ndarray:
    if dtype in _dtype.FLOAT8_DTYPES:  # torch's float8 rounding (NOTE [float8 casts])
        source = data._data if isinstance(data, Tensor) else _to_array(data, _dtype.float64)
        return _dtype.cast_array(source, dtype.numpy)
    if isinstance(data, Tensor):
        return real_part_for(data._data, dtype.numpy).astype(dtype.numpy)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _tensors_to_lists(data)
    try:
        array = data_array(data, dtype) if checked else None  # (torch's checks: uint8 takes -1)
        if array is None:
            if type(data) in _PYTHON_NUMBERS and not abs(data) > _FLOAT32_MAX:
                return xp.array(data, dtype=dtype.numpy)  # (the common case, fast)
            with quiet():  # (1e300 as float32 is inf, silently, whatever the user's filters)
                return xp.array(data, dtype=dtype.numpy)
        return array
    except ValueError as error:
        return ragged_array(data, dtype, error)  # (or torch's error)


def _flat(data):
    for item in data:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def _tensors_to_lists(data):
    """Nested data with its tensors as 0-d arrays: inside a sequence a tensor is one number,
    as in PyTorch (a (1,)-shaped one too; more elements are an error)."""
    if isinstance(data, Tensor):
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data._data.reshape(())
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    return data


@op
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor copying `data` (matches `torch.tensor`)."""
    if isinstance(data, Tensor):
        _warn_copy_construct("torch.tensor")
    return _tensor(data, dtype, requires_grad, device)


def _warn_copy_construct(spelled: str):
    """torch's warning for a tensor made from a tensor, naming how the caller spelled it."""
    _warn("To copy construct from a tensor, it is recommended to use "
          "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
          f"rather than {spelled}(sourceTensor).", UserWarning, stacklevel=3)


def _tensor(data, dtype, requires_grad, device) -> Tensor:
    """torch.tensor's work, after its warning."""
    if dtype is None and type(data) in (list, tuple) and len(data) >= 32:
        plain = _plain_numbers(data)
        if plain is not None:
            return _finish(plain, None, requires_grad, device)
    error = string_error(data, None if dtype is None else _dtype.to_dtype(dtype))
    if error is not None:
        raise error
    if other_sequence(data) or isinstance(data, (list, tuple)) and any(map(other_sequence, data)):
        data = sequences_as_lists(data)  # (a deque, an array.array, ...: torch reads its items)
    checked = dtype is not None  # (a dtype inferred from the data holds it as it is)
    dtype = _dtype.to_dtype(dtype) if checked else _infer_dtype(data)
    try:
        array = _to_array(data, dtype, checked)
    except OverflowError:
        if dtype is _dtype.uint64:  # (stored unsigned: CPython's own OverflowError)
            raise
        raise ValueError("Overflow when unpacking long long") from None
    return _finish(array, None, requires_grad, device)


@op
def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor, but shares memory with a tensor or ndarray when it can."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, xp.ndarray):
        target = _dtype.to_dtype(dtype) if dtype is not None else _dtype.from_numpy_dtype(
            data.dtype)
        array = data.astype(target.numpy, copy=False) if not _dtype.is_float8_cast(
            data.dtype, target.numpy) else _dtype.cast_array(data, target.numpy)
        return Tensor._make(shared_writable(array) if array is data else array)
    return tensor(data, dtype=dtype)


@op
def from_numpy(array: xp.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (matches `torch.from_numpy`)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._make(shared_writable(array))  # NOTE [Non-writable NumPy arrays]


def _filled(fill, size, dtype, requires_grad, device, default=None, module=xp):
    """A tensor of `size` filled with `fill`, its array made by `module` (the array module of
    the tensor it is made like, see NOTE [The array module of the arrays you are given])."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else (default or
                                                              _dtype.get_default_dtype())
    shape = _shape(size)
    return _finish(module.full(shape, fill_scalar(fill, dtype), dtype=dtype.numpy), None,
                   requires_grad, device)


@op(out=factory_out)
@size_keyword
def zeros(*size, dtype=None, device=None, requires_grad=False, layout=None) -> Tensor:
    """A tensor of zeros (matches `torch.zeros`)."""
    dims = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    if any(isinstance(s, numbers.Integral) and s < 0 for s in dims):  # (zeros' own message)
        raise RuntimeError("zeros: Dimension size must be non-negative.")
    return _filled(0, size, dtype, requires_grad, device)


@op(out=factory_out)
@size_keyword
def ones(*size, dtype=None, device=None, requires_grad=False, layout=None) -> Tensor:
    """A tensor of ones (matches `torch.ones`)."""
    return _filled(1, size, dtype, requires_grad, device)


@op(out=factory_out)
@size_keyword
def empty(*size, dtype=None, device=None, requires_grad=False, layout=None,
          memory_format=None, pin_memory=False) -> Tensor:
    """An uninitialised tensor (ember fills it with zeros) (matches `torch.empty`)."""
    result = _filled(0, size, dtype, requires_grad, device)
    result._data = new_layout(result._data, memory_format)
    return result


@op(out=factory_out)
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False,
         layout=None) -> Tensor:
    """A tensor filled with fill_value; dtype inferred from it (matches `torch.full`)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (bool, int, float, complex)) and \
            not hasattr(fill_value, "__float__"):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    target = _dtype.to_dtype(dtype) if dtype is not None else None
    if target is not None:
        fill_value = _dtype.check_complex_fits(fill_value, target)
    if target in _dtype.FLOAT8_DTYPES:
        fill_value = _dtype.float8_fill(fill_value, target, math.prod(_shape((size,))))
    return _filled(fill_value, (size,), dtype, requires_grad, device,
                   default=_dtype.scalar_dtype(fill_value))


def _like(fill, input, dtype, requires_grad, memory_format=preserve_format):
    """A tensor of input's shape filled with `fill`, in input's dtype, array module and (by
    default) memory layout."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else input.dtype
    array = get_array_module(input._data).full_like(input._data, fill_scalar(fill, dtype),
                                                    dtype=dtype.numpy)
    if not in_format(array, memory_format):
        array = layout_copy(array, memory_format)
    return _finish(array, None, requires_grad)


@op
def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=preserve_format):
    """Zeros shaped like input (matches `torch.zeros_like`)."""
    return _like(0, input, dtype, requires_grad, memory_format)


@op
def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=preserve_format):
    """Ones shaped like input (matches `torch.ones_like`)."""
    return _like(1, input, dtype, requires_grad, memory_format)


@op
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=preserve_format):
    """An uninitialised tensor shaped like input; ember fills it with zeros (matches
    `torch.empty_like`)."""
    return _like(0, input, dtype, requires_grad, memory_format)


@op
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=preserve_format):
    """fill_value in input's shape (matches `torch.full_like`)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _like(fill_value, input, dtype, requires_grad, memory_format)


@op
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from start up to (not including) end (matches `torch.arange`).

    NOTE [Integer arange]
    For an integer dtype PyTorch computes the values from start and step truncated to integers
    (`arange(0, 5, 1.5, dtype=int64)` is 0..4). int64 truncates end too before counting, and
    refuses a step truncated to 0; the smaller integer dtypes count with the float values
    (`arange(0, 10, 0.1, dtype=int32)` is 100 zeros).
    """
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if out is not None:
        check_factory_dtype(dtype, out)
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = out.dtype if out is not None else (
            _dtype.get_default_dtype() if is_float else _dtype.int64)
    dtype = _dtype.to_dtype(dtype)
    if dtype is _dtype.bool or dtype.is_complex:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{short_name(dtype)}'")
    if not all(math.isfinite(v) for v in (start, end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is _dtype.int64:  # all three truncated before the count
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
    count = max(0, int(math.ceil((end - start) / step)))
    if not (dtype.is_floating_point or dtype.is_complex):  # the values from truncated ones
        start, step = int(start), int(step)
    check_allocation((count,), 8 + dtype.itemsize)  # the exact values, then the cast
    if out is None:
        return _finish(arange_values(start, step, count, dtype), None, requires_grad, device)
    return arange_out(_finish(arange_values(start, step, count, dtype)), out, requires_grad)


@op(out=factory_out)
def linspace(start, end, steps, *, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive (matches `torch.linspace`
    bit for bit: NOTE [linspace arithmetic])."""
    start, end, steps = space_args("linspace", start, end, steps)
    dtype = space_dtype("linspace", start, end, dtype)
    check_allocation((steps,), 8 + dtype.itemsize)
    return _finish(linspace_array(start, end, steps, dtype), None, requires_grad, device)


@op(out=factory_out)
def logspace(start, end, steps, base=10.0, *, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """base ** (`steps` evenly spaced exponents from start to end) (matches `torch.logspace`:
    NOTE [logspace arithmetic])."""
    start, end, steps = space_args("logspace", start, end, steps)
    dtype = space_dtype("logspace", start, end, dtype)
    check_allocation((steps,), 8 + dtype.itemsize)
    return _finish(logspace_array(start, end, steps, base, dtype), None, requires_grad, device)


@op(out=factory_out)
def eye(n, m=None, *, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """The identity matrix (matches `torch.eye`)."""
    for name, value in (("n", n), ("m", m)):
        if value is not None and value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if all(isinstance(v, numbers.Integral) for v in (n, n if m is None else m)):
        check_allocation((n, n if m is None else m), dtype.itemsize)
    return _finish(xp.eye(n, m, dtype=dtype.numpy), None, requires_grad, device)


@op
def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """A 0-d tensor holding s, of the default float dtype unless dtype is given (matches
    `torch.scalar_tensor`)."""
    if isinstance(s, Tensor):
        s = s.item()
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    return _finish(xp.array(s, dtype=dtype.numpy), None, requires_grad, device)


def _strided_zeros(size, stride, dtype):
    """A zero-filled array of shape size whose element strides are `stride`."""
    shape, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(shape) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} vs "
                           f"{len(shape)}")
    extent = 1 + sum((n - 1) * st for n, st in zip(shape, stride)) if all(shape) else 0
    buffer = xp.zeros(extent, dtype=dtype.numpy)
    itemsize = buffer.itemsize
    return xp.lib.stride_tricks.as_strided(buffer, shape, tuple(st * itemsize for st in stride))


@op
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialised tensor with the given strides; ember fills it with zeros (matches
    `torch.empty_strided`)."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    return _finish(_strided_zeros(size, stride, dtype), None, requires_grad, device)


@op
def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False) -> Tensor:
    """An uninitialised tensor of shape size laid out in memory in the dim order
    physical_layout (outermost first); ember fills it with zeros (matches
    `torch.empty_permuted`)."""
    shape, order = tuple(size), tuple(physical_layout)
    if len(shape) != len(order):
        raise RuntimeError("Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(shape)} is not equal to "
                           f"len(physical_layout) = {len(order)}")
    for d in order:
        if not 0 <= d < max(len(shape), 1):
            raise RuntimeError(f"Dimension out of range (expected to be in range of "
                             f"[{-len(shape)}, {len(shape) - 1}], but got {d})")
    if len(set(order)) != len(order):
        raise RuntimeError("Duplicate dim not allowed")
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
    array = xp.zeros(tuple(shape[d] for d in order), dtype=dtype.numpy).transpose(inverse)
    return _finish(array, None, requires_grad, device)


# ---- random tensors (torch's streams: ember/ops/random_creation.py) ----------------------
@op
@size_keyword
def rand(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, out=None) -> Tensor:
    """Uniform samples in [0, 1) (matches `torch.rand`; `out=` is filled in its dtype)."""
    dtype = _float_dtype(out_dtype(out, dtype, "aten::rand"), "check_uniform_bounds")
    array = draw_uniform(draw_target(out, _shape(size), dtype), 0.0, 1.0, generator)
    if out is None:
        return _finish(array, None, requires_grad, device)
    return _out_filled(out, array, requires_grad)


@op
@size_keyword
def randn(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, out=None) -> Tensor:
    """Standard normal samples (matches `torch.randn`; `out=` is filled in its dtype)."""
    shape, dtype = _shape(size), out_dtype(out, dtype, "aten::randn") or _dtype.get_default_dtype()
    if math.prod(shape):  # (an empty draw of any dtype is fine: the kernel never runs)
        _float_dtype(dtype, "normal_kernel_cpu")
    array = draw_normal(draw_target(out, shape, dtype), 0.0, 1.0, generator)
    if out is None:
        return _finish(array, None, requires_grad, device)
    return _out_filled(out, array, requires_grad)


def _random_like(draw, input, dtype, requires_grad, device, memory_format):
    """draw(array) into a tensor laid out like input: the draws follow its memory order."""
    array = _like(0, input, dtype, False, memory_format or preserve_format)._data
    if array.size:  # nothing to draw: torch's kernel (and its dtype check) does not run
        array[...] = draw(array)
    return _finish(array, None, requires_grad, device)


@op
def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None) -> Tensor:
    """Uniform samples shaped like input (matches `torch.rand_like`)."""
    dtype = _float_dtype(dtype or input.dtype, "check_uniform_bounds")
    return _random_like(lambda a: draw_uniform(a, 0.0, 1.0, generator), input, dtype,
                        requires_grad, device, memory_format)


@op
def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None) -> Tensor:
    """Standard normal samples shaped like input (matches `torch.randn_like`)."""
    dtype = dtype or input.dtype
    if input.numel():  # torch draws (and checks the dtype) only when there is something to draw
        dtype = _float_dtype(dtype, "normal_kernel_cpu")
    return _random_like(lambda a: draw_normal(a, 0.0, 1.0, generator), input, dtype,
                        requires_grad, device, memory_format)


@op
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False, out=None) -> Tensor:
    """Integers uniform in [low, high) (matches `torch.randint`; `out=` in its dtype)."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    dtype = out_dtype(out, dtype, "aten::randint") or _dtype.int64
    array = draw_integers(draw_target(out, _shape((size,)), dtype), int(low), int(high), generator)
    if out is None:
        return _finish(array, None, requires_grad, device)
    return _out_filled(out, array, requires_grad)


@op
def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None) -> Tensor:
    """Integers uniform in [low, high) shaped like input (matches `torch.randint_like`)."""
    if high is None:
        if isinstance(low, Tensor) and low.dim() != 0:  # torch's (input, Tensor high) overload
            raise RuntimeError("high must be a scalar tensor and on CPU")
        low, high = 0, low
    dtype = _dtype.to_dtype(dtype) if dtype is not None else input.dtype
    draw = lambda a: draw_integers(a, int(low), int(high), generator)  # noqa: E731
    if not input.numel():  # torch's random_ checks the range for the dtype before it finds
        draw(xp.empty(0, dtype=dtype.numpy))  # nothing to draw (no generator state is used)
    return _random_like(draw, input, dtype, requires_grad, device, memory_format)


@op
def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False, out=None) -> Tensor:
    """A random permutation of 0..n-1 (matches `torch.randperm`; `out=` in its dtype)."""
    (n,), dtype = _shape((int(n),)), out_dtype(out, dtype, "aten::randperm") or _dtype.int64
    check_randperm_dtype(n, dtype)
    values = random.randperm(random._generator(generator), n).astype(dtype.numpy)
    if out is None:
        return _finish(values, None, requires_grad, device)
    return _out_filled(resize_out(out, (n,)), values, requires_grad)


# ---- in-place fills ---------------------------------------------------------------------
def _out_filled(out, array, requires_grad):
    """A random factory's out= filled with array; its requires_grad then set to requires_grad=,
    as torch's binding does (`rand(3, out=t)` under no_grad leaves t requiring no grad)."""
    return set_requires_grad(_fill_inplace(out, array), requires_grad)


def _fill_inplace(self, array):
    """Write array (broadcast, cast) into self through _inplace_update, so a filled tensor (or
    view) in a graph gets its history rebased."""
    values = get_array_module(self._data).asarray(array)
    if values.dtype != self._data.dtype or values.shape != self._data.shape:
        values = xp.broadcast_to(values, self._data.shape).astype(self._data.dtype)
    return self._inplace_update(Tensor._make(values), fill=True)


@tensor_method("fill_")
def tensor_fill_(self, value):
    """Set every element to value, a number or a 0-d tensor whose gradient is the sum of
    self's (matches `Tensor.fill_`)."""
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.dim()} dimensions.")
        return self.copy_(value)
    value = _dtype.check_complex_fits(value, self.dtype)
    if self.dtype in _dtype.FLOAT8_DTYPES:
        value = _dtype.float8_fill(value, self.dtype, self.numel())
    return _fill_inplace(self, fill_scalar(value, self.dtype))


@op
def fill(input, value):
    """A tensor like input with every element set to value (matches `torch.fill`)."""
    return tensor_fill_(input.clone(), value)


@torch_function("zero_")
@tensor_method("zero_")
def tensor_zero_(self):
    """Set every element to zero (matches `Tensor.zero_`)."""
    return _fill_inplace(self, 0)


# ---- Tensor constructors (torch.Tensor(...), x.new(...): ember/ops/legacy_constructors.py) --
@tensor_method("new_tensor")
def tensor_new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    if isinstance(data, Tensor):
        _warn_copy_construct("tensor.new_tensor")
    return _tensor(data, dtype or self.dtype, requires_grad, device)


@tensor_method("new_zeros")
@size_keyword
def tensor_new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return _filled(0, size, dtype or self.dtype, requires_grad, None,
                   module=get_array_module(self._data))


@tensor_method("new_ones")
@size_keyword
def tensor_new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return _filled(1, size, dtype or self.dtype, requires_grad, None,
                   module=get_array_module(self._data))


@tensor_method("new_empty")
@size_keyword
def tensor_new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return _filled(0, size, dtype or self.dtype, requires_grad, None,
                   module=get_array_module(self._data))


@tensor_method("new_empty_strided")
def tensor_new_empty_strided(self, size, stride, dtype=None, layout=None, device=None,
                             requires_grad=False, pin_memory=False):
    """An uninitialised tensor with the given strides, of self's dtype by default; ember fills
    it with zeros (matches `Tensor.new_empty_strided`)."""
    return empty_strided(size, stride, dtype=dtype or self.dtype, requires_grad=requires_grad)


@tensor_method("new_full")
def tensor_new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (bool, int, float, complex)) and \
            not hasattr(fill_value, "__float__"):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    return _filled(fill_value, (size,), dtype or self.dtype, requires_grad, None,
                   module=get_array_module(self._data))
