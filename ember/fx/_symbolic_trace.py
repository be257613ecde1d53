"""symbolic_trace: run a module's forward on Proxies and record what it does into a Graph
(matches `torch.fx.symbolic_trace` and `torch.fx.Tracer`).

NOTE [How ember's tracer sees calls]
PyTorch's tracer relies on `__torch_function__` to see `torch.relu(proxy)`. ember has no such
protocol, so while tracing, the Tracer swaps the functions of the `ember` and
`ember.nn.functional` namespaces for wrappers that record a call_function node when an argument
is a Proxy (and call the real function otherwise), and patches `Module.__call__` (leaf modules
become call_module nodes) and `Module.__getattr__` (parameters become get_attr nodes). Everything
is restored when tracing ends. Calls through names a program imported before tracing
(`from torch import relu`) are not seen; `torch.relu`, `F.relu` and tensor methods are.
"""

import contextlib
import functools
import inspect
import sys

from ember._tensor import Tensor
from ember.fx.graph import Graph
from ember.fx.graph_module import GraphModule
from ember.fx.node import Node, map_arg
from ember.fx.proxy import Proxy
from ember.nn.modules.container import Sequential
from ember.nn.modules.module import Module

_WRAPPED_NAMES = []  # (globals dict, name) registered with fx.wrap


def wrap(fn_or_name):
    """Record calls of this module-level function as call_function nodes (matches `fx.wrap`)."""
    caller = inspect.currentframe().f_back.f_globals
    name = fn_or_name if isinstance(fn_or_name, str) else fn_or_name.__name__
    _WRAPPED_NAMES.append((caller, name))
    return fn_or_name


def _has_proxy(value):
    found = []
    map_arg(value, lambda n: found.append(n))
    if found:
        return True
    if isinstance(value, Proxy):
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_proxy(v) for v in value)
    if isinstance(value, dict):
        return any(_has_proxy(v) for v in value.values())
    return False


class Tracer:
    """Turns a module's forward into a Graph (see NOTE [How ember's tracer sees calls])."""

    def __init__(self, autowrap_modules=(), autowrap_functions=(), param_shapes_constant=False):
        self.autowrap_functions = tuple(autowrap_functions)

    def is_leaf_module(self, m, module_qualified_name) -> bool:
        """ember.nn's own layers are leaves (kept as call_module), as torch.nn's are in torch."""
        return type(m).__module__.startswith("ember.nn") and not isinstance(m, Sequential)

    def path_of_module(self, mod) -> str:
        for name, candidate in self.root.named_modules():
            if candidate is mod:
                return name
        raise NameError("module is not installed as a submodule")

    def create_arg(self, value):
        """Proxies become their nodes; tensors that are not parameters become constants."""
        if isinstance(value, Proxy):
            return value.node
        if isinstance(value, (tuple, list)):
            made = [self.create_arg(v) for v in value]
            return type(value)(*made) if hasattr(value, "_fields") else type(value)(made)
        if isinstance(value, dict):
            return {k: self.create_arg(v) for k, v in value.items()}
        if isinstance(value, slice):
            return slice(self.create_arg(value.start), self.create_arg(value.stop),
                         self.create_arg(value.step))
        if isinstance(value, Tensor):
            return self._constant(value)
        return value

    def _constant(self, tensor):
        for name, param in self.root.named_parameters():
            if param is tensor:
                return self.graph.get_attr(name)
        name = f"_tensor_constant{len(self.tensor_attrs)}"
        self.tensor_attrs[name] = tensor
        return self.graph.get_attr(name)

    def create_proxy(self, kind, target, args, kwargs, name=None):
        node = self.graph.create_node(kind, target, self.create_arg(tuple(args)),
                                      self.create_arg(dict(kwargs)), name)
        return Proxy(node, self)

    def call_module(self, m, forward, args, kwargs):
        qualified = self.path_of_module(m)
        if not self.is_leaf_module(m, qualified):
            return forward(*args, **kwargs)
        return self.create_proxy("call_module", qualified, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        """A parameter read in forward becomes a get_attr node (cached per name)."""
        if isinstance(attr_val, Tensor):
            for name, param in self.root.named_parameters():
                if param is attr_val:
                    if name not in parameter_proxy_cache:
                        parameter_proxy_cache[name] = Proxy(self.graph.get_attr(name), self)
                    return parameter_proxy_cache[name]
        return attr_val

    def trace(self, root, concrete_args=None) -> Graph:
        """Record root's forward (a Module or a plain function) into self.graph."""
        self.root = root if isinstance(root, Module) else Module()
        fn = type(root).forward if isinstance(root, Module) else root
        self.graph, self.tensor_attrs = Graph(), {}
        concrete_args = concrete_args or {}
        parameters = list(inspect.signature(fn).parameters.values())
        if isinstance(root, Module):
            parameters = parameters[1:]
        args = [root] if isinstance(root, Module) else []
        for p in parameters:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise NotImplementedError("ember.fx cannot trace *args / **kwargs in forward")
            has_default = p.default is not p.empty
            node = self.graph.placeholder(p.name, p.default, has_default)
            args.append(concrete_args[p.name] if p.name in concrete_args else Proxy(node, self))
        with self._patched():
            result = fn(*args)
        self.graph.output(self.create_arg(result))
        return self.graph

    @contextlib.contextmanager
    def _patched(self):
        """Swap in the recording wrappers for the duration of the trace."""
        namespaces = [sys.modules["ember"], sys.modules["ember.nn.functional"]]
        saved = []
        tracer, cache = self, {}
        for namespace in namespaces:
            for name, fn in list(vars(namespace).items()):
                if inspect.isfunction(fn) or inspect.isbuiltin(fn):
                    saved.append((vars(namespace), name, fn))
                    vars(namespace)[name] = self._recording(fn, f"{_torch_path(namespace)}."
                                                                 f"{name}")
        for globals_, name in _WRAPPED_NAMES:
            if name in globals_:
                saved.append((globals_, name, globals_[name]))
                globals_[name] = self._recording(globals_[name], None)
        original_call, original_getattr = Module.__call__, Module.__getattr__

        def call(module, *args, **kwargs):
            return tracer.call_module(module, functools.partial(original_call, module),
                                      args, kwargs)

        def getattr_(module, name):
            return tracer.getattr(name, original_getattr(module, name), cache)

        Module.__call__, Module.__getattr__ = call, getattr_
        try:
            yield
        finally:
            Module.__call__, Module.__getattr__ = original_call, original_getattr
            for table, name, fn in reversed(saved):
                table[name] = fn

    def _recording(self, fn, qualified_name):
        tracer = self

        @functools.wraps(fn)
        def record(*args, **kwargs):
            if _has_proxy(args) or _has_proxy(kwargs):
                return tracer.create_proxy("call_function", fn, args, kwargs)
            return fn(*args, **kwargs)

        if qualified_name:
            try:
                fn._fx_qualified_name = qualified_name
            except (AttributeError, TypeError):
                pass
        return record


def _torch_path(namespace):
    return "torch" + namespace.__name__[len("ember"):]


def symbolic_trace(root, concrete_args=None) -> GraphModule:
    """Trace root into a GraphModule (matches `torch.fx.symbolic_trace`)."""
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    module = GraphModule(tracer.root, graph, name)
    for attr, tensor in tracer.tensor_attrs.items():
        setattr(module, attr, tensor)
    return module


__all__ = ["Node", "Tracer", "symbolic_trace", "wrap"]
