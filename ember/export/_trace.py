"""Tracing a module for export: ember.fx's symbolic tracer, with parameters and buffers read
as graph inputs and ember's own layers written as the functional calls they make.

NOTE [How export traces]
torch.export traces with fake tensors down to ATen ops. ember reuses the ember.fx Tracer (NOTE
[How ember's tracer sees calls] in ember/fx/_symbolic_trace.py): the user's forward runs on
Proxies, so `x.view(x.size(0), -1)` stays symbolic in the batch size and a dynamic dimension
needs no more than the Proxy. ember.nn's layers, leaves for fx, are not left as call_module
nodes: Conv and BatchNorm are written as their `F.conv2d` / `F.batch_norm` calls (with
`num_batches_tracked.add_(1)` in training, as torch's forward does); any other layer's forward
is traced on the Proxies itself (Linear -> F.linear); a layer whose forward cannot run on
Proxies is rolled back and stays one call_module node. Parameters and buffers read in forward
become get_attr nodes, which export lifts to placeholders. Static sizes are plain ints while
tracing (NOTE [Static sizes while tracing] in _values.py); an `if` on a tensor's values raises
torch's GuardOnDataDependentSymNode (torch.cond stays one call, its branch functions held by
the module), an `if` on a dynamic size torch's "Constraints violated" UserError.
"""

import bisect
import builtins
import dis
import inspect
import types

from ember._backend import xp
from ember._higher_order_ops import cond
from ember._tensor import Tensor
from ember.export._errors import GuardOnDataDependentSymNode, UserError
from ember.fx._symbolic_trace import Tracer
from ember.fx.graph import Graph
from ember.fx.proxy import Attribute, Proxy
from ember.export._values import (_SHAPE_ATTRS, any_leaf, evaluate, example_runs, is_shape_read,
                                  static_value)
from ember.nn import functional as F
from ember.nn.modules.batchnorm import _BatchNorm
from ember.nn.modules.conv import Conv1d, Conv2d, Conv3d

_CONV = {Conv1d: "conv1d", Conv2d: "conv2d", Conv3d: "conv3d"}


def _lower_conv(m, x):
    """Conv1d/2d/3d as F.convNd (zero padding only; others stay a call_module)."""
    if m.padding_mode != "zeros":
        return NotImplemented
    fn = getattr(F, _CONV[type(m)])  # looked up now: the recording wrapper while tracing
    return fn(x, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups)


def _lower_batch_norm(m, x):
    """BatchNorm as torch's _BatchNorm.forward writes it: the counter's add_, then F.batch_norm."""
    if m.momentum is None and m.training and m.track_running_stats:
        return NotImplemented  # the cumulative average reads the counter's value
    factor = 0.0 if m.momentum is None else m.momentum
    if m.training and m.track_running_stats and m.num_batches_tracked is not None:
        m.num_batches_tracked.add_(1)
    bn_training = m.training or (m.running_mean is None and m.running_var is None)
    keep = not m.training or m.track_running_stats
    return F.batch_norm(x, m.running_mean if keep else None, m.running_var if keep else None,
                        m.weight, m.bias, bn_training, factor, m.eps)


def _lowering(m):
    if type(m) in _CONV:
        return _lower_conv
    if isinstance(m, _BatchNorm) and type(m).forward is _BatchNorm.forward:
        return _lower_batch_norm
    return None


class _ExportProxy(Proxy):
    """A Proxy that can be unpacked (`a, _ = self.attn(q, q, q)`): as torch.fx's Proxy does,
    it reads the UNPACK_SEQUENCE the caller is running to know how many items to give. Its
    static shape attributes are plain values (NOTE [Static sizes while tracing])."""

    def __getattr__(self, name):
        values = self.node.meta.get("vals") if name in _SHAPE_ATTRS else None
        if values:
            value = static_value([None if v is None else getattr(v, name, None)
                                  for v in values])
            if value is not None:
                return value
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _ExportAttribute(self, name)

    def __bool__(self):
        """`if` on a traced value: torch's errors for a tensor's data or a dynamic size."""
        values = self.node.meta.get("vals")
        if not values:
            return super().__bool__()
        if isinstance(values[0], Tensor):
            raise GuardOnDataDependentSymNode(
                f"Could not guard on data-dependent expression {self.node.name} (a value of "
                f"the tensors, not of their shapes). Use torch.cond to branch on it.")
        symbols = ", ".join(self.tracer.symbols) or "?"
        raise UserError(f'Constraints violated ({symbols})! For more information, run with '
                        f'TORCH_LOGS="+dynamic".\n  - Not all values of {symbols} in the '
                        f"specified range satisfy the guard `{self.node.name}` the program "
                        f"branches on (ember does not narrow a Dim's range to a branch).")

    def __iter__(self):
        frame = inspect.currentframe().f_back
        code = list(dis.get_instructions(frame.f_code))
        at = bisect.bisect_left([i.offset for i in code], frame.f_lasti)
        if at < len(code) and code[at].opname == "UNPACK_SEQUENCE":
            return (self[i] for i in range(code[at].argval))
        return super().__iter__()


class _ExportAttribute(Attribute):
    """`proxy.shape` and other attributes, unpackable too (`B, T = x.shape`)."""

    __iter__ = _ExportProxy.__iter__


class ExportTracer(Tracer):
    """The fx Tracer of NOTE [How export traces]."""

    def trace(self, root, concrete_args=None, runs=(), symbols=()):
        """Record root's forward; `runs` are the input values by name of each example run,
        symbols the Dim each run after the first changes."""
        self._runs, self.symbols = list(runs), list(symbols)
        self.callables, self._branch = {}, None  # functions the graph reads as attributes
        self._copies = [{} for _ in self._runs]  # per run: the leaf layers it runs
        self.failed = set()  # the runs some op failed in (NOTE [Static sizes while tracing])
        self._state = {id(t): name for name, t in root.named_parameters()}
        self._state.update({id(t): name for name, t in root.named_buffers()})
        self._plain = {id(t): prefix + ("." if prefix else "") + name
                       for prefix, m in root.named_modules() for name, t in vars(m).items()
                       if isinstance(t, Tensor)}  # tensors kept as plain attributes
        self._attrs = {}  # qualified name -> the Proxy of its get_attr node
        self.leaves = []  # qualified names left as call_module nodes
        self.root, self.graph, self.tensor_attrs = root, Graph(), {}
        args, kwargs = [root], {}
        for p in list(inspect.signature(type(root).forward).parameters.values())[1:]:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise NotImplementedError("ember.export cannot trace *args / **kwargs in forward")
            has_default = p.default is not p.empty
            node = self.graph.placeholder(p.name, p.default, has_default)
            if self._runs and p.name in self._runs[0]:
                node.meta["vals"] = [run[p.name] for run in self._runs]
            value = concrete_args[p.name] if p.name in concrete_args else \
                _ExportProxy(node, self)
            if p.kind == p.KEYWORD_ONLY:  # fx's tracer passes every input by position
                kwargs[p.name] = value
            else:
                args.append(value)
        with self._patched():
            result = type(root).forward(*args, **kwargs)
        self.graph.output(self.create_arg(result))
        return self.graph

    def _attr(self, name, tensor):
        """The get_attr node of a parameter, buffer or constant; each run gets a copy."""
        if name not in self._attrs:
            node = self.graph.get_attr(name)
            if self._runs:
                node.meta["vals"] = [tensor.detach().clone() for _ in self._runs]
            self._attrs[name] = _ExportProxy(node, self)
        return self._attrs[name]

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        """Parameters and buffers become get_attr nodes (one per name)."""
        if isinstance(attr_val, Tensor) and id(attr_val) in self._state:
            return self._attr(self._state[id(attr_val)], attr_val)
        return attr_val

    def _constant(self, tensor):
        """A tensor argument that is no Proxy: a parameter or buffer, a tensor attribute of a
        module (a constant under its attribute's name, as torch's), or a new constant."""
        if id(tensor) in self._state:
            return self._attr(self._state[id(tensor)], tensor).node
        name = self._plain.get(id(tensor))
        if name is None:  # a tensor made in forward: one constant per tensor
            same = [n for n, t in self.tensor_attrs.items() if t is tensor]
            name = same[0] if same else f"_tensor_constant{len(self.tensor_attrs)}"
        self.tensor_attrs[name] = tensor
        return self._attr(name, tensor).node

    def create_arg(self, value):
        """NumPy scalars (`np.sqrt(d)`) enter the graph as Python numbers, whose code prints;
        a Python function (torch.cond's branches) becomes an attribute the graph reads."""
        if isinstance(value, xp.generic):
            return value.item()
        if isinstance(value, types.FunctionType):
            return self._callable(value).node
        return super().create_arg(value)

    def _callable(self, fn):
        """The get_attr proxy of a function argument (`true_graph_0`, as torch names cond's)."""
        for name, known in self.callables.items():
            if known is fn:
                return self._attrs[name]
        kind = "true_graph" if self._branch == 0 else "false_graph" if self._branch == 1 \
            else "_callable"
        count = sum(n.startswith(kind) for n in self.callables)
        name = f"{kind}_{count}"
        self.callables[name] = fn
        self._attrs[name] = _ExportProxy(self.graph.get_attr(name), self)
        self._attrs[name].node.meta["vals"] = [fn] * len(self._runs)
        return self._attrs[name]

    def create_proxy(self, kind, target, args, kwargs, name=None):
        """A node, run on the example runs; a static shape read gives its plain value."""
        if target is cond and len(args) >= 3:  # name the branches as torch does
            args = list(args)
            for self._branch in (0, 1):
                args[1 + self._branch] = self.create_arg(args[1 + self._branch])
            self._branch = None
        args, kwargs = self.create_arg(tuple(args)), self.create_arg(dict(kwargs))
        values = evaluate(kind, target, args, kwargs, len(self._runs), self.root,
                          self._copies) if self._runs else None
        if values is not None:
            self.failed.update(r for r, v in enumerate(values) if v is None)
            if kind != "call_function" or target is not builtins.getattr:
                if is_shape_read(kind, target, args):
                    value = static_value(values)
                    if value is not None:
                        return value
        node = self.graph.create_node(kind, target, args, kwargs, name)
        node.meta["vals"] = values
        return _ExportProxy(node, self)

    def call_module(self, m, forward, args, kwargs):
        qualified = self.path_of_module(m)
        if not self.is_leaf_module(m, qualified):
            return forward(*args, **kwargs)
        lowering = _lowering(m)
        if lowering is not None and not kwargs and len(args) == 1:
            lowered = lowering(m, args[0])
            if lowered is not NotImplemented:
                return lowered
        mark = len(self.graph.nodes_list)
        try:
            return forward(*args, **kwargs)
        except Exception:  # noqa: BLE001 (any failure on Proxies: keep the layer whole)
            self._rollback(mark)
        self.leaves.append(qualified)
        return self.create_proxy("call_module", qualified, args, kwargs)

    def _rollback(self, mark):
        """Forget the nodes made since `mark` (a layer whose forward failed on Proxies)."""
        dropped = self.graph.nodes_list[mark:]
        for node in reversed(dropped):
            node._set_args((), {})
        del self.graph.nodes_list[mark:]
        gone = set(dropped)
        self._attrs = {k: p for k, p in self._attrs.items() if p.node not in gone}


def trace_for_export(mod, names, values, guards):
    """(graph, tracer, symbols) of mod.forward; inputs holding no tensor are fixed to their
    values, as torch specializes them, and so are the defaults of the parameters not given.
    symbols[r - 1] is the Dim run r changed (NOTE [Static sizes while tracing])."""
    concrete = {n: v for n, v in zip(names, values) if not holds_tensor(v)}
    for p in list(inspect.signature(mod.forward).parameters.values()):
        if p.name not in names and p.default is not p.empty:
            concrete[p.name] = p.default
    runs, symbols = example_runs(values, guards)
    by_name = [{n: v for n, v in zip(names, run) if n not in concrete} for run in runs]
    tracer = ExportTracer()
    graph = tracer.trace(mod, concrete, by_name, symbols)
    return graph, tracer, symbols


def holds_tensor(value) -> bool:
    """Whether value is a tensor or holds one (nested tuples, lists and dict values)."""
    return any_leaf(value, lambda v: isinstance(v, Tensor))
