"""A model's graph for TensorBoard's Graphs tab, traced from one forward pass.

torch traces with TorchScript; ember has no JIT, so the graph is read off two things a forward
pass leaves behind:

- forward hooks on every module record each call's inputs and outputs. A call of a module with
  no children (Conv2d, ReLU, ...) becomes ONE node, named by its place in the model
  (`Net/Sequential[body]/Conv2d[0]`, TensorBoard draws the `/` levels as nested boxes);
- the autograd graph (`grad_fn.next_functions`) links those nodes and supplies the ops that
  happen outside leaf modules (`x + 1`, `reshape`, `flatten` in a forward), each placed in the
  box of the innermost module whose forward ran it. The inputs are traced as tensors that
  require grad so that even a model without parameters leaves an autograd graph.

Every node carries `_output_shapes`, which TensorBoard prints on the edges.
"""

import re

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ember.autograd.grad_mode import enable_grad


class _Call:
    """One module call seen by the hooks: where it sits, what went in and what came out."""

    def __init__(self, scope, module, inputs, outputs, collapse):
        self.scope, self.module = scope, module
        self.inputs, self.outputs = _tensors(inputs), _tensors(outputs)
        self.collapse = collapse  # a leaf module below the root: drawn as one node


def _is_tensor(x) -> bool:
    return hasattr(x, "_data") and hasattr(x, "grad_fn")


def _tensors(obj) -> list:
    """The tensors in a (nested) tuple/list/dict of forward arguments or results."""
    found, stack = [], [obj]
    while stack:
        item = stack.pop()
        if _is_tensor(item):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


def _children(module):
    if hasattr(module, "named_children"):
        return list(module.named_children())
    return list(getattr(module, "_modules", {}).items())


def _scopes(model) -> list:
    """(scope, module, is_leaf) for every module, the root first: `Net/Conv2d[conv1]`."""
    result, stack = [], [(type(model).__name__, model)]
    while stack:
        scope, module = stack.pop()
        children = [(n, m) for n, m in _children(module) if m is not None]
        result.append((scope, module, not children))
        stack.extend((f"{scope}/{type(m).__name__}[{n}]", m) for n, m in reversed(children))
    return result


def _trace(model, inputs) -> tuple:
    """Run model(*inputs) with hooks on every module; return (calls, outputs)."""
    calls, handles, wrapped = [], [], []
    for index, (scope, module, leaf) in enumerate(_scopes(model)):
        collapse = leaf and index > 0

        def record(mod, args, output, scope=scope, collapse=collapse):
            calls.append(_Call(scope, mod, args, output, collapse))

        if hasattr(module, "register_forward_hook"):
            handles.append(module.register_forward_hook(record))
        else:  # a module class without hooks: wrap its forward for the duration of the trace
            def forward(*args, _forward=module.forward, _record=record, _module=module):
                output = _forward(*args)
                _record(_module, args, output)
                return output

            object.__setattr__(module, "forward", forward)
            wrapped.append(module)
    try:
        with enable_grad():
            outputs = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module in wrapped:
            object.__delattr__(module, "forward")
    return calls, outputs


def _shape_attr(shapes) -> AttrValue:
    protos = [TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(s)) for s in shape])
              for shape in shapes]
    return AttrValue(list=AttrValue.ListValue(shape=protos))


def _op_name(grad_fn) -> str:
    """`AddmmBackward0` -> `Addmm`: the forward op an autograd node stands for."""
    return re.sub(r"Backward\d*$", "", grad_fn.name()) or grad_fn.name()


def _region(call) -> set:
    """ids of the autograd nodes a call's forward created: reachable from its outputs,
    stopping at its inputs' nodes."""
    stop = {id(t.grad_fn) for t in call.inputs if t.grad_fn is not None}
    seen, stack = set(), [t.grad_fn for t in call.outputs if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen or id(fn) in stop:
            continue
        seen.add(id(fn))
        stack.extend(next_fn for next_fn, _ in getattr(fn, "next_functions", ()))
    return seen


def graph(model, args=None, verbose: bool = False) -> tuple:
    """Trace model(*args): its GraphDef and the (empty) CPU step stats torch logs with it, the
    pair `add_graph` logs."""
    args = () if args is None else args
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    inputs = tuple(a.detach().requires_grad_(True)
                   if _is_tensor(a) and a.dtype.is_floating_point else a for a in args)
    calls, outputs = _trace(model, inputs)
    root = type(model).__name__
    params = {}
    if hasattr(model, "named_parameters"):
        params = {id(p): name for name, p in model.named_parameters()}

    # Who produced a tensor: an input, a collapsed module call, or an autograd node.
    by_tensor = {id(t): ("input", i) for i, t in enumerate(_tensors(inputs))}
    by_grad_fn = {}
    for n, call in enumerate(calls):
        if not call.collapse:
            continue
        own = {id(t) for t in call.inputs} | {id(t.grad_fn) for t in call.inputs}
        for t in call.outputs:
            if id(t) not in own:
                by_tensor[id(t)] = ("call", n)
            if t.grad_fn is not None and id(t.grad_fn) not in own:
                by_grad_fn[id(t.grad_fn)] = ("call", n)
    scope_of = {}  # autograd node id -> the innermost expanded module call that ran it
    for call in sorted((c for c in calls if not c.collapse), key=lambda c: -len(c.scope)):
        for node_id in _region(call):
            scope_of.setdefault(node_id, call.scope)

    objects = {}  # key -> the tensor / call / grad_fn behind a node

    def from_grad_fn(fn):
        if fn is None:
            return None
        if id(fn) in by_grad_fn:
            return by_grad_fn[id(fn)]
        variable = getattr(fn, "variable", None)
        if variable is not None:  # AccumulateGrad: a leaf tensor
            return producer(variable)
        objects[("op", id(fn))] = fn
        return ("op", id(fn))

    def producer(t):
        key = by_tensor.get(id(t))
        if key is not None:
            return key
        if t.grad_fn is not None:
            return from_grad_fn(t.grad_fn)
        if id(t) in params:
            objects[("param", id(t))] = t
            return ("param", id(t))
        return None  # a constant: no edge

    def inputs_of(key):
        kind, ident = key
        if kind == "call":
            found = [producer(t) for t in calls[ident].inputs]
        elif kind == "op":
            found = [from_grad_fn(fn) for fn, _ in objects[key].next_functions]
        else:
            found = []
        return [k for k in found if k is not None and k != key]

    # Depth-first from the outputs with an explicit stack; post-order is a topological order.
    output_keys = [producer(t) for t in _tensors(outputs)]
    order, done, edges = [], set(), {}
    for start in (k for k in output_keys if k is not None):
        stack = [(start, False)]
        while stack:
            key, expanded = stack.pop()
            if expanded:
                order.append(key)
                continue
            if key in done:
                continue
            done.add(key)
            edges[key] = inputs_of(key)
            stack.append((key, True))
            stack.extend((k, False) for k in reversed(edges[key]) if k not in done)

    names, used, nodes = {}, set(), []

    def unique(name):
        candidate, n = name, 0
        while candidate in used:
            n += 1
            candidate = f"{name}_{n}"
        used.add(candidate)
        return candidate

    input_tensors = _tensors(inputs)
    for key in order:
        kind, ident = key
        attrs = {}
        if kind == "input":
            name, op = unique(f"input/input.{ident}"), "IO Node"
            attrs["_output_shapes"] = _shape_attr([input_tensors[ident].shape])
        elif kind == "call":
            call = calls[ident]
            name, op = unique(call.scope), type(call.module).__name__
            attrs["_output_shapes"] = _shape_attr([t.shape for t in call.outputs])
            attrs["attr"] = AttrValue(s=repr(call.module).encode("utf-8"))
        elif kind == "param":
            name, op = unique(f"{root}/{params[ident]}"), "Parameter"
            attrs["_output_shapes"] = _shape_attr([objects[key].shape])
        else:
            fn = objects[key]
            name = unique(f"{scope_of.get(ident, root)}/{_op_name(fn)}")
            op = _op_name(fn)
            meta = getattr(fn, "_output_meta", ())
            attrs["_output_shapes"] = _shape_attr([shape for shape, _ in meta])
        names[key] = name
        nodes.append(NodeDef(name=name, op=op, input=[names[k] for k in edges[key]],
                             attr=attrs))
    for i, (t, key) in enumerate(zip(_tensors(outputs), output_keys)):
        nodes.append(NodeDef(name=unique(f"output/output.{i}"), op="IO Node",
                             input=[names[key]] if key is not None else [],
                             attr={"_output_shapes": _shape_attr([t.shape])}))
    graph_def = GraphDef(node=nodes, versions=VersionDef(producer=22))
    if verbose:
        print(graph_def)
    step_stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(
        device="/device:CPU:0")]))
    return graph_def, step_stats
