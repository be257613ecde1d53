"""Run by tests/nn/parallel/test_ddp_behaviour.py under real torchrun and under `ember run`, 2
ranks: DistributedDataParallel's behaviour case by case (printed form, frozen parameters and
buffers at construction, require_backward_grad_sync, broadcast_buffers=False, unused parameters
without find_unused_parameters, dict outputs, train/eval, state_dict round trip, errors),
recorded as plain values and pickled to OUT/rank{r}.pkl. usage: ddp_probe.py OUT
"""

import gc
import os
import pickle
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from probe import plain


class Net(nn.Module):
    """A used branch, a branch used only when asked, a frozen layer, a counting buffer."""

    def __init__(self):
        super().__init__()
        self.used = nn.Linear(3, 2)
        self.sometimes = nn.Linear(3, 2)
        self.frozen = nn.Linear(3, 3)
        self.frozen.requires_grad_(False)
        self.register_buffer("count", torch.zeros(1))

    def forward(self, x, both=True):
        self.count += 1
        out = self.used(self.frozen(x))
        return {"out": out + self.sometimes(x) if both else out}


def fresh(rank, **kwargs):
    torch.manual_seed(10 + rank)  # different on each rank: DDP broadcasts rank 0's
    module = Net()
    module.count += rank * 100
    return module, DDP(module, **kwargs)


def x_of(rank):
    return torch.arange(12.0).reshape(4, 3) / 7 * (rank + 1)


def construction(rank):
    module, model = fresh(rank)
    return {"repr": repr(model), "module is": model.module is module,
            "params": [p.detach().clone() for p in module.parameters()],
            "buffer": module.count.clone(), "keys": list(model.state_dict()),
            "training": (model.training, module.training,
                         model.eval().training, module.training, model.train().training)}


def gradients(rank):
    module, model = fresh(rank)
    model(x_of(rank))["out"].pow(2).sum().backward()
    averaged = [p.grad.clone() for p in module.parameters() if p.grad is not None]
    model.require_backward_grad_sync = False  # nanoGPT's way to accumulate without syncing
    model(x_of(rank))["out"].sum().backward()
    local = [p.grad.clone() for p in module.parameters() if p.grad is not None]
    model.require_backward_grad_sync = True
    with torch.no_grad():
        model(x_of(rank))
    model(x_of(rank))["out"].sum().backward()
    return {"averaged": averaged, "accumulated locally": local,
            "synced again": [p.grad.clone() for p in module.parameters() if p.grad is not None],
            "frozen grad": module.frozen.weight.grad, "count": module.count.clone()}


def buffers_kept(rank):
    module, model = fresh(rank, broadcast_buffers=False)
    model(x_of(rank))
    return module.count.clone()


def unused_without_find(rank):
    module, model = fresh(rank)
    model(x_of(rank), both=False)["out"].sum().backward()
    first = [p.grad is None for p in module.parameters()]
    try:
        model(x_of(rank), both=False)["out"].sum().backward()
    except RuntimeError:
        return first, "RuntimeError"
    return first, "no error"


def unused_with_find(rank):
    module, model = fresh(rank, find_unused_parameters=True, static_graph=False)
    for both in (False, True, False):
        model.zero_grad()
        model(x_of(rank), both=both)["out"].sum().backward()
    return [None if p.grad is None else p.grad.clone() for p in module.parameters()]


def state_dict_round_trip(rank):
    _, model = fresh(rank)
    state = model.state_dict()
    other, target = fresh(1 - rank)
    target.load_state_dict(state)
    return [p.detach().clone() for p in other.parameters()]


class Tied(nn.Module):
    """nanoGPT's weight tying: the embedding's weight is the output layer's; the square layer
    is applied twice, so its gradient has two contributions."""

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(7, 4)
        self.square = nn.Linear(4, 4)
        self.head = nn.Linear(4, 7, bias=False)
        self.wte.weight = self.head.weight

    def forward(self, idx):
        return self.head(self.square(self.square(self.wte(idx))))


def tied_and_reused_weights(rank):
    torch.manual_seed(5 + rank)
    module = Tied()
    model = DDP(module, bucket_cap_mb=0.00005)  # several buckets
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for step in range(3):
        optimizer.zero_grad()
        idx = torch.tensor([[1, 2, 3], [4, 5, 6]]) * (rank + 1) % 7
        loss = nn.functional.cross_entropy(model(idx).flatten(0, 1), idx.flatten())
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, [p.detach().clone() for p in module.parameters()]


def errors(rank):
    """No trainable parameter; device_ids for a CPU module (nanoGPT passes [local_rank]);
    SyncBatchNorm layers (they need a GPU in torch's DDP)."""
    found = []
    attempts = [lambda: DDP(nn.Linear(2, 2).requires_grad_(False)),
                lambda: DDP(nn.Linear(2, 2), device_ids=[rank]),
                lambda: DDP(nn.Linear(2, 2), device_ids=[0, 1]),
                lambda: DDP(nn.Linear(2, 2), output_device=0),
                lambda: DDP(nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(
                    nn.Linear(2, 4), nn.BatchNorm1d(4))) if hasattr(
                    nn.SyncBatchNorm, "convert_sync_batchnorm") else nn.Sequential(
                    nn.Linear(2, 4), nn.SyncBatchNorm(4)))]
    for attempt in attempts:
        try:
            attempt()
            found.append("no error")
        except (RuntimeError, ValueError) as error:
            found.append((type(error).__name__, str(error)))
        dist.barrier()
    return found


CASES = [construction, gradients, buffers_kept, unused_without_find, unused_with_find,
         state_dict_round_trip, tied_and_reused_weights, errors]


def main(out):
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    record = {}
    for case in CASES:
        try:
            record[case.__name__] = plain(case(rank))
        except Exception as error:  # noqa: BLE001 - the exception type is the result
            record[case.__name__] = ("raised", type(error).__name__, str(error)[:200])
        dist.barrier()
    with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(record, f)
    gc.collect()  # free every DDP before the group goes (see ddp_train.py's leave())
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
