"""all_reduce_coalesced and all_gather_coalesced: one collective for a list of tensors, which
torch 2.13 deprecates (the same FutureWarning); async_op returns a Future, as torch's do."""

import functools

from ember._backend import xp
from ember._warnings import warn as _warn
from ember.distributed import _mpi
from ember.distributed._buffers import as_bytes, average, check_reduction, mpi_op, store
from ember.distributed.collectives import Work
from ember.distributed.process_group import (RedOpType, ReduceOp, is_member, resolve,
                                             supports_complex)

_DEPRECATED = ("`torch.distributed.{}` will be deprecated. If you must use it, please revisit "
               "our documentation later at "
               "https://pytorch.org/docs/main/distributed.html#collective-functions")


def _deprecated(function):
    """Warn as torch's @deprecated(..., category=FutureWarning) on every call."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        _warn(_DEPRECATED.format(function.__name__), FutureWarning, stacklevel=2)
        return function(*args, **kwargs)

    return wrapper


def _check_tensor_list(param, name):
    """TypeError unless param is a list of tensors, worded as torch's (its line break too)."""
    expected = (f"Invalid function argument. Expected parameter `{name}` of type "
                "List[torch.Tensor]\n             but got ")
    if not isinstance(param, list):
        raise TypeError(f"{expected}{type(param)} instead.")
    if not all(hasattr(p, "_data") for p in param):
        raise TypeError(f"{expected}{type(param)} with elements of type "
                        f"{[type(p) for p in param]}.")


def _check_same_dtype(tensors):
    """ValueError for mixed dtypes (complex mixes with its real type, as torch allows)."""
    last = None
    for tensor in tensors:
        dtype = tensor.dtype
        if dtype.is_complex:  # torch's own pairing, kept as it is
            dtype = "torch.float32" if str(dtype) == "torch.complex64" else "torch.complex128"
        dtype = str(dtype)
        if last is not None and last != dtype:
            raise ValueError(f"Invalid usage of tensors with different dtypes"
                             f"Found {last} and  {tensor.dtype}")
        last = dtype


def _finish(work, async_op):
    """A Future if async_op, else None after waiting."""
    if async_op:
        return work.get_future()
    work.wait()
    return None


@_deprecated
def all_reduce_coalesced(tensors, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce every tensor of the list across ranks, in place, in one collective."""
    if hasattr(tensors, "_data"):
        tensors = [tensors]
    _check_tensor_list(tensors, "tensor")
    _check_same_dtype(tensors)
    if not is_member(group, "all_reduce_coalesced"):
        return None
    if any(t.dtype.is_complex for t in tensors) and not supports_complex(op):
        raise ValueError(f"all_reduce does not support RedOpType.{RedOpType(op).name} on "
                         "complex tensors")
    pg = resolve(group)
    if not tensors:
        return _finish(Work(None), async_op)
    for tensor in tensors:
        check_reduction(tensor, op, "all_reduce")
    # one flat buffer in the reduction dtype (float16/bfloat16 in float32, as all_reduce)
    work_dtype = xp.result_type(*[_reducible_dtype(t._data.dtype) for t in tensors])
    flat = xp.concatenate([t._data.reshape(-1).astype(work_dtype) for t in tensors])
    request = pg.comm.Iallreduce(_mpi.load().IN_PLACE, flat, mpi_op(op, tensors[0]._data.dtype))

    def finish():
        if RedOpType(op) == RedOpType.AVG:
            average(flat, pg.size())
        start = 0
        for tensor in tensors:
            store(tensor, flat[start:start + tensor.numel()].reshape(tensor._data.shape))
            start += tensor.numel()

    return _finish(Work(request, finish, tensors), async_op)


def _reducible_dtype(dtype):
    """The dtype MPI reduces arrays of `dtype` in (NOTE [Buffers MPI can reduce])."""
    if dtype.name == "bool":
        return xp.dtype(xp.uint8)
    if dtype.name in ("float16", "bfloat16"):
        return xp.dtype(xp.float32)
    return dtype


@_deprecated
def all_gather_coalesced(output_tensor_lists, input_tensor_list, group=None,
                         async_op: bool = False):
    """output_tensor_lists[r][i] = rank r's input_tensor_list[i] on every rank, in one call."""
    if not is_member(group, "all_gather_coalesced"):
        return None
    _check_tensor_list(input_tensor_list, "input_tensor_list")
    _check_same_dtype(input_tensor_list)
    if not isinstance(output_tensor_lists, list):
        raise TypeError("Invalid function argument: output_tensor_lists should be a list")
    for outputs in output_tensor_lists:
        _check_tensor_list(outputs, "output_tensor_lists")
        _check_same_dtype(outputs)
    pg = resolve(group)
    if len(output_tensor_lists) != pg.size():
        raise RuntimeError(f"allgather_coalesced: output tensor lists should have the same "
                           f"length as the group size {pg.size()}, got "
                           f"{len(output_tensor_lists)}")
    send = xp.concatenate([as_bytes(xp.ascontiguousarray(t._data)) for t in input_tensor_list]
                          or [xp.empty(0, dtype=xp.uint8)])
    recv = xp.empty((pg.size(), send.size), dtype=xp.uint8)
    request = pg.comm.Iallgather(send, recv)

    def finish():
        for outputs, row in zip(output_tensor_lists, recv):
            start = 0
            for out, given in zip(outputs, input_tensor_list):
                size = given._data.nbytes
                value = row[start:start + size].view(given._data.dtype)
                store(out, value.reshape(out._data.shape))
                start += size

    return _finish(Work(request, finish, output_tensor_lists), async_op)
