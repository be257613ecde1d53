"""add_graph (ember/utils/tensorboard/_graph.py): the traced GraphDef as TensorBoard reads it."""


import pytest

import ember
from ember.utils.tensorboard import SummaryWriter
from tests.utils.tensorboard._reading import load


# ---- graph ---------------------------------------------------------------------------------------
class StandInModule:
    """The least a module needs for add_graph: children in `_modules`, parameters, __call__.

    With hooks=True it also has register_forward_hook (as ember.nn.Module and torch have);
    without, add_graph wraps each module's forward for the trace.
    """

    hooks = False

    def __init__(self):
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", [])

    def __setattr__(self, name, value):
        if isinstance(value, StandInModule):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __call__(self, *args):
        output = self.forward(*args)
        for hook in list(self._forward_hooks):
            hook(self, args, output)
        return output

    def __getattr__(self, name):
        if name == "register_forward_hook" and type(self).hooks:
            return self._register_forward_hook
        raise AttributeError(name)

    def _register_forward_hook(self, hook):
        self._forward_hooks.append(hook)
        hooks = self._forward_hooks

        class Handle:
            def remove(self):
                hooks.remove(hook)

        return Handle()

    def named_parameters(self):
        found, stack = [], [("", self)]
        while stack:
            prefix, module = stack.pop()
            found += [(prefix + k, v) for k, v in vars(module).items()
                      if isinstance(v, ember.Tensor) and v.requires_grad]
            stack += [(prefix + k + ".", m) for k, m in module._modules.items()]
        return found

    def __repr__(self):
        return type(self).__name__ + "()"


class Scale(StandInModule):
    def __init__(self, n):
        super().__init__()
        self.weight = ember.ones(n).requires_grad_()

    def forward(self, x):
        return x * self.weight


class Stack(StandInModule):
    def __init__(self, *modules):
        super().__init__()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class Net(StandInModule):
    def __init__(self):
        super().__init__()
        self.body = Stack(Scale(4), Scale(4))
        self.head = Scale(4)
        self.bias = ember.zeros(4).requires_grad_()

    def forward(self, x):
        return self.head(self.body(x - 1) * 2) + self.bias


@pytest.mark.parametrize("hooks", [True, False])
def test_graph_nodes_edges_and_shapes(tmp_path, hooks):
    model_class = type("Net", (Net,), {"hooks": hooks})
    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_graph(model_class(), ember.ones(2, 4))
    reading = load(tmp_path)
    assert reading.Tags()["graph"] is True
    nodes = {n.name: n for n in reading.Graph().node}
    edges = {name: list(n.input) for name, n in nodes.items()}
    ops = {name: n.op for name, n in nodes.items()}
    assert edges == {
        "input/input.0": [],
        "Net/Sub": ["input/input.0"],
        "Net/Stack[body]/Scale[0]": ["Net/Sub"],
        "Net/Stack[body]/Scale[1]": ["Net/Stack[body]/Scale[0]"],
        "Net/Mul": ["Net/Stack[body]/Scale[1]"],
        "Net/Scale[head]": ["Net/Mul"],
        "Net/bias": [],
        "Net/Add": ["Net/Scale[head]", "Net/bias"],
        "output/output.0": ["Net/Add"],
    }
    assert ops["Net/Scale[head]"] == "Scale" and ops["Net/bias"] == "Parameter"
    assert ops["input/input.0"] == ops["output/output.0"] == "IO Node"
    for name, node in nodes.items():
        shapes = [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]
        assert shapes == ([[4]] if name == "Net/bias" else [[2, 4]]), name
    # the trace left the model as it was: no hooks, no wrapped forward
    model = model_class()
    writer = SummaryWriter(str(tmp_path / "again"))
    writer.add_graph(model, (ember.ones(2, 4),))
    writer.close()
    assert "forward" not in vars(model) and not model._forward_hooks


def test_graph_of_a_parameterless_model(tmp_path):
    class AddOne(StandInModule):
        def forward(self, x):
            return x + 1

    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_graph(AddOne(), ember.tensor(1.0))
    edges = {n.name: list(n.input) for n in load(tmp_path).Graph().node}
    assert edges == {"input/input.0": [], "AddOne/Add": ["input/input.0"],
                     "output/output.0": ["AddOne/Add"]}


def test_graph_comes_with_the_step1_run_metadata(tmp_path):
    """torch's add_graph logs the GraphDef and then RunMetadata tagged 'step1' (empty CPU step
    stats): TensorBoard lists it under run_metadata."""
    import torch
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    tags = []
    for lib, writer_class in ((ember, SummaryWriter), (torch, TorchWriter)):
        with writer_class(str(tmp_path / lib.__name__)) as writer:
            writer.add_graph(lib.nn.Linear(2, 1), lib.ones(3, 2))
        accumulator = load(tmp_path / lib.__name__)
        tags.append((accumulator.Tags()["run_metadata"],
                     str(accumulator.RunMetadata("step1"))))
    assert tags[0] == tags[1]
