"""How ember's nodes show PyTorch's graph where the two differ: the edges an op's node lists in
`next_functions` (tensor_slots) and nodes PyTorch has where ember's fused op has none
(shown_node)."""

from ember.autograd.function import _NO_EDGE, NOT_A_TENSOR_EDGE, Node


def tensor_slots(first, count):
    """A `torch_edges` for ops whose PyTorch node lists `count` tensor inputs from argument
    `first` on, a None one (no bias, say) as (None, 0): Where's (a, b), Convolution's (x, w, b)."""
    def torch_edges(node, edges):
        return tuple([_NO_EDGE if edge is NOT_A_TENSOR_EDGE else edge
                      for edge in edges[first:first + count]])
    return staticmethod(torch_edges)


def shown_node(name, next_functions):
    """A node PyTorch's graph has where ember's fused op has none (the TBackward0 between a
    Linear's node and its weight): listed in next_functions, never run by the engine."""
    node = (_SHOWN.get(name) or _SHOWN.setdefault(name, type(name, (Node,), {})))()
    node.next_functions = next_functions
    return node


_SHOWN = {}  # name -> the Node class shown under that name
