"""ember.fx: symbolic tracing into a graph of nodes, printed and regenerated as Python code
(matches `torch.fx`; see NOTE [How ember's tracer sees calls] in ember/fx/_symbolic_trace.py)."""

from ember.fx._symbolic_trace import Tracer, symbolic_trace, wrap
from ember.fx.graph import Graph
from ember.fx.graph_module import GraphModule
from ember.fx.interpreter import Interpreter, Transformer
from ember.fx.node import Node, map_arg
from ember.fx.proxy import Proxy, TraceError
from ember.fx.subgraph_rewriter import replace_pattern

__all__ = ["Graph", "GraphModule", "Interpreter", "Node", "Proxy", "TraceError", "Tracer",
           "Transformer", "map_arg", "replace_pattern", "symbolic_trace", "wrap"]
