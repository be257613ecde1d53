"""grad_fn.next_functions as PyTorch lists them: no edges for non-tensor arguments, the bias
first and a TBackward0 before the weight for Linear, input/weight/bias for convolutions and
norms (BackwardNode.next_functions, `torch_edges`)."""

import pytest
import torch

import ember

CASES = {
    "softmax": lambda lib, x: x.softmax(0),
    "sum over a dim": lambda lib, x: x.sum(0),
    "mean": lambda lib, x: x.mean(),
    "bce with logits": lambda lib, x: lib.nn.functional.binary_cross_entropy_with_logits(
        x, lib.full((4, 3), 0.5)),
    "mse": lambda lib, x: lib.nn.functional.mse_loss(x, lib.zeros(4, 3)),
    "mul by a number": lambda lib, x: x * 2,
    "mul by a constant tensor": lambda lib, x: x * lib.ones(3),
    "add": lambda lib, x: x + x,
    "clamp": lambda lib, x: x.clamp(0, 1),
    "view": lambda lib, x: x.view(12),
    "select": lambda lib, x: x[1],
    "cat": lambda lib, x: lib.cat([x, x]),
    "where": lambda lib, x: lib.where(x > 0, x, 0.0),
    "relu": lambda lib, x: lib.relu(x),
    "layer_norm": lambda lib, x: lib.nn.functional.layer_norm(x, (3,)),
    "linear": lambda lib, x: lib.nn.functional.linear(x, lib.ones(5, 3, requires_grad=True),
                                                       lib.ones(5, requires_grad=True)),
    "linear without bias": lambda lib, x: lib.nn.functional.linear(
        x, lib.ones(5, 3, requires_grad=True)),
    "linear, bias without grad": lambda lib, x: lib.nn.functional.linear(
        x, lib.ones(5, 3, requires_grad=True), lib.ones(5)),
    "conv2d": lambda lib, x: lib.nn.functional.conv2d(
        x.reshape(1, 1, 4, 3), lib.ones(2, 1, 2, 2, requires_grad=True)),
    "conv2d, input without grad": lambda lib, x: lib.nn.functional.conv2d(
        lib.ones(1, 1, 4, 3), lib.ones(2, 1, 2, 2, requires_grad=True), lib.ones(2)),
}


def _structure(node, depth):
    """(node class name, its next_functions' structure) down to `depth` levels."""
    if node is None:
        return None
    if depth == 0:
        return type(node).__name__
    return type(node).__name__, [(_structure(n, depth - 1), i) for n, i in node.next_functions]


@pytest.mark.parametrize("name", sorted(CASES))
def test_next_functions_as_torch(name):
    shapes = []
    for lib in (ember, torch):
        x = lib.ones(4, 3, requires_grad=True)
        shapes.append(_structure(CASES[name](lib, x).grad_fn, 2))
    assert shapes[0] == shapes[1]


def test_the_blitz_tutorials_walk_through_the_graph():
    """The 60-minute blitz prints loss.grad_fn, then the Linear's node, then what is behind it."""
    walks = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        loss = lib.nn.MSELoss()(net(lib.randn(5, 3)), lib.zeros(5, 2))
        linear = loss.grad_fn.next_functions[0][0]
        walks.append([type(loss.grad_fn).__name__, type(linear).__name__,
                      type(linear.next_functions[0][0]).__name__,
                      repr(linear.next_functions[2][0]).split(" object")[0]])
    assert walks[0] == walks[1]
