"""Run by tests/distributed/test_against_torch.py under real torchrun (torch's gloo) and under
`ember run` (ember over MPI), 2 ranks: every case records what it returned or wrote (dtype,
shape, values) or the exception type it raised; rank r pickles its record to OUT/rank{r}.pkl.
The test compares the two libraries' records case by case. usage: probe.py OUT
"""

import os
import pickle
import sys
import warnings

import torch
import torch.distributed as dist
import torch.distributed.distributed_c10d  # noqa: F401 - probed below as dist.distributed_c10d

warnings.simplefilter("ignore")  # torch 2.13 deprecates all_gather_into_tensor & co (FutureWarning)

# gloo has no int16 (torch's MPI backend has): ember's int16 is checked in ember_only()
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8,
          torch.int32, torch.int64, torch.bool, torch.complex64, torch.complex128]
# ember's dtypes that gloo refuses altogether ("Invalid scalar type"): moved as bytes by MPI, the
# float8 ones reduced in float32 and rounded back
WIDER_DTYPES = ["uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2"]
OPS = ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]


def refused(op, dtype, name="all_reduce"):
    """A reduction gloo refuses from C++, sometimes only at a later call on one rank (so torch's
    run skips it and the test checks ember's RuntimeError): BAND/BOR/BXOR on floating or complex
    values, AVG on integers, complex values outside SUM/AVG (all_reduce's check is Python's
    ValueError, raised at once: compared with torch's)."""
    floating = dtype.is_floating_point or dtype.is_complex
    if dtype.is_complex and op not in ("SUM", "AVG"):
        return name != "all_reduce"
    return (op in ("BAND", "BOR", "BXOR") and floating) or (op == "AVG" and not floating)


def plain(value):
    """A picklable, library-free form of a result: tensors as (dtype, shape, values)."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return ("tensor", str(value.dtype), tuple(value.shape), value.tolist())
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str, complex)):
        return value
    return "object", type(value).__name__


def values(rank, dtype, n=6):
    """Values that differ between ranks and need rounding in the narrow float types."""
    base = torch.tensor([0.5, 1.25, 3.0, 7.0, 2.5, 1.0][:n], dtype=torch.float64) * (rank + 1)
    if dtype == torch.bool:
        return torch.tensor([True, rank == 0, False, rank == 1, True, False][:n])
    if dtype.is_complex:
        return (base + 1j * (base - rank)).to(dtype)
    if not dtype.is_floating_point:
        return torch.tensor([1, 3, 6, 5, 12, 7][:n], dtype=dtype) + rank * 2
    return (base / 3).to(dtype)


def without_pickling(rank, world):
    """Collectives and messages of tensors while pickling a tensor fails: raw buffers only."""
    def refuse(self, protocol):
        raise RuntimeError("a tensor was pickled")

    saved = torch.Tensor.__reduce_ex__
    torch.Tensor.__reduce_ex__ = refuse
    try:
        t = torch.arange(4.0) * (rank + 1)
        dist.broadcast(t, src=1)
        gathered = [torch.zeros(4) for _ in range(world)]
        dist.all_gather(gathered, t + rank)
        box = torch.zeros(4)
        if rank == 0:
            dist.send(t * 3, dst=1)
        else:
            dist.recv(box, src=0)
        return t, gathered, box
    finally:
        torch.Tensor.__reduce_ex__ = saved


def reductions(rank, world):
    for dtype in DTYPES:
        for op in OPS:
            t = values(rank, dtype)
            yield f"all_reduce {op} {dtype}", refused(op, dtype), lambda t=t, op=op: (
                dist.all_reduce(t, op=getattr(dist.ReduceOp, op)), t)
        t = values(rank, dtype)
        yield f"reduce SUM {dtype}", lambda t=t: (dist.reduce(t, dst=1), t if rank == 1 else 0)
        t = values(rank, dtype)
        yield f"broadcast {dtype}", lambda t=t: (dist.broadcast(t, src=1), t)
        out = [torch.zeros(6, dtype=dtype) for _ in range(world)]
        yield f"all_gather {dtype}", lambda out=out, dtype=dtype: (
            dist.all_gather(out, values(rank, dtype)), out)
        out = torch.zeros(world * 6, dtype=dtype)
        yield f"all_gather_single {dtype}", lambda out=out, dtype=dtype: (
            dist.all_gather_single(out, values(rank, dtype)), out)
        for op in ("SUM", "MAX", "AVG"):
            out = torch.zeros(3, dtype=dtype)
            yield f"reduce_scatter_single {op} {dtype}", refused(op, dtype, "rs"), \
                lambda out=out, dtype=dtype, op=op: (dist.reduce_scatter_single(
                    out, values(rank, dtype), op=getattr(dist.ReduceOp, op)), out)
        t = values(rank, dtype)
        yield f"reduce PRODUCT {dtype}", refused("PRODUCT", dtype, "reduce"), lambda t=t: (
            dist.reduce(t, dst=0, op=dist.ReduceOp.PRODUCT), t if rank == 0 else 0)


def deprecated_names():
    """torch 2.13's old names of all_gather_single / reduce_scatter_single warn, then work."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, scattered = torch.zeros(4), torch.zeros(1)
        dist.all_gather_into_tensor(out, torch.ones(2))
        dist.reduce_scatter_tensor(scattered, torch.arange(2.0))
    return out, scattered, [(w.category.__name__, str(w.message)) for w in caught]


def shapes_and_views(rank, world):
    yield "deprecated names", deprecated_names
    base = torch.zeros(4, 3)
    yield "broadcast into a transposed view", lambda: (
        dist.broadcast(base.t(), src=0) if rank else
        dist.broadcast(base.t().copy_(torch.arange(12.0).reshape(3, 4)), src=0), base)
    outs = [torch.zeros(3, 2).t() for _ in range(world)]
    yield "all_gather into views", lambda: (
        dist.all_gather(outs, torch.arange(6.0).reshape(2, 3) * (rank + 1)), outs)
    inputs = [torch.arange(4.0) + 10 * rank + r for r in range(world)]
    out = torch.zeros(4)
    yield "reduce_scatter list AVG", lambda: (
        dist.reduce_scatter(out, inputs, op=dist.ReduceOp.AVG), out)
    out2 = torch.zeros(3)
    yield "reduce_scatter_tensor MAX", lambda: (
        dist.reduce_scatter_tensor(out2, torch.tensor([3.0, -1, 4, 1, 5, -9]) * (1 - 2 * rank),
                                   op=dist.ReduceOp.MAX), out2)
    ins2 = torch.arange(12).reshape(6, 2) + 100 * rank
    out4 = torch.zeros(9, 2, dtype=torch.int64)
    split_in = [2, 4] if rank == 0 else [1, 5]
    split_out = [2, 1] if rank == 0 else [4, 5]
    yield "all_to_all_single splits", lambda: (
        dist.all_to_all_single(out4[:sum(split_out)], ins2, split_out, split_in), out4)
    outs6 = [torch.zeros(2, dtype=torch.complex64) for _ in range(world)]
    yield "all_to_all", lambda: (
        dist.all_to_all(outs6, [torch.full((2,), 10 * rank + r + 1j, dtype=torch.complex64)
                                for r in range(world)]), outs6)

def roots_and_objects(rank, world):
    lst = [torch.zeros(2, 2, dtype=torch.int32) for _ in range(world)] if rank == 1 else None
    yield "gather to 1", lambda: (
        dist.gather(torch.full((2, 2), rank + 5, dtype=torch.int32), lst, dst=1), lst)
    recv = torch.zeros(3, dtype=torch.float64)
    pieces = [torch.arange(3.0, dtype=torch.float64) * (r + 1) for r in range(world)]
    yield "scatter from 1", lambda: (
        dist.scatter(recv, pieces if rank == 1 else None, src=1), recv)
    t = values(rank, torch.float32)
    yield "reduce AVG to 0", lambda: (dist.reduce(t, dst=0, op=dist.ReduceOp.AVG),
                                      t if rank == 0 else 0)
    objs = [None] * world
    yield "all_gather_object", lambda: (dist.all_gather_object(objs, {"r": rank, "t": (1, "x")}),
                                        objs)
    got = [None] * world if rank == 0 else None
    yield "gather_object", lambda: (dist.gather_object([rank] * 3, got, dst=0), got)
    sc = [None]
    yield "scatter_object_list", lambda: (
        dist.scatter_object_list(sc, ["a", {"b": 2}] if rank == 0 else None, src=0), sc)
    bl = ["x", 2, {"k": [1.5]}] if rank == 1 else [None, None, None]
    yield "broadcast_object_list", lambda: (dist.broadcast_object_list(bl, src=1), bl)
    box = [None, None]
    yield "send/recv_object_list", lambda: (
        dist.send_object_list(["hi", 3], dst=1) if rank == 0 else
        dist.recv_object_list(box, src=0), box)
    t2 = torch.zeros(3, dtype=torch.int8)
    yield "send/recv tagged", lambda: (
        dist.send(torch.tensor([1, -2, 3], dtype=torch.int8), dst=1, tag=7) if rank == 0 else
        dist.recv(t2, src=0, tag=7), t2)
    yield "recv any source returns the sender", lambda: (
        dist.send(torch.tensor([9.0]), dst=0) if rank == 1 else dist.recv(torch.zeros(1)), 0)


def handles_and_groups(rank, world):
    t = torch.ones(3) * (rank + 1)

    def async_all_reduce():
        work = dist.all_reduce(t, async_op=True)
        return type(work).__name__ != "NoneType", work.wait(), work.is_completed(), t

    yield "async all_reduce", async_all_reduce
    yield "blocking returns None", lambda: (dist.all_reduce(torch.ones(1)), dist.barrier())
    yield "barrier async", lambda: dist.barrier(async_op=True).wait()
    yield "monitored_barrier", lambda: dist.monitored_barrier()
    yield "tensors travel without pickling", lambda: without_pickling(rank, world)
    leaf = torch.ones(2, requires_grad=True)
    yield "all_reduce a leaf that requires grad", lambda: (dist.all_reduce(leaf), leaf.detach())
    x = torch.tensor([1.0, 2.0], requires_grad=True)

    def reduce_in_the_graph():
        y = x * (rank + 2)
        dist.all_reduce(y)
        y.sum().backward()
        return y.detach(), x.grad, y.requires_grad, y.grad_fn is not None

    yield "all_reduce inside the autograd graph", reduce_in_the_graph
    yield "distributed_c10d module", lambda: (
        dist.distributed_c10d._get_default_group(), dist.distributed_c10d.get_world_size(),
        dist.distributed_c10d._rank_not_in_group(None), dist.get_node_local_rank())
    yield "get_backend", lambda: (dist.get_backend(), dist.is_initialized(), dist.get_rank(),
                                  dist.get_world_size())
    yield "group.WORLD", lambda: (dist.get_world_size(dist.group.WORLD),
                                  dist.get_process_group_ranks(dist.group.WORLD))
    solo = dist.new_group([1])
    yield "new_group non-member", lambda: (dist.get_rank(solo), dist.get_world_size(solo),
                                           dist.all_reduce(torch.ones(1), group=solo))
    pair = dist.new_group([1, 0])
    t3 = torch.tensor([rank + 1.0])
    yield "new_group all_reduce", lambda: (dist.all_reduce(t3, group=pair), t3,
                                           dist.get_process_group_ranks(pair),
                                           dist.get_global_rank(pair, 1),
                                           dist.get_group_rank(pair, 1))
    yield "all_gather wrong list length", lambda: dist.all_gather(
        [torch.zeros(2)] * (world + 1), torch.zeros(2))
    yield "all_reduce not a tensor", lambda: dist.all_reduce([1.0, 2.0])
    yield "all_gather_single wrong size", lambda: dist.all_gather_single(
        torch.zeros(5), torch.zeros(2))
    yield "all_gather_single wrong dtype", lambda: dist.all_gather_single(
        torch.zeros(4, dtype=torch.float64), torch.zeros(2))
    yield "all_gather wrong dtype", lambda: dist.all_gather(
        [torch.zeros(2, dtype=torch.float64)] * world, torch.zeros(2))
    yield "all_gather wrong shape", lambda: dist.all_gather([torch.zeros(3)] * world,
                                                            torch.zeros(2))
    ring = torch.zeros(3, dtype=torch.float64)

    def ring_exchange():
        ops = [dist.P2POp(dist.isend, torch.arange(3.0, dtype=torch.float64) + 10 * rank,
                          (rank + 1) % world),
               dist.P2POp(dist.irecv, ring, (rank - 1) % world)]
        works = dist.batch_isend_irecv(ops)
        return len(works), [w.wait() for w in works], ring

    yield "batch_isend_irecv ring", ring_exchange
    yield "P2POp with another op", lambda: dist.P2POp(dist.all_reduce, torch.ones(1), 0)
    yield "batch_isend_irecv of non-P2POps", lambda: dist.batch_isend_irecv([1, 2])
    yield "send to itself", lambda: dist.send(torch.ones(1), dst=rank)
    yield "recv from itself", lambda: dist.recv(torch.ones(1), src=rank)
    yield "send_object_list to itself", lambda: dist.send_object_list([1], dst=rank)
    yield "recv_object_list from itself", lambda: dist.recv_object_list([None], src=rank)
    yield "reduce_scatter wrong list length", lambda: dist.reduce_scatter(
        torch.zeros(2), [torch.zeros(2)] * (world + 1))


def ember_only(rank, world):
    """What gloo refuses and MPI (ember, torch's MPI backend) does: int16, the stacked output of
    all_gather_single, all_to_all with other sizes per rank. Checked against closed forms."""
    for op in ("SUM", "PRODUCT", "MAX", "BXOR"):
        t = values(rank, torch.int16)
        yield f"all_reduce {op} torch.int16", lambda t=t, op=op: (
            dist.all_reduce(t, op=getattr(dist.ReduceOp, op)), t)
    for name in WIDER_DTYPES:
        dtype = getattr(torch, name)
        t = (torch.tensor([1.0, 2.0, 4.0]) * (rank + 1)).to(dtype)
        b = t.clone()
        yield f"all_reduce SUM and broadcast {name}", lambda t=t, b=b: (
            dist.all_reduce(t), dist.broadcast(b, src=1),
            [str(t.dtype), t.float().tolist(), str(b.dtype), b.float().tolist()])
    out0 = [torch.zeros(6, dtype=torch.int16) for _ in range(world)]
    yield "all_gather torch.int16", lambda: (
        dist.all_gather(out0, values(rank, torch.int16)), out0)
    out = torch.zeros(world, 2, 3)
    yield "all_gather_single stacked", lambda: (
        dist.all_gather_single(out, torch.arange(6.0).reshape(2, 3) + rank), out)
    outs5 = [torch.zeros(r + 1, dtype=torch.int32) for r in range(world)]
    yield "all_to_all sizes", lambda: (
        dist.all_to_all(outs5, [torch.full((rank + 1,), 10 * rank + r, dtype=torch.int32)
                                for r in range(world)]), outs5)


def main(out):
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    record = {}
    families = [reductions, shapes_and_views, roots_and_objects, handles_and_groups]
    if torch.__name__ == "ember":  # served as torch by `ember run`
        families.append(ember_only)
    for family in families:
        for name, *skip, case in family(rank, world):
            if skip and skip[0] and torch.__name__ == "torch":
                record[name] = "refused"
                continue
            try:
                record[name] = plain(case())
            except Exception as error:  # noqa: BLE001 - the exception type is the result
                record[name] = ("raised", type(error).__name__)
            dist.barrier()
    with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(record, f)
    dist.barrier()  # every rank done before the group goes (see ddp_train.py's leave())
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
