"""ember.fx: symbolic tracing into a graph of nodes, printed and regenerated as Python code
(matches `torch.fx`; see NOTE [How ember's tracer sees calls] in ember/fx/_symbolic_trace.py)."""

from ember.fx._symbolic_trace import Tracer, symbolic_trace, wrap
from ember.fx.graph import Graph
from ember.fx.graph_module import GraphModule
from ember.fx.node import Node, map_arg
from ember.fx.proxy import Proxy, TraceError

__all__ = ["Graph", "GraphModule", "Node", "Proxy", "TraceError", "Tracer", "map_arg",
           "symbolic_trace", "wrap"]
