"""The graph of a traced run: the ops `torch.jit.trace` saw, in order, printed in
TorchScript's IR layout (`%2 : Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu) =
aten::linear(%x, %weight, %bias)`).

NOTE [What a traced graph shows]
Torch's trace records ATen calls into a TorchScript graph; a traced module's `.graph` shows
calls into its submodules (prim::CallMethod) and `.inlined_graph` the ATen ops. ember runs the
model's Python code (NOTE in _script.py) and records every op that runs through
`Function.apply` during the example run, using the hook ONNX export uses; so `.graph` and
`.inlined_graph` both show the flat op list. An op's name is `aten::` + its ember op class in
snake_case (`Linear` -> aten::linear, `Relu` -> aten::relu), which is torch's name for most
ops; numbers passed to an op appear as prim::Constant nodes, as in torch.
"""

import re

from ember._tensor import Tensor, short_name
from ember.autograd.function import EXPORT_HOOK


class TracedNode:
    """One recorded op: its kind (`aten::relu`), input names and output names."""

    def __init__(self, kind, inputs, outputs, text):
        self._kind, self._inputs, self._outputs, self._text = kind, inputs, outputs, text

    def kind(self) -> str:
        return self._kind

    def inputs(self):
        return list(self._inputs)

    def outputs(self):
        return list(self._outputs)

    def __str__(self):
        return self._text


class TraceGraph:
    """The ops of one traced run (matches the printed form of `torch._C.Graph`)."""

    def __init__(self):
        self._names, self._nodes, self._header, self._returns = {}, [], [], []
        self._count = 0
        self._kept = []  # every named value stays alive, so no id() is reused

    def nodes(self):
        return iter(self._nodes)

    def __str__(self):
        header = ",\n      ".join(self._header)
        body = "".join(f"  {node}\n" for node in self._nodes)
        return f"graph({header}):\n{body}  return ({', '.join(self._returns)})\n"

    __repr__ = __str__

    def _fresh(self):
        self._count += 1
        return f"%{self._count}"

    def _name(self, value, name):
        self._kept.append(value)
        self._names[id(value)] = name

    def add_input(self, name, value):
        self._name(value, f"%{name}")
        self._header.append(f"%{name} : {_type(value)}")

    def name_of(self, value):
        """The %name of an op argument; numbers become prim::Constant nodes first."""
        if id(value) in self._names:
            return self._names[id(value)]
        name = self._fresh()
        if isinstance(value, Tensor):
            self._name(value, name)
            self._nodes.append(TracedNode("prim::Constant", [], [name],
                                          f"{name} : {_type(value)} = prim::Constant()"))
        else:
            self._nodes.append(TracedNode("prim::Constant", [], [name],
                                          f"{name} : {_scalar_type(value)} = "
                                          f"prim::Constant[value={value!r}]()"))
        return name

    def record(self, cls, args, output):
        inputs = [self.name_of(a) for a in args
                  if isinstance(a, (Tensor, bool, int, float)) and a is not None]
        outputs = output if isinstance(output, tuple) else (output,)
        names = []
        for value in outputs:
            names.append(self._fresh())
            self._name(value, names[-1])
        kind = "aten::" + _snake(cls.__name__)
        types = ", ".join(f"{n} : {_type(v)}" for n, v in zip(names, outputs))
        self._nodes.append(TracedNode(kind, inputs, names,
                                      f"{types} = {kind}({', '.join(inputs)})"))

    def set_outputs(self, result):
        values = result if isinstance(result, (tuple, list)) else (result,)
        self._returns = [self._names.get(id(v), "%?") for v in values]


# ember op classes whose snake_case name is not torch's ATen name
_ATEN = {"Convolution": "_convolution", "NormalizeLayer": "layer_norm", "SumAll": "sum",
         "MeanAll": "mean", "ProdAll": "prod", "LinearNoBias": "linear", "Relu": "relu"}


def _snake(name: str) -> str:
    if name in _ATEN:
        return _ATEN[name]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _type(value) -> str:
    if not isinstance(value, Tensor):
        return type(value).__name__
    tail = f"requires_grad={int(value.requires_grad)}, device=cpu"
    if value.dim() == 0:
        return f"{short_name(value.dtype)}({tail})"
    sizes = ", ".join(str(s) for s in value.shape)
    strides = ", ".join(str(s) for s in value.stride())
    return f"{short_name(value.dtype)}({sizes}, strides=[{strides}], {tail})"


def _scalar_type(value) -> str:
    return {bool: "bool", int: "int", float: "float"}.get(type(value), type(value).__name__)


def record_run(fn, args, kwargs, input_names, parameters=()):
    """Run fn(*args, **kwargs) once, recording its ops; (result, TraceGraph). Parameters
    appear under their qualified names (`%0.weight`)."""
    graph = TraceGraph()
    for name, value in zip(input_names, args):
        graph.add_input(name, value)
    for name, value in parameters:
        graph._name(value, f"%{name}")

    def recorder(cls, op_args, op_kwargs):
        EXPORT_HOOK[0] = None  # the op's own inner calls are part of it, not new nodes
        try:
            output = cls.apply(*op_args, **op_kwargs)
        finally:
            EXPORT_HOOK[0] = recorder
        graph.record(cls, op_args, output)
        return output

    previous, EXPORT_HOOK[0] = EXPORT_HOOK[0], recorder
    try:
        result = fn(*args, **kwargs)
    finally:
        EXPORT_HOOK[0] = previous
    graph.set_outputs(result)
    return result, graph
