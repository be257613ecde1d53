"""The functions a checkpoint's pickle names to rebuild tensors (`torch._utils._rebuild_*` in
PyTorch's files), with the checks that keep a hostile file from reaching outside its storage.

NOTE [A view must stay inside its storage]
A checkpoint describes each tensor as (storage, offset, size, stride). NumPy builds such a view
over any buffer without complaint about negative strides, and a size or offset given as a
string or a float would be silently converted; PyTorch refuses all of these. `_checked_view`
refuses them too, before any array is made: sizes, strides and the offset must be ints, the
offset and sizes non-negative, strides non-negative (as torch's `set_` requires), the element
count must fit in 64 bits, and the furthest element the view reaches must lie in the storage.
"""

import math

import numpy as np

from ember import _quantized
from ember._tensor import Tensor
from ember.ops.sparse import sparse_coo_tensor
from ember.ops.sparse_compressed import sparse_csc_tensor, sparse_csr_tensor
from ember.nn.parameter import Parameter

_INT64_MAX = 2**63 - 1


def _ints(name, values):
    """`values` as a tuple of Python ints, or torch's TypeError naming what was given."""
    if not isinstance(values, (tuple, list)) or not all(type(v) is int for v in values):
        raise TypeError(f"a checkpoint tensor's {name} must be a tuple of ints, got {values!r}")
    return tuple(values)


def _check_layout(storage_numel, offset, size, stride):
    """Raise unless the view (offset, size, stride) is well formed and inside the storage."""
    size, stride = _ints("size", size), _ints("stride", stride)
    if type(offset) is not int:
        raise TypeError(f"a checkpoint tensor's storage offset must be an int, got {offset!r}")
    if len(size) != len(stride):
        raise RuntimeError(
            f"a checkpoint tensor has size {list(size)} but stride {list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(n < 0 for n in size) or math.prod(size) > _INT64_MAX:
        raise RuntimeError(f"numel: integer multiplication overflow for sizes={list(size)}")
    if 0 in size:
        return size, stride
    if any(s < 0 for s in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    needed = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > storage_numel:
        raise RuntimeError(
            f"a checkpoint tensor of size {list(size)}, stride {list(stride)} and storage "
            f"offset {offset} needs {needed} elements, but its storage holds {storage_numel}")
    return size, stride


def _checked_view(storage, offset, size, stride, requires_grad):
    """A Tensor viewing the 1-d array `storage` at (offset, size, stride), all in elements."""
    size, stride = _check_layout(storage.size, offset, size, stride)
    itemsize = storage.itemsize
    if math.prod(size) * itemsize > _INT64_MAX:
        raise RuntimeError(f"a checkpoint tensor of size {list(size)} is too large")
    if 0 in size:  # no element to read: keep the declared strides, as torch does
        array = np.lib.stride_tricks.as_strided(
            storage[:0], size, tuple(s * itemsize for s in stride))
    else:
        array = np.ndarray(size, dtype=storage.dtype, buffer=storage, offset=offset * itemsize,
                           strides=tuple(s * itemsize for s in stride))
    if type(requires_grad) is not bool:  # torch assigns it to .requires_grad, which checks
        raise RuntimeError("requires_grad must be a bool")
    t = Tensor._make(array)
    t._requires_grad = requires_grad
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    """A tensor viewing `storage` (matches `torch._utils._rebuild_tensor`, the older form)."""
    return _checked_view(storage, storage_offset, size, stride, False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    """A tensor viewing `storage` (a typed 1-d array) at offset/size/stride, in elements."""
    return _checked_view(storage, storage_offset, size, stride, requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    """Like v2, for an untyped (byte) storage and an explicit dtype."""
    target = np.dtype(dtype.numpy if hasattr(dtype, "numpy") else dtype)
    usable = storage.size - storage.size % target.itemsize
    return _checked_view(storage[:usable].view(target), storage_offset, size, stride,
                         requires_grad)


def _rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad,
                     backward_hooks):
    """A quantized tensor over `storage`'s integers (a QInt8Storage etc., read as int8 /
    uint8 / int32) with (qscheme, scale, zero_point) or (qscheme, scales, zero_points, axis)
    (matches `torch._utils._rebuild_qtensor`)."""
    ints = _checked_view(storage, storage_offset, size, stride, False)
    scheme = quantizer_params[0]
    if scheme is _quantized.per_tensor_affine:
        return _quantized._make_per_tensor_quantized_tensor(ints, float(quantizer_params[1]),
                                                            int(quantizer_params[2]))
    if scheme is _quantized.per_channel_affine:
        scales, zero_points, axis = quantizer_params[1:]
        return _quantized._make_per_channel_quantized_tensor(ints, scales, zero_points, axis)
    raise RuntimeError(f"Can't deserialize quantized tensor with qscheme {scheme}")


def _rebuild_sparse_tensor(layout, data):
    """A sparse COO, CSR or CSC tensor from its indices and values (matches
    `torch._utils._rebuild_sparse_tensor`); `layout` is a layout or its name."""
    name = str(layout).rsplit(".", 1)[-1]
    if name == "sparse_coo":
        indices, values, size = data[:3]
        is_coalesced = data[3] if len(data) > 3 else None
        return sparse_coo_tensor(indices, values, size, check_invariants=True,
                                 is_coalesced=is_coalesced)
    if name in ("sparse_csr", "sparse_csc"):
        compressed, plain, values, size = data
        build = sparse_csr_tensor if name == "sparse_csr" else sparse_csc_tensor
        return build(compressed, plain, values, size, check_invariants=True)
    raise NotImplementedError(f"rebuilding sparse tensor for layout {layout}")


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    """A Parameter around a rebuilt tensor (matches `torch._utils._rebuild_parameter`)."""
    if not isinstance(data, Tensor):
        raise TypeError(f"a checkpoint Parameter must wrap a tensor, got {type(data).__name__}")
    return Parameter(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """A Parameter with extra Python attributes (plain names only)."""
    param = _rebuild_parameter(data, requires_grad)
    for name, value in (state or {}).items():
        if not isinstance(name, str) or name.startswith("__"):
            raise TypeError(f"a checkpoint Parameter may not set the attribute {name!r}")
        param.__dict__[name] = value
    return param


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor subclass rebuilt by `func(*args)`; ember keeps Tensor and Parameter."""
    result = func(*args)
    if isinstance(new_type, type) and issubclass(new_type, Tensor) and \
            type(result) is not new_type and new_type is not Tensor:
        result = new_type._make(result._data, result._requires_grad)
    for name, value in (state or {}).items():
        if isinstance(name, str) and not name.startswith("__"):
            result.__dict__[name] = value
    return result
