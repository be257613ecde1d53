"""ember.fx against torch.fx: the same graph printout and generated code for the same program,
GraphModules that compute what the traced module computes, editing and recompiling a graph,
and torch's errors for untraceable control flow."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import to_ember


def _programs(lib):
    """Small modules/functions written once against a torch-like `lib`."""
    nn = lib.nn

    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 3)
            self.scale = nn.Parameter(lib.ones(3))

        def forward(self, x, y=None):
            h = lib.relu(self.linear(x)) * self.scale
            return lib.flatten(h, 1).sum(dim=-1) + 1, x.size(0)

    class Blocks(nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
            self.register_buffer("offset", lib.zeros(2))

        def forward(self, x):
            y = self.seq(x)[:, 0] - self.offset[0]
            z = -y.relu().view(-1, 1)
            return {"out": z @ z.T, "shape": x.shape}

    class Convs(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            x = self.pool(lib.sigmoid(self.conv(x)))
            return self.head(x.flatten(1)).softmax(dim=1)

    def plain(x):
        return lib.sin(x) / 2 + lib.cos(x) ** 2

    return {"affine": Affine, "blocks": Blocks, "convs": Convs, "plain": lambda: plain}


def _first(value):
    """The first tensor of a program's output (a dict, a tuple or a tensor)."""
    if isinstance(value, dict):
        return value["out"]
    return value[0] if isinstance(value, tuple) else value


INPUTS = {"affine": (2, 4), "blocks": (3, 2), "convs": (2, 1, 4, 4), "plain": (5,)}


def _both(name):
    reference = _programs(torch)[name]()
    ours = _programs(ember)[name]()
    if isinstance(reference, torch.nn.Module):
        ours.load_state_dict({k: to_ember(v) for k, v in reference.state_dict().items()})
    return ours, reference


@pytest.mark.parametrize("name", list(INPUTS))
def test_graph_and_code_print_like_torch(name):
    ours, reference = _both(name)
    traced, expected = ember.fx.symbolic_trace(ours), torch.fx.symbolic_trace(reference)
    assert str(traced.graph) == str(expected.graph)
    assert traced.code == expected.code
    assert repr(traced) == repr(expected)


@pytest.mark.parametrize("name", list(INPUTS))
def test_graph_module_computes_the_same(name):
    ours, reference = _both(name)
    traced = ember.fx.symbolic_trace(ours)
    x = np.random.default_rng(0).normal(size=INPUTS[name]).astype(np.float32)
    out, expected = traced(ember.tensor(x)), reference(torch.tensor(x))
    np.testing.assert_allclose(_first(out).detach().numpy(), _first(expected).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_editing_a_graph_and_recompiling():
    for lib in (ember, torch):
        traced = lib.fx.symbolic_trace(_programs(lib)["plain"]())
        for node in traced.graph.nodes:
            if node.op == "call_function" and node.target is getattr(lib, "sin"):
                node.target = lib.cos
        traced.recompile()
        assert "torch.cos(x)" in traced.code
        assert abs(traced(lib.zeros(1)).item() - 1.5) < 1e-6


def test_control_flow_on_proxies_raises_trace_error():
    class Branchy(ember.nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            return -x

    with pytest.raises(ember.fx.proxy.TraceError, match="control flow"):
        ember.fx.symbolic_trace(Branchy())
    with pytest.raises(RuntimeError, match="'len' is not supported"):
        ember.fx.symbolic_trace(lambda x: len(x))


def _leaf_helper(x):
    return x * 3


ember.fx.wrap("_leaf_helper")


def test_wrapped_functions_are_recorded_as_calls():
    traced = ember.fx.symbolic_trace(lambda x: _leaf_helper(x) + 1)
    nodes = [(n.op, getattr(n.target, "__name__", n.target)) for n in traced.graph.nodes]
    assert ("call_function", "_leaf_helper") in nodes
    assert traced(ember.ones(1)).tolist() == [4.0]
    assert _leaf_helper(ember.ones(1)).tolist() == [3.0]  # restored after tracing


def test_infinite_and_nan_constants_in_generated_code():
    """float('-inf') as an argument is written `-inf` in the code, as torch.fx writes it."""
    outputs = []
    for lib in (ember, torch):
        class Masked(lib.nn.Module):
            def forward(self, x):
                return x.masked_fill(x > 0, float("-inf")).clamp(max=float("inf"))

        traced = lib.fx.symbolic_trace(Masked())
        outputs.append(traced(lib.tensor([1.0, -2.0])).tolist())
    assert outputs[0] == outputs[1] == [float("-inf"), -2.0]
