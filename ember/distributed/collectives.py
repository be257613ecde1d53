"""Collectives on tensors over MPI (matches `torch.distributed`'s all_reduce, broadcast, ...).

NOTE [One code path for blocking and async_op]
Each collective starts MPI's non-blocking form (Iallreduce, Ibcast, ...) on the tensors' own
contiguous arrays and returns a `Work` that holds the request and the step that finishes the
call (dividing for AVG, copying out of a staging buffer). With async_op=False the Work is waited
on at once and None returned, as torch returns; with async_op=True the caller waits.
Ranks that are not members of `group` return None without taking part, as in torch.
"""

import time

from ember._warnings import warn as _warn
from ember._backend import xp
from ember.distributed import _mpi
from ember.futures import Future
from ember.distributed._buffers import (as_bytes, average, check_reduction, contiguous, mpi_op,
                                        reducible, store)
from ember.distributed.process_group import (GroupMember, RedOpType, ReduceOp, is_member,
                                             resolve)


# NOTE [Timeouts]
# MPI has no timeout on a collective: a rank that never arrives would be waited for forever. When
# the user gives one (init_process_group / new_group `timeout`, or Work.wait(timeout)), waiting
# tests the request every 0.1 ms instead of blocking in MPI, and raises RuntimeError once the
# time is up, as torch's gloo does; the failing script then ends the job through the launcher.
_POLL_SECONDS = 1e-4


def _default_timeout():
    """The default group's timeout in seconds, or None."""
    world = GroupMember.WORLD
    limit = getattr(world, "timeout", None)
    return None if limit is None else limit.total_seconds()


class Work:
    """A started collective: wait() finishes it (matches `torch.distributed.Work`)."""

    def __init__(self, request, finish=None, result=()):
        self._request = request
        self._finish = finish
        self._result = list(result)
        self._done = False

    def wait(self, timeout=None) -> bool:
        """Block until the operation is complete here (or raise once timeout, a timedelta, or
        the group's passes: NOTE [Timeouts]), then apply its last step."""
        if not self._done:
            if self._request is not None:
                limit = timeout.total_seconds() if timeout is not None else _default_timeout()
                if limit is None:
                    self._request.Wait()
                else:
                    self._wait_at_most(limit)
            self._complete()
        return True

    def _wait_at_most(self, seconds: float) -> None:
        """Test the request until it completes; RuntimeError after `seconds`."""
        deadline = time.monotonic() + seconds
        while not self._request.Test():
            if time.monotonic() > deadline:
                raise RuntimeError(f"Timed out waiting {round(seconds * 1000)}ms for the "
                                   "operation to complete: another rank did not take part")
            time.sleep(_POLL_SECONDS)

    def is_completed(self) -> bool:
        """Whether the operation has completed (finishes it if MPI says it has)."""
        if not self._done and (self._request is None or self._request.Test()):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        """Whether the operation completed (MPI errors raise instead of failing quietly)."""
        return self.is_completed()

    def result(self) -> list:
        """The tensors the operation wrote."""
        self.wait()
        return self._result

    def get_future(self):
        """A Future whose value is result() (NOTE [Futures complete when waited on])."""
        return Future._pending(self.result, self.is_completed)

    def _complete(self):
        """Mark done and run the finishing step once."""
        self._done = True
        if self._finish is not None:
            self._finish()


def _run(work, async_op):
    """The Work if async_op, else None after waiting (NOTE [One code path ...])."""
    if async_op:
        return work
    work.wait()
    return None


def _check_tensor(tensor, name="tensor"):
    """TypeError unless tensor is a Tensor, worded as torch's."""
    if not hasattr(tensor, "_data"):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor but got {type(tensor)} instead.")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce the tensor across all ranks, in place on every rank."""
    _check_tensor(tensor)
    pg = resolve(group)
    if not is_member(pg, "all_reduce"):
        return None
    check_reduction(tensor, op, "all_reduce")
    buf = reducible(tensor._data)
    request = pg.comm.Iallreduce(_mpi.load().IN_PLACE, buf, mpi_op(op, tensor._data.dtype))

    def finish():
        if RedOpType(op) == RedOpType.AVG:
            average(buf, pg.size())
        store(tensor, buf)

    return _run(Work(request, finish, [tensor]), async_op)


def reduce(tensor, dst: int = 0, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst=None):
    """Reduce the tensor across ranks into rank dst's tensor."""
    _check_tensor(tensor)
    pg = resolve(group)
    if not is_member(pg, "reduce"):
        return None
    root = group_dst if group_dst is not None else pg.group_rank(dst)
    check_reduction(tensor, op, "reduce")
    buf = reducible(tensor._data)
    reduction = mpi_op(op, tensor._data.dtype)
    if pg.rank() == root:
        request = pg.comm.Ireduce(_mpi.load().IN_PLACE, buf, reduction, root=root)
    else:
        request = pg.comm.Ireduce(buf, None, reduction, root=root)

    def finish():
        if pg.rank() == root:
            if RedOpType(op) == RedOpType.AVG:
                average(buf, pg.size())
            store(tensor, buf)

    return _run(Work(request, finish, [tensor]), async_op)


def broadcast(tensor, src: int = 0, group=None, async_op: bool = False, group_src=None):
    """Copy rank src's tensor into the tensor of every rank."""
    _check_tensor(tensor)
    pg = resolve(group)
    if not is_member(pg, "broadcast"):
        return None
    root = group_src if group_src is not None else pg.group_rank(src)
    buf = contiguous(tensor._data)
    request = pg.comm.Ibcast(as_bytes(buf), root=root)
    return _run(Work(request, lambda: store(tensor, buf), [tensor]), async_op)


def _stacked(tensors):
    """One contiguous (n, *shape) array of the tensors' values."""
    return xp.ascontiguousarray(xp.stack([t._data for t in tensors]))


def _check_list(tensors, size, name):
    """RuntimeError unless the list holds one tensor per rank (as gloo checks it)."""
    if len(tensors) != size:
        raise RuntimeError(f"invalid {name} size: {len(tensors)} tensors, must be world size "
                           f"{size}")


def _check_like(outputs, tensor, name):
    """torch's errors for outputs of another dtype (ValueError) or size (RuntimeError)."""
    for i, out in enumerate(outputs):
        if out.dtype != tensor.dtype:
            raise ValueError("Invalid usage of tensors with different dtypes"
                             f"Found {out.dtype} and  {tensor.dtype}")
        if tuple(out.shape) != tuple(tensor.shape):
            raise RuntimeError(f"{name}: invalid tensor size at index {i} (expected "
                               f"{tuple(tensor.shape)}, got {tuple(out.shape)})")


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """Gather every rank's tensor into tensor_list on every rank."""
    _check_tensor(tensor)
    pg = resolve(group)
    if not is_member(pg, "all_gather"):
        return None
    _check_list(tensor_list, pg.size(), "output tensor list")
    _check_like(tensor_list, tensor, "all_gather")
    send = contiguous(tensor._data)
    recv = xp.empty((pg.size(),) + send.shape, dtype=send.dtype)
    request = pg.comm.Iallgather(as_bytes(send), as_bytes(recv))

    def finish():
        for out, value in zip(tensor_list, recv):
            store(out, value)

    return _run(Work(request, finish, tensor_list), async_op)


def all_gather_single(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Gather every rank's input into one output tensor, concatenated (or stacked) on dim 0."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    pg = resolve(group)
    if not is_member(pg, "all_gather_single"):
        return None
    if output_tensor.dtype != input_tensor.dtype:
        raise RuntimeError(f"all_gather_single: invalid tensor type (expected "
                           f"{input_tensor.dtype}, got {output_tensor.dtype})")
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise RuntimeError("output tensor size must be equal to world_size times input tensor "
                           f"size: {tuple(output_tensor.shape)} vs {tuple(input_tensor.shape)}")
    recv = contiguous(output_tensor._data)
    request = pg.comm.Iallgather(as_bytes(contiguous(input_tensor._data)), as_bytes(recv))
    return _run(Work(request, lambda: store(output_tensor, recv), [output_tensor]), async_op)


def _reduce_scatter_block(output_tensor, send, op, pg, async_op):
    """Reduce a contiguous (size * n) array across ranks; this rank keeps block `rank`."""
    check_reduction(output_tensor, op, "reduce_scatter")
    reduction = mpi_op(op, output_tensor._data.dtype)
    recv = reducible(output_tensor._data)
    if recv is output_tensor._data:
        recv = xp.empty_like(recv)
    request = pg.comm.Ireduce_scatter_block(send, recv, reduction)

    def finish():
        if RedOpType(op) == RedOpType.AVG:
            average(recv, pg.size())
        store(output_tensor, recv)

    return _run(Work(request, finish, [output_tensor]), async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce input_list[i] across ranks into rank i's output."""
    _check_tensor(output, "output")
    pg = resolve(group)
    if not is_member(pg, "reduce_scatter"):
        return None
    _check_list(input_list, pg.size(), "input tensor list")
    send = reducible(_stacked(input_list))
    return _reduce_scatter_block(output, send, op, pg, async_op)


def reduce_scatter_single(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce input (world_size blocks on dim 0) across ranks; rank i keeps block i in output."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = resolve(group)
    if not is_member(pg, "reduce_scatter_single"):
        return None
    if input.numel() != output.numel() * pg.size():
        raise RuntimeError("input tensor must be the same size as output size times world size: "
                         f"{tuple(input.shape)} vs {tuple(output.shape)}")
    return _reduce_scatter_block(output, reducible(input._data), op, pg, async_op)


# torch 2.13 renamed the two single-tensor collectives; the old names still work, with a warning
def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """all_gather_single under its deprecated name (FutureWarning, as torch 2.13)."""
    _warn("`torch.distributed.all_gather_into_tensor` is deprecated. Please use "
                  "`torch.distributed.all_gather_single` instead.", FutureWarning, stacklevel=2)
    return all_gather_single(output_tensor, input_tensor, group, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """reduce_scatter_single under its deprecated name (FutureWarning, as torch 2.13)."""
    _warn("`torch.distributed.reduce_scatter_tensor` is deprecated. Please use "
                  "`torch.distributed.reduce_scatter_single` instead.", FutureWarning,
                  stacklevel=2)
    return reduce_scatter_single(output, input, op, group, async_op)


def gather(tensor, gather_list=None, dst: int = 0, group=None, async_op: bool = False,
           group_dst=None):
    """Collect every rank's tensor into gather_list on rank dst."""
    _check_tensor(tensor)
    pg = resolve(group)
    if not is_member(pg, "gather"):
        return None
    root = group_dst if group_dst is not None else pg.group_rank(dst)
    send = contiguous(tensor._data)
    recv, outputs = None, []
    if pg.rank() == root:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_list(gather_list, pg.size(), "gather_list")
        recv, outputs = xp.empty((pg.size(),) + send.shape, dtype=send.dtype), gather_list
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    request = pg.comm.Igather(as_bytes(send), None if recv is None else as_bytes(recv), root=root)

    def finish():
        for out, value in zip(outputs, recv if recv is not None else ()):
            store(out, value)

    return _run(Work(request, finish, outputs), async_op)


def scatter(tensor, scatter_list=None, src: int = 0, group=None, async_op: bool = False,
            group_src=None):
    """Send scatter_list[i] from rank src into rank i's tensor."""
    _check_tensor(tensor)
    pg = resolve(group)
    if not is_member(pg, "scatter"):
        return None
    root = group_src if group_src is not None else pg.group_rank(src)
    send = None
    if pg.rank() == root:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_list(scatter_list, pg.size(), "scatter_list")
        send = as_bytes(_stacked(scatter_list).astype(tensor._data.dtype, copy=False))
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    recv = contiguous(tensor._data)
    request = pg.comm.Iscatter(send, as_bytes(recv), root=root)
    return _run(Work(request, lambda: store(tensor, recv), [tensor]), async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Block until every rank of the group reaches the barrier."""
    pg = resolve(group)
    if not is_member(pg, "barrier"):
        return None
    return _run(Work(pg.comm.Ibarrier()), async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks: bool = False) -> None:
    """A barrier (matches `torch.distributed.monitored_barrier`: gloo's debugging barrier; over
    MPI a rank that never arrives ends the job through the launcher instead of a timeout)."""
    barrier(group)
