"""Run by tests/distributed/test_collectives.py on 2+ ranks: every collective against its
expected values (rank r contributes values built from r, so the expectations are closed forms).
Prints 'collectives ok <rank>' at the end; any failed assert makes the job fail."""

import os

import torch
import torch.distributed as dist

DTYPES = [torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8, torch.float16,
          torch.bfloat16, torch.complex64]


def check(got, expected, what):
    assert got.dtype == expected.dtype, (what, got.dtype, expected.dtype)
    assert got.shape == expected.shape, (what, got.shape, expected.shape)
    assert torch.equal(got, expected), (what, got, expected)


def values(rank, dtype, shape=(2, 3)):
    """rank + 1 + arange, of dtype and shape (small ints: exact in every dtype)."""
    return (torch.arange(6).reshape(shape) % 4 + rank + 1).to(dtype)


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and dist.get_backend() == "gloo"
    assert rank == int(os.environ["RANK"]) and world == int(os.environ["WORLD_SIZE"])
    assert os.environ["LOCAL_RANK"] == str(rank) and os.environ["LOCAL_WORLD_SIZE"] == str(world)
    assert os.environ["MASTER_ADDR"] and os.environ["MASTER_PORT"]
    everyone = [values(r, torch.int64) for r in range(world)]
    for dtype in DTYPES:
        total = sum(everyone).to(dtype)
        t = values(rank, dtype)
        dist.all_reduce(t)
        check(t, total, f"all_reduce sum {dtype}")
        if dtype.is_floating_point:
            t = values(rank, dtype)
            dist.all_reduce(t, op=dist.ReduceOp.AVG)
            check(t, (sum(everyone).double() / world).to(dtype), f"all_reduce avg {dtype}")
        if not dtype.is_complex:
            for op, fn in ((dist.ReduceOp.MAX, torch.maximum), (dist.ReduceOp.MIN, torch.minimum),
                           (dist.ReduceOp.PRODUCT, torch.mul)):
                expected = everyone[0]
                for other in everyone[1:]:
                    expected = fn(expected, other)
                t = values(rank, dtype)
                dist.all_reduce(t, op=op)
                check(t, expected.to(dtype), f"all_reduce {op} {dtype}")
        t = values(rank, dtype) * 0 if rank != 1 else values(7, dtype)
        dist.broadcast(t, src=1)
        check(t, values(7, dtype), f"broadcast {dtype}")
        gathered = [torch.zeros(2, 3, dtype=dtype) for _ in range(world)]
        dist.all_gather(gathered, values(rank, dtype))
        for r in range(world):
            check(gathered[r], everyone[r].to(dtype), f"all_gather {dtype}")
    bits = torch.tensor([rank == 0, True, False])
    dist.all_reduce(bits)
    check(bits, torch.tensor([True, True, False]), "all_reduce bool")
    t = torch.tensor([5, 3]) << rank
    dist.all_reduce(t, op=dist.ReduceOp.BOR)
    expected = torch.zeros(2, dtype=torch.int64)
    for r in range(world):
        expected |= torch.tensor([5, 3]) << r
    check(t, expected, "all_reduce bor")

    # a non-contiguous view is reduced in place, through its base
    base = torch.zeros(3, 4)
    view = base.t()
    view += rank + 1
    dist.all_reduce(view)
    check(base, torch.full((3, 4), float(sum(range(1, world + 1)))), "all_reduce of a view")

    t = values(rank, torch.float32)
    dist.reduce(t, dst=0)
    if rank == 0:  # other ranks' tensors are unspecified afterwards (gloo overwrites them)
        check(t, sum(everyone).float(), "reduce")

    out = torch.zeros(world * 2, 3)
    dist.all_gather_into_tensor(out, values(rank, torch.float32))
    check(out, torch.cat(everyone).float(), "all_gather_into_tensor")

    inputs = [torch.full((2,), float(10 * rank + r)) for r in range(world)]
    out = torch.zeros(2)
    dist.reduce_scatter(out, inputs)
    check(out, torch.full((2,), float(sum(10 * q + rank for q in range(world)))), "reduce_scatter")
    out = torch.zeros(2)
    dist.reduce_scatter_tensor(out, torch.cat(inputs))
    check(out, torch.full((2,), float(sum(10 * q + rank for q in range(world)))),
          "reduce_scatter_tensor")

    gathered = [torch.zeros(2, 3) for _ in range(world)] if rank == 0 else None
    dist.gather(values(rank, torch.float32), gathered, dst=0)
    if rank == 0:
        for r in range(world):
            check(gathered[r], everyone[r].float(), "gather")

    received = torch.zeros(2, dtype=torch.int64)
    pieces = [torch.tensor([r, 100 + r]) for r in range(world)] if rank == 0 else None
    dist.scatter(received, pieces, src=0)
    check(received, torch.tensor([rank, 100 + rank]), "scatter")

    outs = [torch.zeros(2) for r in range(world)]
    dist.all_to_all(outs, [torch.full((2,), float(10 * rank + r)) for r in range(world)])
    for r in range(world):
        check(outs[r], torch.full((2,), float(10 * r + rank)), "all_to_all")
    single = torch.zeros(world, 2)
    dist.all_to_all_single(single, torch.arange(world * 2.0).reshape(world, 2) + 100 * rank)
    for r in range(world):
        check(single[r], torch.tensor([2.0 * rank, 2.0 * rank + 1]) + 100 * r,
              "all_to_all_single")

    peer = (rank + 1) % world
    source = (rank - 1) % world
    incoming = torch.zeros(3, dtype=torch.float64)
    work = dist.irecv(incoming, src=source)
    send_work = dist.isend(torch.arange(3, dtype=torch.float64) + rank, dst=peer)
    work.wait()
    send_work.wait()
    assert work.is_completed()
    check(incoming, torch.arange(3, dtype=torch.float64) + source, "isend/irecv")
    if rank == 0:
        dist.send(torch.tensor([42]), dst=1)
    elif rank == 1:
        box = torch.zeros(1, dtype=torch.int64)
        assert dist.recv(box) == 0
        check(box, torch.tensor([42]), "send/recv (any source)")

    t = torch.ones(4) * rank
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() is True and work.is_completed()
    check(t, torch.ones(4) * sum(range(world)), "async all_reduce")
    assert dist.barrier(async_op=True).wait()

    objects = [None] * world
    dist.all_gather_object(objects, {"rank": rank, "name": f"r{rank}"})
    assert objects == [{"rank": r, "name": f"r{r}"} for r in range(world)], objects
    items = ["a", 1, torch.tensor([1.5])] if rank == 0 else [None, None, None]
    dist.broadcast_object_list(items, src=0)
    assert items[:2] == ["a", 1] and torch.equal(items[2], torch.tensor([1.5])), items

    pair = dist.new_group([0, 1])
    assert dist.get_world_size(pair) == 2 and dist.get_rank(pair) == (rank if rank < 2 else -1)
    if rank < 2:
        t = torch.tensor([float(rank)])
        dist.all_reduce(t, group=pair)
        check(t, torch.tensor([1.0]), "all_reduce on a new group")
    assert dist.group.WORLD is not None and dist.get_world_size(dist.group.WORLD) == world
    dist.barrier()
    dist.destroy_process_group()
    assert not dist.is_initialized()
    print(f"collectives ok {rank}")


if __name__ == "__main__":
    main()
