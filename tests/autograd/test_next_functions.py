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
    # matmul(vector, matrix) is unsqueeze, mm, squeeze in PyTorch
    "vector @ matrix": lambda lib, x: x[0] @ x[:3],
    "constant vector @ matrix": lambda lib, x: lib.matmul(lib.ones(4), x),
    "vector @ constant matrix": lambda lib, x: x[:, 0] @ lib.ones(4, 2),
    # x[0, 1:3] is a select then a slice in PyTorch (one view per index item)
    "select then slice": lambda lib, x: x[1, 1:3],
    "slice then select": lambda lib, x: x[1:3, 0],
    "unsqueeze, select, slice": lambda lib, x: x[None, 0, 1:],
    "select then advanced": lambda lib, x: x[0, [1, 2]],
    "pow by a number": lambda lib, x: x ** 3,
    "pow by a tensor": lambda lib, x: x ** lib.full((3,), 2.0),
    "number to a tensor power": lambda lib, x: 2 ** x,
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


def _class_losses(lib):
    """cross_entropy and nll_loss over the shapes and options that change torch's composition
    (NOTE [The composition behind a loss node])."""
    f = lib.nn.functional

    def probs(*shape):
        return lib.full(shape, 1.0 / shape[1])

    def index(*shape):
        return lib.zeros(shape, dtype=lib.int64)

    return {
        "ce 2-d": lambda x: f.cross_entropy(x(4, 3), index(4)),
        "ce 2-d none, weight": lambda x: f.cross_entropy(x(4, 3), index(4), weight=lib.ones(3),
                                                         reduction="none"),
        "ce 3-d": lambda x: f.cross_entropy(x(2, 3, 5), index(2, 5)),
        "ce 3-d none": lambda x: f.cross_entropy(x(2, 3, 5), index(2, 5), reduction="none"),
        "ce 4-d": lambda x: f.cross_entropy(x(2, 3, 2, 2), index(2, 2, 2)),
        "ce 5-d none": lambda x: f.cross_entropy(x(2, 3, 2, 2, 2), index(2, 2, 2, 2),
                                                 reduction="none"),
        "ce probabilities": lambda x: f.cross_entropy(x(4, 3), probs(4, 3)),
        "ce probabilities, weight, sum": lambda x: f.cross_entropy(
            x(4, 3), probs(4, 3), weight=lib.ones(3), reduction="sum"),
        "ce probabilities none": lambda x: f.cross_entropy(x(2, 3, 5), probs(2, 3, 5),
                                                           reduction="none"),
        "nll 3-d": lambda x: f.nll_loss(x(2, 3, 5), index(2, 5)),
        "nll 5-d none": lambda x: f.nll_loss(x(2, 3, 2, 2, 2), index(2, 2, 2, 2),
                                             reduction="none"),
        "nll 4-d": lambda x: f.nll_loss(x(2, 3, 2, 2), index(2, 2, 2)),
    }


@pytest.mark.parametrize("name", sorted(_class_losses(torch)))
def test_class_losses_show_torchs_composition(name):
    walks = []
    for lib in (ember, torch):
        def leaf(*shape):
            return lib.ones(shape, requires_grad=True)
        walks.append(_structure(_class_losses(lib)[name](leaf).grad_fn, 6))
    assert walks[0] == walks[1]


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 3, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_class_weight_requiring_grad_is_refused_as_in_torch(loss, shape):
    messages = []
    for lib in (ember, torch):
        x = lib.ones(shape)  # refused even when the input needs no gradient
        target = lib.zeros(shape[:1] + shape[2:], dtype=lib.int64) if len(shape) > 1 else \
            lib.tensor(0)
        with pytest.raises(RuntimeError) as caught:
            getattr(lib.nn.functional, loss)(x, target, weight=lib.ones(3, requires_grad=True))
        messages.append(str(caught.value))
        with lib.no_grad():
            getattr(lib.nn.functional, loss)(x, target, weight=lib.ones(3, requires_grad=True))
    assert messages[0] == messages[1]
