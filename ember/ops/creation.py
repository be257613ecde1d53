"""Tensor creation: tensor/as_tensor/from_numpy, zeros/ones/full/empty (+ _like), ranges, eye,
and random tensors (rand, randn, randint, randperm, normal, bernoulli).

Dtype inference follows PyTorch, not NumPy: Python floats give the default dtype (float32),
Python ints int64, bools bool; NumPy arrays keep their dtype (float64 stays float64).
"""

import numbers
import warnings

from ember import _dtype, random
from ember._backend import get_array_module, xp
from ember._device import Size, check_device
from ember._registry import op, tensor_method
from ember._tensor import Tensor
from ember.random import rng


def _finish(array, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Wrap a freshly made array; cast to dtype; set requires_grad (floats only)."""
    check_device(device)
    if dtype is not None:
        array = array.astype(_dtype.to_dtype(dtype).numpy, copy=False)
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad = True
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
    return shape


def _infer_dtype(data) -> "_dtype.dtype":
    """The dtype PyTorch gives nested Python data: bool < int64 < default float."""
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, xp.ndarray):
        return _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, xp.generic):
        return _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, (list, tuple)):
        result = None
        for item in data:
            item_dtype = _infer_dtype(item)
            result = item_dtype if result is None else _dtype.promote_types(result, item_dtype)
        return result or _dtype.get_default_dtype()
    return _dtype.scalar_dtype(data)


def _to_array(data, dtype) -> xp.ndarray:
    if isinstance(data, Tensor):
        return data._data.astype(dtype.numpy)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _tensors_to_lists(data)
    try:
        return xp.array(data, dtype=dtype.numpy)
    except ValueError as error:
        raise ValueError(f"expected sequence of equal-length lists: {error}") from None


def _flat(data):
    for item in data:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    return data


@op
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor copying `data` (matches `torch.tensor`)."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
            "rather than torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _infer_dtype(data)
    return _finish(_to_array(data, dtype), None, requires_grad, device)


@op
def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor, but shares memory with a tensor or ndarray when it can."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, xp.ndarray):
        target = _dtype.to_dtype(dtype) if dtype is not None else _dtype.from_numpy_dtype(
            data.dtype)
        return Tensor._make(data.astype(target.numpy, copy=False))
    return tensor(data, dtype=dtype)


@op
def from_numpy(array: xp.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (matches `torch.from_numpy`)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def _filled(fill, size, dtype, requires_grad, device, default=None, module=xp):
    """A tensor of `size` filled with `fill`, its array made by `module` (the array module of
    the tensor it is made like, see NOTE [The array module of the arrays you are given])."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else (default or
                                                              _dtype.get_default_dtype())
    return _finish(module.full(_shape(size), fill, dtype=dtype.numpy), None, requires_grad,
                   device)


@op(out=True)
def zeros(*size, dtype=None, device=None, requires_grad=False, layout=None) -> Tensor:
    """A tensor of zeros (matches `torch.zeros`)."""
    return _filled(0, size, dtype, requires_grad, device)


@op(out=True)
def ones(*size, dtype=None, device=None, requires_grad=False, layout=None) -> Tensor:
    """A tensor of ones (matches `torch.ones`)."""
    return _filled(1, size, dtype, requires_grad, device)


@op(out=True)
def empty(*size, dtype=None, device=None, requires_grad=False, layout=None,
          memory_format=None, pin_memory=False) -> Tensor:
    """An uninitialised tensor (ember fills it with zeros) (matches `torch.empty`)."""
    return _filled(0, size, dtype, requires_grad, device)


@op(out=True)
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False,
         layout=None) -> Tensor:
    """A tensor filled with fill_value; dtype inferred from it (matches `torch.full`)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled(fill_value, (size,), dtype, requires_grad, device,
                   default=_dtype.scalar_dtype(fill_value))


def _like(fill, input, dtype, requires_grad):
    """A tensor of input's shape filled with `fill`, in input's dtype and array module."""
    return _filled(fill, input.shape, dtype or input.dtype, requires_grad, None,
                   module=get_array_module(input._data))


@op
def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(0, input, dtype, requires_grad)


@op
def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(1, input, dtype, requires_grad)


@op
def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(0, input, dtype, requires_grad)


@op
def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _like(fill_value, input, dtype, requires_grad)


@op
def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


@op
def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


@op
def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype)


@op(out=True)
def arange(start=0, end=None, step=1, *, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from start up to (not including) end (matches `torch.arange`)."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in values)
        dtype = _dtype.get_default_dtype() if is_float else _dtype.int64
    dtype = _dtype.to_dtype(dtype)
    start, end, step = values
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    count = max(0, int(xp.ceil((end - start) / step)))
    array = (start + step * xp.arange(count, dtype=xp.float64)).astype(dtype.numpy) \
        if dtype.is_floating_point else xp.arange(start, end, step, dtype=dtype.numpy)
    return _finish(array, None, requires_grad, device)


@op
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive (matches `torch.linspace`)."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    array = xp.linspace(float(start), float(end), int(steps)).astype(dtype.numpy)
    return _finish(array, None, requires_grad, device)


@op
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    array = xp.logspace(float(start), float(end), int(steps), base=base).astype(dtype.numpy)
    return _finish(array, None, requires_grad, device)


@op
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The identity matrix (matches `torch.eye`)."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    return _finish(xp.eye(n, m, dtype=dtype.numpy), None, requires_grad, device)


def _float_dtype(dtype):
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f'"check_uniform_bounds" not implemented for \'{dtype.name}\'')
    return dtype


@op(out=True)
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1) (matches `torch.rand`)."""
    dtype = _float_dtype(dtype)
    array = random.uniform(_shape(size), 0.0, 1.0, dtype.numpy, generator)
    return _finish(array, None, requires_grad, device)


@op(out=True)
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples (matches `torch.randn`)."""
    dtype = _float_dtype(dtype)
    array = random.normal(_shape(size), 0.0, 1.0, dtype.numpy, generator)
    return _finish(array, None, requires_grad, device)


@op
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform in [low, high) (matches `torch.randint`)."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    array = rng(generator).integers(low, high, size=tuple(size)).astype(dtype.numpy)
    return _finish(array, None, requires_grad, device)


@op
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1 (matches `torch.randperm`)."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    return _finish(rng(generator).permutation(int(n)).astype(dtype.numpy), None, requires_grad,
                   device)


@op(out=True)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Normal samples with the given mean and std, scalars or tensors (matches `torch.normal`)."""
    mean_array = mean._data if isinstance(mean, Tensor) else mean
    std_array = std._data if isinstance(std, Tensor) else std
    if size is None:
        size = xp.broadcast_shapes(xp.shape(mean_array), xp.shape(std_array))
    if dtype is None:
        dtype = next((t.dtype for t in (mean, std) if isinstance(t, Tensor)),
                     _dtype.get_default_dtype())
    dtype = _dtype.to_dtype(dtype)
    array = rng(generator).normal(mean_array, std_array, size=tuple(size)).astype(dtype.numpy)
    return _finish(array, None, requires_grad, device)


@op(method=True)
def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """0/1 samples with probabilities `input` (matches `torch.bernoulli`)."""
    probabilities = input._data if p is None else p
    draws = rng(generator).random(input._data.shape) < probabilities
    return Tensor._make(draws.astype(input._data.dtype))


@op
def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """Sample category indices by weight (matches `torch.multinomial`) for 1-D or 2-D input."""
    weights = xp.atleast_2d(input._data.astype(xp.float64))
    random = rng(generator)
    rows = []
    for row in weights:  # one draw per distribution; rows are few
        p = row / row.sum()
        rows.append(random.choice(len(p), size=num_samples, replace=replacement, p=p))
    result = xp.array(rows, dtype=xp.int64)
    return Tensor._make(result if input._data.ndim == 2 else result[0])


# ---- in-place random fills -------------------------------------------------------------
def _fill_inplace(self, array):
    # Through _inplace_update, so a filled tensor (or view) in a graph gets its history rebased.
    values = get_array_module(self._data).asarray(array)
    if values.dtype != self._data.dtype or values.shape != self._data.shape:
        values = xp.broadcast_to(values, self._data.shape).astype(self._data.dtype)
    return self._inplace_update(Tensor._make(values))


@tensor_method("normal_")
def tensor_normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill_inplace(self, random.normal(self._data.shape, mean, std, self._data.dtype,
                                             generator))


@tensor_method("uniform_")
def tensor_uniform_(self, a=0.0, b=1.0, *, generator=None):
    return _fill_inplace(self, random.uniform(self._data.shape, a, b, self._data.dtype, generator))


@tensor_method("bernoulli_")
def tensor_bernoulli_(self, p=0.5, *, generator=None):
    return _fill_inplace(self, rng(generator).random(self._data.shape) < p)


@tensor_method("random_")
def tensor_random_(self, low=0, high=None, *, generator=None):
    if high is None:
        low, high = 0, low if low else 2 ** 24
    return _fill_inplace(self, rng(generator).integers(low, high, size=self._data.shape))


@tensor_method("exponential_")
def tensor_exponential_(self, lambd=1.0, *, generator=None):
    return _fill_inplace(self, rng(generator).exponential(1 / lambd, size=self._data.shape))


@tensor_method("fill_")
def tensor_fill_(self, value):
    if isinstance(value, Tensor):
        value = value.item()
    return _fill_inplace(self, value)


@tensor_method("zero_")
def tensor_zero_(self):
    return _fill_inplace(self, 0)


# ---- Tensor constructors ----------------------------------------------------------------
@tensor_method("__new__")
def tensor_new(cls, *args, **kwargs):
    """`torch.Tensor(data)` / `torch.Tensor(2, 3)`: a float tensor of data, or of that shape."""
    if cls is Tensor and args:
        if len(args) == 1 and not isinstance(args[0], int):
            return tensor(args[0], dtype=_dtype.get_default_dtype())
        return empty(*args)
    return object.__new__(cls)


@tensor_method("new_tensor")
def tensor_new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


@tensor_method("new_zeros")
def tensor_new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return _filled(0, size, dtype or self.dtype, requires_grad, None,
                   module=get_array_module(self._data))


@tensor_method("new_ones")
def tensor_new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return _filled(1, size, dtype or self.dtype, requires_grad, None,
                   module=get_array_module(self._data))


@tensor_method("new_empty")
def tensor_new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return _filled(0, size, dtype or self.dtype, requires_grad, None,
                   module=get_array_module(self._data))


@tensor_method("new_full")
def tensor_new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled(fill_value, (size,), dtype or self.dtype, requires_grad, None,
                   module=get_array_module(self._data))
