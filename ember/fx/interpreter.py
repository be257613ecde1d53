"""Interpreter and Transformer: run a GraphModule node by node, or rebuild its graph through
overridable per-node methods (matches `torch.fx.Interpreter` / `torch.fx.Transformer`)."""

from ember.fx.graph import Graph
from ember.fx.graph_module import GraphModule
from ember.fx.node import Node, map_arg
from ember.fx.proxy import Proxy

__all__ = ["Interpreter", "Transformer"]


class Interpreter:
    """Runs a GraphModule's graph one node at a time; override `call_function`, `call_module`,
    ... to change what a node does (matches `torch.fx.Interpreter`)."""

    def __init__(self, module, garbage_collect_values=True, graph=None):
        self.module = module
        self.submodules = dict(module.named_modules())
        self.graph = graph if graph is not None else module.graph
        self.env = {}
        self.garbage_collect_values = garbage_collect_values

    def run(self, *args, initial_env=None, enable_io_processing=True):
        """Run the graph on args; the value of its output node."""
        self.env = dict(initial_env or {})
        self.args_iter = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            self.env[node] = self.run_node(node)
            if node.op == "output":
                return self.env[node]
        return None

    def run_node(self, n: Node):
        """Dispatch to the method named after the node's op."""
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        return getattr(self, n.op)(n.target, args, kwargs)

    def placeholder(self, target, args, kwargs):
        try:
            return next(self.args_iter)
        except StopIteration:
            if args:  # the placeholder's default value
                return args[0]
            raise RuntimeError(f"Expected positional argument for parameter {target}, but one "
                               "was not passed in!") from None

    def get_attr(self, target, args, kwargs):
        return self.fetch_attr(target)

    def call_function(self, target, args, kwargs):
        return target(*args, **kwargs)

    def call_method(self, target, args, kwargs):
        self_obj, *rest = args
        return getattr(self_obj, target)(*rest, **kwargs)

    def call_module(self, target, args, kwargs):
        return self.fetch_attr(target)(*args, **kwargs)

    def output(self, target, args, kwargs):
        return args[0]

    def fetch_attr(self, target: str):
        """The attribute of the module at a dotted path."""
        value = self.module
        for i, part in enumerate(target.split(".")):
            if not hasattr(value, part):
                raise RuntimeError(f"Node referenced nonexistent target "
                                   f"{'.'.join(target.split('.')[:i + 1])}")
            value = getattr(value, part)
        return value

    def fetch_args_kwargs_from_env(self, n: Node):
        """The node's args and kwargs with the values computed for its input nodes."""
        return self.map_nodes_to_values(n.args, n), self.map_nodes_to_values(n.kwargs, n)

    def map_nodes_to_values(self, args, n: Node):
        def load(node):
            if node not in self.env:
                raise RuntimeError(f"Node {n} referenced nonexistent value {node}! Run "
                                   "Graph.lint() to diagnose such issues")
            return self.env[node]
        return map_arg(args, load)


class _GraphAppender:
    """The tracer a Transformer's proxies record into: appends nodes to a new graph."""

    def __init__(self, graph):
        self.graph = graph

    def create_proxy(self, kind, target, args, kwargs, name=None):
        node = self.graph.create_node(kind, target, _unwrap(tuple(args)),
                                      _unwrap(dict(kwargs)), name)
        return Proxy(node, self)


def _unwrap(value):
    """value with every Proxy inside (nested tuples, lists, dicts) replaced by its node."""
    if isinstance(value, Proxy):
        return value.node
    if isinstance(value, tuple):
        items = [_unwrap(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


class Transformer(Interpreter):
    """Rebuilds the graph: each per-node method returns a Proxy in a new graph, and
    `transform()` gives the new GraphModule (matches `torch.fx.Transformer`)."""

    def __init__(self, module):
        super().__init__(module)
        self.new_graph = Graph()
        self.tracer = _GraphAppender(self.new_graph)

    def placeholder(self, target, args, kwargs):
        node = self.new_graph.placeholder(target, *(args[:1]), has_default=bool(args))
        return Proxy(node, self.tracer)

    def get_attr(self, target, args, kwargs):
        return Proxy(self.new_graph.get_attr(target), self.tracer)

    def call_function(self, target, args, kwargs):
        return self.tracer.create_proxy("call_function", target, args, kwargs)

    def call_method(self, target, args, kwargs):
        return self.tracer.create_proxy("call_method", target, args, kwargs)

    def call_module(self, target, args, kwargs):
        return self.tracer.create_proxy("call_module", target, args, kwargs)

    def transform(self) -> GraphModule:
        """The GraphModule of the rebuilt graph, sharing the original's submodules."""
        self.args_iter = iter(())
        result = self.run_placeholders_and_nodes()
        self.new_graph.output(_unwrap(result))
        return GraphModule(self.module, self.new_graph, type(self.module).__name__)

    def run_placeholders_and_nodes(self):
        self.env = {}
        for node in self.graph.nodes:
            if node.op == "output":
                args, _ = self.fetch_args_kwargs_from_env(node)
                return args[0]
            args, kwargs = self.fetch_args_kwargs_from_env(node)
            self.env[node] = getattr(self, node.op)(node.target, args, kwargs)
        return None
