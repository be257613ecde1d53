"""Seed 000's TensorBoard programs (conv, pooling, sigmoid, Sequential graph, training loss).

Each program is written once, against a `(torch, nn, SummaryWriter)` triple, exactly as the
seed has it, and run twice: with ember and with PyTorch. CIFAR-10 is replaced by random
batches of the same shape (64 x 3 x 32 x 32 in [0, 1], plus a short last batch as a
DataLoader gives). The event files are read back with TensorBoard's EventAccumulator and the
two runs compared: same tags, steps and image sizes; the same pixels where the model has no
random weights.
"""

import io

import numpy as np
import pytest
import torch as real_torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import ember
from ember.utils.tensorboard import SummaryWriter as EmberWriter

KEEP_ALL = {kind: 0 for kind in ("images", "scalars", "histograms", "tensors")}
RNG = np.random.default_rng(0)
BATCHES = [(RNG.random((n, 3, 32, 32), dtype=np.float32), RNG.integers(0, 10, n))
           for n in (64, 64, 16)]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """torch's thread pool only slows these small models down on a shared 2-core machine."""
    threads = real_torch.get_num_threads()
    real_torch.set_num_threads(1)
    yield
    real_torch.set_num_threads(threads)


def frameworks():
    return {"ember": (ember, ember.nn, EmberWriter),
            "torch": (real_torch, real_torch.nn, TorchWriter)}


def batches(torch, batch_size=None):
    """The stand-in CIFAR batches as `torch` tensors (cut to batch_size to keep training quick)."""
    return [(torch.tensor(images[:batch_size]), torch.tensor(labels[:batch_size]))
            for images, labels in BATCHES]


# ---- the seed's programs, unchanged but for the data -------------------------------------------
def conv_program(torch, nn, SummaryWriter, logdir):  # 7-3-Conv.py
    class Howjul(nn.Module):
        def __init__(self):
            super(Howjul, self).__init__()
            self.conv1 = nn.Conv2d(in_channels=3, out_channels=6, kernel_size=3, stride=1,
                                   padding=0)

        def forward(self, x):
            x = self.conv1(x)
            return x

    howjul = Howjul()
    writer = SummaryWriter(logdir)
    step = 0
    for imgs, targets in batches(torch):
        output = howjul(imgs)
        writer.add_images("input", imgs, step)
        output = torch.reshape(output, (-1, 3, 30, 30))
        writer.add_images("output", output, step)
        step = step + 1
    writer.close()


def maxpool_program(torch, nn, SummaryWriter, logdir):  # 7-4-nn_Pooling_dataset.py
    class Howjul(nn.Module):
        def __init__(self):
            super(Howjul, self).__init__()
            self.maxpool1 = nn.MaxPool2d(kernel_size=3, ceil_mode=True)

        def forward(self, input):
            output = self.maxpool1(input)
            return output

    howjul = Howjul()
    writer = SummaryWriter(logdir)
    step = 0
    for imgs, labels in batches(torch):
        writer.add_images("Input", imgs, step)
        output = howjul(imgs)
        writer.add_images("Output", output, step)
        step = step + 1
    writer.close()


def sigmoid_program(torch, nn, SummaryWriter, logdir):  # 7-5-nn_Relu_dataset.py
    class Howjul(nn.Module):
        def __init__(self):
            super(Howjul, self).__init__()
            self.relu1 = nn.ReLU(inplace=False)
            self.sigmoid1 = nn.Sigmoid()

        def forward(self, x):
            output = self.sigmoid1(x)
            return output

    howjul = Howjul()
    writer = SummaryWriter(logdir)
    step = 0
    for imgs, labels in batches(torch):
        writer.add_images("Input", imgs, step)
        output = howjul(imgs)
        writer.add_images("Output", output, step)
        step = step + 1
    writer.close()


def make_sequential_model(nn):  # 7-7-nn_Sequential.py
    class Howjul(nn.Module):
        def __init__(self):
            super(Howjul, self).__init__()
            self.model1 = nn.Sequential(
                nn.Conv2d(3, 32, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(1024, 64),
                nn.Linear(64, 10),
            )

        def forward(self, x):
            x = self.model1(x)
            return x

    return Howjul()


GRAPH_BATCH = 16  # the seed traces torch.ones((64, 3, 32, 32)); 16 keeps the test quick


def graph_program(torch, nn, SummaryWriter, logdir):  # 7-7-nn_Sequential.py
    howjul = make_sequential_model(nn)
    input = torch.ones((GRAPH_BATCH, 3, 32, 32))
    output = howjul(input)
    assert tuple(output.shape) == (GRAPH_BATCH, 10)
    writer = SummaryWriter(logdir)
    writer.add_graph(howjul, input)
    writer.close()


def loss_program(torch, nn, SummaryWriter, logdir):  # 7-9-optim.py, logging the loss
    howjul = make_sequential_model(nn)
    loss = nn.CrossEntropyLoss()
    optim = torch.optim.SGD(howjul.parameters(), lr=0.01)
    writer = SummaryWriter(logdir)
    step = 0
    for imgs, labels in batches(torch, batch_size=4):
        output = howjul(imgs)
        result_loss = loss(output, labels)
        optim.zero_grad()
        result_loss.backward()
        optim.step()
        writer.add_scalar("train_loss", result_loss.item(), step)
        step = step + 1
    writer.close()


# ---- running them ------------------------------------------------------------------------------
def run_both(program, tmp_path):
    readings = {}
    for name, (torch, nn, writer_class) in frameworks().items():
        program(torch, nn, writer_class, str(tmp_path / name))
        readings[name] = EventAccumulator(str(tmp_path / name), size_guidance=KEEP_ALL).Reload()
    return readings["ember"], readings["torch"]


def pixels(event) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))


@pytest.mark.parametrize("program,output_tag,exact_output", [
    (conv_program, "output", False),
    (maxpool_program, "Output", True),
    (sigmoid_program, "Output", True),
])
def test_image_programs(tmp_path, program, output_tag, exact_output):
    ours, theirs = run_both(program, tmp_path)
    input_tag = "input" if program is conv_program else "Input"
    assert sorted(ours.Tags()["images"]) == sorted(theirs.Tags()["images"])
    for tag in (input_tag, output_tag):
        mine, torchs = ours.Images(tag), theirs.Images(tag)
        assert [e.step for e in mine] == [e.step for e in torchs] == [0, 1, 2]
        assert [(e.height, e.width) for e in mine] == [(e.height, e.width) for e in torchs]
        if tag == input_tag or exact_output:
            for a, b in zip(mine, torchs):
                # the same pixels, up to one level where float32 rounding crosses a step
                diff = np.abs(pixels(a).astype(int) - pixels(b).astype(int))
                assert diff.max() <= (0 if tag == input_tag else 1), tag
    first = ours.Images(input_tag)[0]
    assert (first.height, first.width) == (256, 256)  # 64 CIFAR images, 8 a row


def test_graph_program(tmp_path):
    ember_dir = tmp_path / "ember"
    graph_program(ember, ember.nn, EmberWriter, str(ember_dir))
    reading = EventAccumulator(str(ember_dir)).Reload()
    nodes = {n.name: n for n in reading.Graph().node}
    layers = ["Conv2d[0]", "MaxPool2d[1]", "Conv2d[2]", "MaxPool2d[3]", "Conv2d[4]",
              "MaxPool2d[5]", "Flatten[6]", "Linear[7]", "Linear[8]"]
    names = [f"Howjul/Sequential[model1]/{layer}" for layer in layers]
    assert list(nodes) == ["input/input.0"] + names + ["output/output.0"]
    # each layer's output shape, as torch's own forward hooks see them
    shapes = []
    model = make_sequential_model(real_torch.nn)
    for layer in model.model1:
        layer.register_forward_hook(lambda m, i, o: shapes.append([list(o.shape)]))
    model(real_torch.ones((GRAPH_BATCH, 3, 32, 32)))
    for name, previous, shape in zip(names, ["input/input.0"] + names, shapes):
        assert list(nodes[name].input) == [previous]
        assert [[d.size for d in s.dim] for s in nodes[name].attr["_output_shapes"].list.shape] \
            == shape, name
    assert list(nodes["output/output.0"].input) == [names[-1]]


def test_loss_program(tmp_path):
    ours, theirs = run_both(loss_program, tmp_path)
    mine = ours.Scalars("train_loss")
    assert [e.step for e in mine] == [e.step for e in theirs.Scalars("train_loss")] == [0, 1, 2]
    # an untrained 10-class classifier starts near ln(10) in both frameworks
    for reading in (mine, theirs.Scalars("train_loss")):
        assert abs(reading[0].value - np.log(10)) < 0.5
