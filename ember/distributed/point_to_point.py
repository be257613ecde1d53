"""Point-to-point messages and all-to-all exchanges of tensors (matches `torch.distributed`)."""

from ember._backend import xp
from ember.distributed import _mpi
from ember.distributed._buffers import as_bytes, contiguous, store
from ember.distributed.collectives import Work, _check_list, _check_tensor, _run
from ember.distributed.process_group import is_member, resolve


def isend(tensor, dst=None, group=None, tag: int = 0, group_dst=None):
    """Start sending the tensor to rank dst; returns a Work."""
    _check_tensor(tensor)
    pg = resolve(group)
    peer = group_dst if group_dst is not None else pg.group_rank(dst)
    buf = contiguous(tensor._data)
    return Work(pg.comm.Isend(as_bytes(buf), dest=peer, tag=tag), None, [tensor])


def irecv(tensor, src=None, group=None, tag: int = 0, group_src=None):
    """Start receiving into the tensor from rank src (any rank if None); returns a Work."""
    _check_tensor(tensor)
    pg = resolve(group)
    if group_src is not None:
        peer = group_src
    else:
        peer = _mpi.load().ANY_SOURCE if src is None else pg.group_rank(src)
    buf = contiguous(tensor._data)
    request = pg.comm.Irecv(as_bytes(buf), source=peer, tag=tag)
    return Work(request, lambda: store(tensor, buf), [tensor])


def check_not_self(pg, peer, kind: str) -> None:
    """ValueError for a blocking send/recv naming this very process, as torch's."""
    if peer == pg.rank():
        raise ValueError(f"Invalid {kind} rank: {kind} rank should not be the same as the rank "
                         "of the current process.")


def send(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> None:
    """Send the tensor to rank dst, blocking until the buffer may be reused."""
    _check_tensor(tensor)
    pg = resolve(group)
    check_not_self(pg, group_dst if group_dst is not None else pg.group_rank(dst), "destination")
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> int:
    """Receive into the tensor from rank src (any rank if None); returns the sender's rank."""
    _check_tensor(tensor)
    pg = resolve(group)
    MPI = _mpi.load()
    if group_src is not None:
        peer = group_src
    else:
        peer = MPI.ANY_SOURCE if src is None else pg.group_rank(src)
    if peer == pg.rank():  # torch's recv waits on an irecv from itself, which gloo refuses
        raise RuntimeError(f"recv: rank {peer} cannot receive from itself with a blocking recv")
    buf = contiguous(tensor._data)
    status = MPI.Status()
    pg.comm.Recv(as_bytes(buf), source=peer, tag=tag, status=status)
    store(tensor, buf)
    return pg.ranks[status.Get_source()]


def _exchange(pg, send, send_counts, recv, recv_counts):
    """Start an Alltoallv of bytes: send_counts[i] bytes to rank i, recv_counts[i] from it."""
    send_displs = [sum(send_counts[:i]) for i in range(len(send_counts))]
    recv_displs = [sum(recv_counts[:i]) for i in range(len(recv_counts))]
    MPI = _mpi.load()
    return pg.comm.Ialltoallv([as_bytes(send), (send_counts, send_displs), MPI.BYTE],
                              [as_bytes(recv), (recv_counts, recv_displs), MPI.BYTE])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op: bool = False):
    """Send input_tensor_list[i] to rank i; receive rank i's into output_tensor_list[i]."""
    pg = resolve(group)
    if not is_member(pg, "all_to_all"):
        return None
    _check_list(input_tensor_list, pg.size(), "input_tensor_list")
    _check_list(output_tensor_list, pg.size(), "output_tensor_list")
    dtype = output_tensor_list[0]._data.dtype
    send = xp.concatenate([t._data.reshape(-1).astype(dtype) for t in input_tensor_list])
    recv = xp.empty(sum(t.numel() for t in output_tensor_list), dtype=dtype)
    size = dtype.itemsize
    request = _exchange(pg, send, [t.numel() * size for t in input_tensor_list],
                        recv, [t.numel() * size for t in output_tensor_list])

    def finish():
        start = 0
        for out in output_tensor_list:
            store(out, recv[start:start + out.numel()].reshape(out._data.shape))
            start += out.numel()

    return _run(Work(request, finish, output_tensor_list), async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op: bool = False):
    """Split input on dim 0 and send part i to rank i; receive into output's parts on dim 0."""
    pg = resolve(group)
    if not is_member(pg, "all_to_all_single"):
        return None
    n = pg.size()
    in_splits = input_split_sizes or [input.shape[0] // n] * n
    out_splits = output_split_sizes or [output.shape[0] // n] * n
    in_row = input._data[0:1].nbytes if input.shape[0] else 0
    out_row = output._data[0:1].nbytes if output.shape[0] else 0
    send = xp.ascontiguousarray(input._data.astype(output._data.dtype, copy=False))
    recv = contiguous(output._data)
    request = _exchange(pg, send, [s * in_row for s in in_splits],
                        recv, [s * out_row for s in out_splits])
    return _run(Work(request, lambda: store(output, recv), [output]), async_op)


def batch_isend_irecv(p2p_op_list) -> list:
    """Start every P2POp of the list (all on one group); the Works to wait on."""
    if not isinstance(p2p_op_list, list) or not all(isinstance(op, P2POp) for op in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")  # sic: torch's doubled "to"
    if any(op.group is not p2p_op_list[0].group for op in p2p_op_list):
        raise ValueError("All ops need to use the same group.")
    return [op.op(op.tensor, op.peer, op.group, op.tag) for op in p2p_op_list]


class P2POp:
    """A send or receive to start with batch_isend_irecv (matches `torch.distributed.P2POp`)."""

    def __init__(self, op, tensor, peer=None, group=None, tag: int = 0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type "
                             "``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        _check_tensor(tensor)
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag


__all__ = ["P2POp", "all_to_all", "all_to_all_single", "batch_isend_irecv", "irecv", "isend",
           "recv", "send"]
