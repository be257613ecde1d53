"""A long training run that watches for leaks: `python -m tests.soak [--mlp-steps 10000
--cnn-steps 2000 --every 500] DIR`.

It trains an MLP and then seed 002's MyCNN on generated data through DataLoader worker
processes, saves and reloads a checkpoint every `--every` steps and logs to TensorBoard, and at
each checkpoint samples this process's resident memory, open file descriptors and threads and
the temporary files left in DIR. It prints one JSON line per sample; tests/test_soak.py runs
it with small counts and checks the samples stay flat after warm-up.
"""

import argparse
import ctypes
import gc
import json
import os

import ember as torch
from ember import nn
from ember.utils.data import DataLoader, TensorDataset
from ember.utils.tensorboard import SummaryWriter


def resident_bytes():
    """This process's resident set size, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _release_free_memory():
    """Collect garbage and hand free heap pages back to the OS (glibc's malloc_trim), so the
    resident size measures live memory, not where the allocator left its free blocks."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def sample(phase, step, directory):
    """One JSON-able measurement of what a leak would make grow."""
    _release_free_memory()
    return {"phase": phase, "step": step, "rss": resident_bytes(),
            "fds": len(os.listdir("/proc/self/fd")), "threads": len(os.listdir("/proc/self/task")),
            "temporaries": sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))}


class MyCNN(nn.Module):
    """Seed 002's MyCNN: two conv-BN-ReLU-maxpool stages and a linear classifier."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(32 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


def batches(dataset, batch_size):
    """Endless batches from a 2-worker DataLoader (new workers every epoch, as users run it)."""
    while True:
        yield from DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2)


def train(phase, model, dataset, steps, every, directory, writer):
    """Train `steps` steps; checkpoint, reload and sample every `every` steps."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    path = os.path.join(directory, f"{phase}.pt")
    for step, (inputs, targets) in enumerate(batches(dataset, 32), start=1):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            writer.add_scalar(f"{phase}/loss", loss.item(), step)
        if step % every == 0:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
            state = torch.load(path)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            print(json.dumps(sample(phase, step, directory)), flush=True)
        if step == steps:
            return


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--mlp-steps", type=int, default=10_000)
    parser.add_argument("--cnn-steps", type=int, default=2_000)
    parser.add_argument("--every", type=int, default=500)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    images = torch.randn(512, 3, 32, 32)
    labels = torch.randint(0, 10, (512,))
    with SummaryWriter(os.path.join(args.directory, "runs")) as writer:
        mlp = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 256), nn.ReLU(),
                            nn.Linear(256, 10))
        train("mlp", mlp, TensorDataset(images, labels), args.mlp_steps, args.every,
              args.directory, writer)
        train("cnn", MyCNN(), TensorDataset(images, labels), args.cnn_steps, args.every,
              args.directory, writer)


if __name__ == "__main__":
    main()
