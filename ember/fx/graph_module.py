"""GraphModule: a Module whose forward is the code generated from a Graph (matches
`torch.fx.GraphModule`). Its class is named after the traced module, so it prints like it."""

from ember.fx.graph import Graph
from ember.nn.modules.module import Module


def _copy_attribute(source, target, qualified_name):
    """Copy source's submodule/parameter at `a.b.c` into target, creating `a`, `b` as needed."""
    *path, last = qualified_name.split(".")
    for part in path:
        source = getattr(source, part)
        if part not in target._modules:
            target.add_module(part, Module())
        target = getattr(target, part)
    setattr(target, last, getattr(source, last))


class GraphModule(Module):
    """A module made of `root`'s submodules and parameters that runs `graph`."""

    def __new__(cls, *args, **kwargs):
        # one class per instance, named after the traced module (torch does the same)
        class_name = args[2] if len(args) > 2 else kwargs.get("class_name", "GraphModule")
        if cls is GraphModule:
            cls = type(class_name, (GraphModule,), {})
        return super().__new__(cls)

    def __init__(self, root, graph, class_name="GraphModule"):
        super().__init__()
        self.__class__.__name__ = class_name
        if isinstance(root, Module):
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    try:
                        _copy_attribute(root, self, node.target)
                    except AttributeError:
                        pass  # a tensor constant: set by symbolic_trace
        self.graph = graph

    @property
    def graph(self) -> Graph:
        return self._graph

    @graph.setter
    def graph(self, graph):
        object.__setattr__(self, "_graph", graph)
        graph.owning_module = self
        self.recompile()

    def recompile(self):
        """Generate forward from the graph again (after editing the graph)."""
        source, globals_ = self._graph.python_code("self")
        namespace = dict(globals_)
        exec(compile(source, f"<eval_with_key>.{id(self)}", "exec"), namespace)  # noqa: S102
        object.__setattr__(self, "_code", source)
        type(self).forward = namespace["forward"]
        return source

    @property
    def code(self) -> str:
        return self._code

    def print_readable(self, print_output=True):
        text = f"class {type(self).__name__}(torch.nn.Module):" + \
            self._code.replace("\n", "\n    ").rstrip() + "\n"
        if print_output:
            print(text)
        return text
