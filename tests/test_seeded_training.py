"""A seeded training run is PyTorch's, number for number (issue #17's end-to-end test).

The same program text runs once with `ember` and once with `torch` as the library: seed,
build a CNN (init draws), shuffle the data (RandomSampler's seed and randperm), drop units
(dropout masks) and step SGD. The losses of 20 steps agree to float32 rounding of the
arithmetic. `ember train --seed` is checked the same way against the equivalent torch loop.

Exactness needs every draw to be torch's: uniform_ (init), randperm / random_ (shuffle) and
bernoulli_ (dropout).
"""

import numpy as np
import pytest
import torch

import ember
from ember.cli import train as cli_train

_DATA = np.random.default_rng(17)
IMAGES = _DATA.standard_normal((96, 1, 12, 12)).astype(np.float32)
LABELS = _DATA.integers(0, 10, 96)


def seed_style_run(lib, seed: int, steps: int = 20) -> list:
    """The seed tutorials' loop: a small CNN with dropout, a shuffled DataLoader, SGD."""
    nn = lib.nn
    lib.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3), nn.ReLU(), nn.Dropout2d(0.2), nn.Flatten(),
        nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))
    data = lib.utils.data.TensorDataset(lib.tensor(IMAGES), lib.tensor(LABELS))
    loader = lib.utils.data.DataLoader(data, batch_size=16, shuffle=True)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    model.train()
    while len(losses) < steps:
        for images, labels in loader:
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses


@pytest.mark.parametrize("seed", [42])
def test_seed_style_training_matches_torch(seed):
    """20 steps of the same program give torch's losses (to 1e-5)."""
    ours, theirs = seed_style_run(ember, seed), seed_style_run(torch, seed)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def _torch_train_epoch(seed: int, images, labels) -> float:
    """What `ember train --model mlp --dataset digits --optimizer adam` does in its first
    epoch, written with torch: seed, the seed-003 MLP, a shuffled loader, Adam."""
    torch.manual_seed(seed)
    nn = torch.nn
    model = nn.Sequential(nn.Flatten(), nn.Sequential(
        nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels))
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    total, batches = 0.0, 0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / batches


@pytest.mark.parametrize("seed", [3])
def test_ember_train_first_epoch_matches_torch(seed, tmp_path):
    """`ember train --seed N` (MLP on digits, one epoch) has the first-epoch train loss of
    the same model, data and optimizer under torch."""
    args = ["--epochs", "1", "--seed", str(seed), "--no-tensorboard", "--no-progress",
            "--out-dir", str(tmp_path)]
    assert cli_train.main(args) == 0
    ours = ember.load(str(tmp_path / "checkpoint.pt"), weights_only=False)["losses"][0]
    parsed = cli_train.parse_args(args)
    data = cli_train._setup.make_data(parsed)
    pairs = [data.train[i] for i in range(len(data.train))]
    images = np.stack([image.numpy() for image, _ in pairs])
    labels = np.array([label for _, label in pairs])
    theirs = _torch_train_epoch(seed, images, labels)
    assert abs(ours - theirs) < 1e-5 * max(1.0, abs(theirs))
