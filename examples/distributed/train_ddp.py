"""Data-parallel training of a small CNN with DistributedDataParallel: a plain PyTorch script.

It runs unchanged under PyTorch's launcher and under ember's (which serves `torch` from ember
and starts the ranks through MPI):

    torchrun --nproc-per-node 2 examples/distributed/train_ddp.py --steps 20
    ember run --nproc-per-node 2 examples/distributed/train_ddp.py --steps 20

and also as a single process (`python train_ddp.py` / `ember run train_ddp.py`). Each rank
trains on its DistributedSampler share of a synthetic CIFAR-shaped data set (the global batch is
--batch-size, split over the ranks); rank 0 prints the loss, the images per second of the whole
job and the time of one all-reduce of all the gradients.
"""

import argparse
import gc
import os
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


class MyCNN(nn.Module):
    """Two conv-BN-ReLU-maxpool stages and a linear classifier (the benchmarks' MyCNN)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16),
                                   nn.ReLU(), nn.MaxPool2d(2))
        self.conv2 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32),
                                   nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(32 * 8 * 8, num_classes)

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        return self.fc(x.flatten(1))


def synthetic_cifar(n, seed=0):
    """n random 3x32x32 images whose label is decided by their mean colour (learnable)."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 3, 32, 32, generator=generator)
    labels = (images.mean(dim=(2, 3)).argmax(dim=1) * 3 + (images[:, 0, 0, 0] > 0).long()) % 10
    return TensorDataset(images, labels)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=100, help="global batch")
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--bucket-cap-mb", type=float, default=None,
                        help="DDP bucket size (torch's default 25; MyCNN fits in the first one)")
    args = parser.parse_args()

    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1

    torch.manual_seed(0)
    model = MyCNN()
    if distributed:
        model = DDP(model, bucket_cap_mb=args.bucket_cap_mb)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    data = synthetic_cifar(args.batch_size * args.steps)
    sampler = DistributedSampler(data, shuffle=True) if distributed else None
    loader = DataLoader(data, batch_size=args.batch_size // world, sampler=sampler,
                        shuffle=sampler is None)

    start, timed = None, 0
    for step, (images, labels) in enumerate(loader):
        if step == 2:  # the first steps warm up
            start, timed = time.perf_counter(), 0
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        timed += len(images) * world
        if rank == 0 and step % 5 == 0:
            print(f"step {step:3d}  loss {loss.item():.4f}")
    elapsed = time.perf_counter() - start if start is not None else float("nan")

    if distributed:
        grads = torch.cat([p.grad.flatten() for p in model.parameters()])
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(10):
            dist.all_reduce(grads)
        allreduce_ms = (time.perf_counter() - t0) / 10 * 1000
    if rank == 0:
        threads = os.environ.get("OMP_NUM_THREADS", "all")
        print(f"{world} rank(s), {threads} thread(s) each: {timed / elapsed:.0f} images/s")
        if distributed:
            print(f"all-reduce of {grads.numel()} gradients: {allreduce_ms:.2f} ms")
            timing = model._get_ddp_logging_data()  # averages over the steps, in ns
            buckets = len(timing["bucket_sizes"].split(", "))
            print(f"backward per step ({buckets} bucket(s)): compute "
                  f"{timing['avg_backward_compute_time'] / 1e6:.2f} ms, all-reduce "
                  f"{timing['avg_backward_comm_time'] / 1e6:.2f} ms, overlapped "
                  f"{timing['avg_backward_compute_comm_overlap_time'] / 1e6:.2f} ms")
    if distributed:
        # Under torchrun, torch's gloo can abort at exit ("terminate called without an active
        # exception") when a rank leaves while another still works, or when DDP's reducer is
        # only freed during interpreter shutdown; so: free the model now, meet, then leave.
        del model, optimizer
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
