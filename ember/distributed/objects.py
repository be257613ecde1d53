"""Collectives on picklable Python objects (matches `torch.distributed`'s *_object functions).

Objects travel pickled through mpi4py's lower-case calls (allgather, bcast, ...); tensors inside
them pickle as ember tensors do.
"""

from ember.distributed import _mpi
from ember.distributed.point_to_point import check_not_self
from ember.distributed.process_group import is_member, resolve


def all_gather_object(object_list, obj, group=None) -> None:
    """object_list[i] = rank i's obj, on every rank."""
    pg = resolve(group)
    if not is_member(pg, "all_gather_object"):
        return
    object_list[:] = pg.comm.allgather(obj)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None) -> None:
    """Replace object_list's items with rank src's, on every rank."""
    pg = resolve(group)
    if not is_member(pg, "broadcast_object_list"):
        return
    root = group_src if group_src is not None else pg.group_rank(src or 0)
    values = pg.comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    if pg.rank() != root:  # torch leaves the source's list holding its very objects
        object_list[:] = values


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None) -> None:
    """Collect every rank's obj into object_gather_list on rank dst."""
    pg = resolve(group)
    if not is_member(pg, "gather_object"):
        return
    root = group_dst if group_dst is not None else pg.group_rank(dst or 0)
    values = pg.comm.gather(obj, root=root)
    if pg.rank() == root:
        object_gather_list[:] = values


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None) -> None:
    """scatter_object_output_list[0] = rank src's scatter_object_input_list[rank]."""
    pg = resolve(group)
    if not is_member(pg, "scatter_object_list"):
        return
    root = group_src if group_src is not None else pg.group_rank(src or 0)
    items = list(scatter_object_input_list) if pg.rank() == root else None
    scatter_object_output_list[0] = pg.comm.scatter(items, root=root)


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None) -> None:
    """Send a list of objects to rank dst."""
    pg = resolve(group)
    peer = group_dst if group_dst is not None else pg.group_rank(dst)
    check_not_self(pg, peer, "destination")
    pg.comm.send(list(object_list), dest=peer)


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None) -> int:
    """Receive rank src's list of objects into object_list; returns the sender's rank."""
    pg = resolve(group)
    MPI = _mpi.load()
    status = MPI.Status()
    peer = group_src if group_src is not None else (
        MPI.ANY_SOURCE if src is None else pg.group_rank(src))
    check_not_self(pg, peer, "source")
    values = pg.comm.recv(source=peer, status=status)
    object_list[:len(values)] = values
    return pg.ranks[status.Get_source()]
