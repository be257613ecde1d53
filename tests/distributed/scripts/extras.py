"""Run by tests/distributed/test_extras.py under real torchrun (torch's gloo) and under `ember
run`, 2 ranks: the coalesced collectives, subgroups, futures of async work, stores shared by the
ranks and DDP communication hooks; each case records what it returned (tensors as dtype, shape,
values), warned or raised; rank r pickles its record to OUT/rank{r}.pkl. usage: extras.py OUT
"""

import os
import pickle
import sys
import warnings

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.algorithms.ddp_comm_hooks import (DDPCommHookType, default_hooks,
                                                         register_ddp_comm_hook)
from torch.nn.parallel import DistributedDataParallel as DDP


def plain(value):
    """A picklable, library-free form of a result: tensors as (dtype, shape, values)."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return ("tensor", str(value.dtype), tuple(value.shape), value.tolist())
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [plain(v) for v in value]
    if isinstance(value, dict):
        return "dict", sorted((repr(k), plain(v)) for k, v in value.items())
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    return "object", type(value).__name__


def warned(call):
    """(result, the warnings' categories and messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def coalesced(rank, world):
    def reduce(op, dtype=torch.float32, async_op=False):
        tensors = [torch.arange(6.0).reshape(2, 3).to(dtype) * (rank + 1),
                   torch.tensor([1.5, -2.0, 4.0, 0.25]).to(dtype) + rank]
        work = dist.all_reduce_coalesced(tensors, op=op, async_op=async_op)
        return tensors, (type(work).__name__, plain(work.wait())) if async_op else work

    def gather(async_op=False):
        inputs = [torch.tensor([[1, 1], [1, 1]]) * (rank + 1), torch.tensor([2 + rank]),
                  torch.tensor([3, 3]) - rank]
        outputs = [[torch.full_like(t, -1) for t in inputs] for _ in range(world)]
        work = dist.all_gather_coalesced(outputs, inputs, async_op=async_op)
        return outputs, (plain(work.wait()) if async_op else work)

    mixed = [torch.ones(2), torch.ones(2, dtype=torch.float64)]
    yield "all_reduce_coalesced sum", lambda: warned(lambda: reduce(dist.ReduceOp.SUM))
    yield "all_reduce_coalesced max float64", lambda: reduce(dist.ReduceOp.MAX, torch.float64)
    yield "all_reduce_coalesced async", lambda: reduce(dist.ReduceOp.SUM, async_op=True)
    yield "all_reduce_coalesced one tensor", lambda: (
        lambda t: (dist.all_reduce_coalesced(t), t))(torch.tensor([rank + 0.5]))
    yield "all_reduce_coalesced complex max", lambda: dist.all_reduce_coalesced(
        [torch.ones(2, dtype=torch.complex64)], op=dist.ReduceOp.MAX)
    yield "all_reduce_coalesced mixed dtypes", lambda: dist.all_reduce_coalesced(mixed)
    yield "all_reduce_coalesced not a list", lambda: dist.all_reduce_coalesced((torch.ones(1),))
    yield "all_gather_coalesced", lambda: warned(gather)
    yield "all_gather_coalesced async", lambda: gather(async_op=True)
    yield "all_gather_coalesced bad outputs", lambda: dist.all_gather_coalesced(
        torch.ones(2), [torch.ones(2)])


def futures_and_subgroups(rank, world):
    def async_future():
        t = torch.tensor([1.0, 2.0]) * (rank + 1)
        fut = dist.all_reduce(t, async_op=True).get_future()
        chained = fut.then(lambda f: f.value()[0] * 10)
        return fut.wait(), chained.wait(), fut.done(), t

    def subgroups(make):
        before = dist.get_pg_count()
        current, groups = make()
        t = torch.tensor([rank + 1.0])
        dist.all_reduce(t, group=current)
        return (dist.get_process_group_ranks(current), len(groups), dist.get_pg_count() - before,
                t, dist.get_rank(current), dist.get_world_size(current))

    def outside():
        only_zero = dist.new_group([0])
        t = torch.ones(2)
        calls = [lambda: dist.all_reduce(t, group=only_zero),
                 lambda: dist.broadcast(t, 0, group=only_zero),
                 lambda: dist.all_gather_object([None], 1, group=only_zero),
                 lambda: dist.barrier(group=only_zero)]
        return [warned(call) for call in calls], dist.get_rank(only_zero)

    yield "pg count", dist.get_pg_count
    yield "non-member warnings", outside
    yield "async get_future", async_future
    yield "new_subgroups 1", lambda: subgroups(lambda: dist.new_subgroups(1))
    yield "new_subgroups 2", lambda: subgroups(lambda: dist.new_subgroups(2))
    yield "new_subgroups_by_enumeration", lambda: subgroups(
        lambda: dist.new_subgroups_by_enumeration([[1], [0]]))
    yield "new_subgroups too big", lambda: dist.new_subgroups(3)
    yield "new_subgroups zero", lambda: dist.new_subgroups(0)
    yield "new_subgroups_by_enumeration empty", lambda: dist.new_subgroups_by_enumeration([])
    yield "new_subgroups_by_enumeration overlap", lambda: dist.new_subgroups_by_enumeration(
        [[0, 1], [1]])


def stores(rank, world, out):
    def tcp():
        port = [0]
        if rank == 0:
            # not waiting for the workers: they learn the port only after this returns
            master = dist.TCPStore(os.environ["MASTER_ADDR"], 0, world, True,
                                   wait_for_workers=False)
            port = [master.port]
        dist.broadcast_object_list(port)
        store = master if rank == 0 else dist.TCPStore(os.environ["MASTER_ADDR"], port[0], world)
        store.set(f"from{rank}", f"hello {rank}")
        other = store.get(f"from{1 - rank}")  # blocks until the other rank has set it
        store.add("counter", rank + 1)
        prefixed = dist.PrefixStore("job", store)
        prefixed.set(f"p{rank}", b"x")
        store.wait([f"job/p{1 - rank}"])
        dist.barrier()
        result = (other, store.get("counter"), store.num_keys(), sorted(store.list_keys()),
                  prefixed.check(["p0", "p1"]))
        dist.barrier()  # the master's store serves until everyone has finished
        return result

    def file():
        store = dist.FileStore(os.path.join(out, "file.store"), world)
        store.set(f"r{rank}", str(rank))
        store.wait([f"r{1 - rank}"])
        value = store.get(f"r{1 - rank}")
        store.add("n", 1)
        dist.barrier()
        result = value, store.get("n"), store.num_keys()
        dist.barrier()  # before either store goes (the last one to go removes the file)
        return result

    yield "tcp store", tcp
    yield "file store", file


def ddp_hooks(rank, world):
    def train(register, steps=2, record=None):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
        ddp = DDP(model)
        register(ddp)
        torch.manual_seed(10 + rank)
        for step in range(steps):
            model.zero_grad()
            ddp(torch.randn(5, 4) * 3).pow(2).sum().backward()
        logged = ddp._get_ddp_logging_data().get("comm_hook")
        return [p.grad for p in model.parameters()], logged, record

    def recorder(state, bucket):
        # the last iteration's buckets only: torch lays out its first iteration differently
        if bucket.index() == 0:
            seen.clear()
        seen.append((bucket.index(), bucket.is_last(), tuple(bucket.buffer().shape),
                     [tuple(p.shape) for p in bucket.parameters()],
                     [tuple(g.shape) for g in bucket.gradients()]))
        return default_hooks.allreduce_hook(state, bucket)

    def scaled(state, bucket):  # a hook of its own: scale, then average
        bucket.buffer().mul_(state)
        return default_hooks.allreduce_hook(None, bucket)

    seen = []
    yield "ddp no hook", lambda: train(lambda d: None)
    yield "ddp allreduce_hook", lambda: train(
        lambda d: d.register_comm_hook(dist.group.WORLD, default_hooks.allreduce_hook))
    yield "ddp fp16_compress_hook", lambda: train(
        lambda d: d.register_comm_hook(None, default_hooks.fp16_compress_hook))
    yield "ddp fp16_compress_wrapper", lambda: train(lambda d: d.register_comm_hook(
        None, default_hooks.fp16_compress_wrapper(default_hooks.allreduce_hook)))
    yield "ddp builtin allreduce", lambda: train(
        lambda d: d._register_builtin_comm_hook(dist.BuiltinCommHookType.ALLREDUCE))
    yield "ddp builtin fp16", lambda: train(
        lambda d: d._register_builtin_comm_hook(dist.BuiltinCommHookType.FP16_COMPRESS))
    yield "ddp custom hook", lambda: train(lambda d: d.register_comm_hook(0.5 + rank, scaled))
    yield "ddp bucket seen by a hook", lambda: train(
        lambda d: d.register_comm_hook(None, recorder), record=seen)
    yield "ddp bf16 hook refused", lambda: train(
        lambda d: d.register_comm_hook(None, default_hooks.bf16_compress_hook))
    yield "ddp hook twice", lambda: train(lambda d: [d.register_comm_hook(
        None, default_hooks.allreduce_hook) for _ in range(2)])
    yield "ddp hook then builtin", lambda: train(lambda d: (
        d.register_comm_hook(None, default_hooks.allreduce_hook),
        d._register_builtin_comm_hook(dist.BuiltinCommHookType.ALLREDUCE)))
    yield "ddp noop hook by type", lambda: train(
        lambda d: register_ddp_comm_hook(DDPCommHookType.NOOP, d))
    yield "ddp fp16 hook by type", lambda: train(
        lambda d: register_ddp_comm_hook(DDPCommHookType.FP16_COMPRESS, d, dist.group.WORLD))
    yield "ddp hook not callable", lambda: train(lambda d: d.register_comm_hook(None, 3))

    def tensor_not_future(state, bucket):
        return bucket.buffer()

    def annotated(state, bucket: int):
        return default_hooks.allreduce_hook(state, bucket)

    def returns_int(state, bucket: dist.GradBucket) -> int:
        return default_hooks.allreduce_hook(state, bucket)

    def raised(call):
        try:
            call()
        except RuntimeError as error:  # torch's message starts with pybind's own words
            return "RuntimeError", str(error).endswith(
                "DDP communication hook's callback must return a torch.futures.Future object, "
                "but got torch.Tensor")
        return None

    yield "ddp hook returns a tensor", lambda: raised(lambda: train(
        lambda d: d.register_comm_hook(None, tensor_not_future), steps=1))
    yield "ddp hook bucket annotation", lambda: train(
        lambda d: d.register_comm_hook(None, annotated))
    yield "ddp hook return annotation", lambda: train(
        lambda d: d.register_comm_hook(None, returns_int))


def zero(rank, world):
    from torch.distributed.optim import ZeroRedundancyOptimizer as ZeRO

    def model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))

    def train(ddp, optimizer, steps=3):
        torch.manual_seed(20 + rank)
        for _ in range(steps):
            optimizer.zero_grad()
            ddp(torch.randn(5, 4)).pow(2).mean().backward()
            optimizer.step()

    def adam(bucket_view=False):
        net = model()
        optimizer = ZeRO(net.parameters(), torch.optim.Adam, lr=0.05, betas=(0.8, 0.9),
                         parameters_as_bucket_view=bucket_view)
        train(DDP(net), optimizer)
        mine = [tuple(p.shape) for p in optimizer.optim.param_groups[0]["params"]]
        return list(net.parameters()), mine, len(optimizer.optim.state)

    def saved():
        net = model()
        optimizer = ZeRO(net.parameters(), torch.optim.Adam, lr=0.05)
        train(DDP(net), optimizer, steps=2)
        optimizer.consolidate_state_dict(to=1)
        whole = optimizer.state_dict() if rank == 1 else None
        listed = [whole]
        dist.broadcast_object_list(listed, src=1)
        fresh_net = model()
        fresh = ZeRO(fresh_net.parameters(), torch.optim.Adam, lr=0.01)
        fresh_net.load_state_dict(net.state_dict())
        fresh.load_state_dict(listed[0])
        train(DDP(fresh_net), fresh, steps=1)
        return whole, list(fresh_net.parameters()), fresh.param_groups[0]["lr"]

    def groups():
        net = model()
        optimizer = ZeRO([{"params": net[0].parameters()}], torch.optim.SGD, lr=0.1,
                         momentum=0.9)
        optimizer.add_param_group({"params": net[2].parameters(), "lr": 0.5})
        train(DDP(net), optimizer, steps=2)
        return list(net.parameters()), [len(g["params"]) for g in optimizer.optim.param_groups]

    yield "zero adam", adam
    yield "zero adam bucket view", lambda: adam(True)
    yield "zero state_dict and load", saved
    yield "zero param groups", groups
    yield "zero state_dict not consolidated", lambda: ZeRO(
        model().parameters(), torch.optim.SGD, lr=0.1).state_dict()
    yield "zero tensor params", lambda: ZeRO(torch.ones(2), torch.optim.SGD, lr=0.1)
    yield "zero empty params", lambda: ZeRO([], torch.optim.SGD, lr=0.1)
    yield "zero mixed dtypes", lambda: ZeRO(
        [torch.ones(2, requires_grad=True), torch.ones(2, dtype=torch.float64,
                                                       requires_grad=True)],
        torch.optim.SGD, lr=0.1)


def main(out):
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    record = {}
    for family in (coalesced(rank, world), futures_and_subgroups(rank, world),
                   stores(rank, world, out), ddp_hooks(rank, world), zero(rank, world)):
        for name, case in family:
            if os.environ.get("EXTRAS_VERBOSE"):
                print(rank, name, flush=True)
            try:
                record[name] = plain(case())
            except Exception as error:  # noqa: BLE001 - the exception is the result
                record[name] = ("raised", type(error).__name__, str(error))
            dist.barrier()
    with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(record, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
