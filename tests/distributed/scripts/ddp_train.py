"""Run by tests/nn/parallel/test_distributed.py on 2 ranks: DDP training in float64.

Each rank builds the model from its own seed (DDP must broadcast rank 0's), takes its share of
each global batch through DistributedSampler, and trains STEPS steps of SGD with momentum; the
last step accumulates two micro-batches, the first under no_sync(). Rank r saves its final
parameters and the rank-averaged losses to OUT/rank{r}.pt. usage: ddp_train.py OUT
"""

import gc
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data.distributed import DistributedSampler

STEPS, GLOBAL_BATCH = 5, 8


def make_model():
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)).double()


def make_data():
    torch.manual_seed(1234)
    x = torch.randn(STEPS + 1, GLOBAL_BATCH, 4, dtype=torch.float64)
    y = torch.randn(STEPS + 1, GLOBAL_BATCH, 3, dtype=torch.float64)
    return x, y


def main(out):
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)  # different on every rank: DDP broadcasts rank 0's values
    model = DDP(make_model(), bucket_cap_mb=0.0003)  # two buckets: (2.*) and (0.*)
    assert list(model.state_dict())[0] == "module.0.weight"
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = make_data()
    mine = list(DistributedSampler(range(GLOBAL_BATCH), world, rank, shuffle=False))
    losses = []
    for step in range(STEPS):
        optimizer.zero_grad()
        if step < STEPS - 1:
            loss = nn.functional.mse_loss(model(x[step, mine]), y[step, mine])
            loss.backward()
        else:  # two micro-batches, the first without synchronising
            with model.no_sync():
                first = nn.functional.mse_loss(model(x[step, mine]), y[step, mine]) / 2
                first.backward()
            second = nn.functional.mse_loss(model(x[step + 1, mine]), y[step + 1, mine]) / 2
            second.backward()
            loss = first.detach() + second.detach()
        optimizer.step()
        loss = loss.detach().clone()
        dist.all_reduce(loss, op=dist.ReduceOp.AVG)
        losses.append(loss.item())
    state = {k: v.clone() for k, v in model.module.state_dict().items()}
    logging = model._get_ddp_logging_data()
    torch.save({"state": state, "losses": losses, "logging": logging}, f"{out}/rank{rank}.pt")
    check_unused_parameters_and_buffers(rank)
    del model, optimizer
    leave()


def leave():
    """Free every DDP now and meet before the group goes (torch's gloo can abort at exit when
    a DDP reducer is freed during interpreter shutdown, or a rank leaves early)."""
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


class Branchy(nn.Module):
    """One branch never used; a buffer the forward changes."""

    def __init__(self):
        super().__init__()
        self.used = nn.Linear(3, 2)
        self.unused = nn.Linear(3, 2)
        self.register_buffer("count", torch.zeros(1))

    def forward(self, x):
        self.count += 1
        return self.used(x)


def check_unused_parameters_and_buffers(rank):
    """find_unused_parameters: backward completes, a branch no rank used keeps grad None;
    buffers are rank 0's after construction and at every forward (as under torchrun)."""
    torch.manual_seed(rank)
    module = Branchy()
    module.count += 10 * rank
    model = DDP(module, find_unused_parameters=True)
    assert module.count.item() == 0
    for _ in range(2):
        model.zero_grad()
        model(torch.ones(4, 3) * (rank + 1)).sum().backward()
    assert module.unused.weight.grad is None and module.unused.bias.grad is None
    assert module.used.weight.grad.tolist() == [[6.0, 6.0, 6.0]] * 2  # (4 + 8) / 2 per entry
    assert module.used.bias.grad.tolist() == [4.0, 4.0]
    assert module.count.item() == 2


if __name__ == "__main__":
    main(sys.argv[1])
