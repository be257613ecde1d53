"""replace_pattern: find every occurrence of a pattern function's graph in a GraphModule and
replace it with a replacement function's graph (matches `torch.fx.replace_pattern`).

Matching starts at the node the pattern returns and walks its arguments: a pattern placeholder
matches any value, every other pattern node a node with the same opcode, target and literal
arguments. A match's inner nodes may not be used outside it, and matches do not overlap (the
earlier one in graph order wins). The replacement's nodes are inserted before the first user
of the matched result, named as torch names them, and the matched nodes are erased.
"""

from typing import NamedTuple

from ember.fx._symbolic_trace import symbolic_trace
from ember.fx.graph import Graph
from ember.fx.graph_module import GraphModule
from ember.fx.node import Node, map_arg

__all__ = ["Match", "replace_pattern"]


class Match(NamedTuple):
    """One replaced occurrence: the matched result node and pattern node -> graph node."""

    anchor: Node
    nodes_map: dict


def _graph_of(value) -> Graph:
    if isinstance(value, GraphModule):
        return value.graph
    if isinstance(value, Graph):
        return value
    return symbolic_trace(value).graph


def _same_target(p: Node, g: Node) -> bool:
    if p.op != g.op:
        return False
    if p.op == "call_function":
        return p.target is g.target or p.target == g.target
    return p.target == g.target


def _match_value(p, g, found) -> bool:
    if isinstance(p, Node):
        return isinstance(g, Node) and _match_node(p, g, found)
    if isinstance(p, (tuple, list)):
        return isinstance(g, (tuple, list)) and len(p) == len(g) and all(
            _match_value(a, b, found) for a, b in zip(p, g))
    if isinstance(p, dict):
        return isinstance(g, dict) and p.keys() == g.keys() and all(
            _match_value(p[k], g[k], found) for k in p)
    return type(p) is type(g) and p == g


def _match_node(p: Node, g: Node, found: dict) -> bool:
    if p in found:
        return found[p] is g
    if p.op == "placeholder":
        found[p] = g
        return True
    if not _same_target(p, g) or g in found.values():
        return False
    found[p] = g
    return _match_value(p.args, g.args, found) and _match_value(p.kwargs, g.kwargs, found)


def _matches(graph: Graph, pattern: Graph):
    output = next(n for n in pattern.nodes if n.op == "output")
    anchor = output.args[0]
    if not isinstance(anchor, Node):
        raise NotImplementedError("ember.fx.replace_pattern: the pattern must return one value")
    taken, found_all = set(), []
    for node in graph.nodes:
        found = {}
        if not _match_node(anchor, node, found):
            continue
        inner = {p: g for p, g in found.items() if p.op != "placeholder"}
        contained = all(set(g.users) <= set(inner.values()) for p, g in inner.items()
                        if p is not anchor)
        if contained and not (set(inner.values()) & taken):
            taken |= set(inner.values())
            found_all.append(found)
    return anchor, found_all


def _insert_copy(graph: Graph, replacement: Graph, values: dict, before: Node):
    """Copy replacement's computing nodes into graph before `before`; the copied result."""
    position = graph.nodes_list.index(before)
    for node in replacement.nodes:
        if node.op == "placeholder":
            continue
        if node.op == "output":
            return map_arg(node.args[0], values.__getitem__)
        copied = graph.create_node(node.op, node.target, map_arg(node.args, values.__getitem__),
                                   map_arg(node.kwargs, values.__getitem__), node.name)
        graph.nodes_list.remove(copied)
        graph.nodes_list.insert(position, copied)
        position += 1
        values[node] = copied
    return None


def replace_pattern(gm: GraphModule, pattern, replacement) -> list:
    """Replace every match of pattern in gm by replacement; the list of Matches."""
    graph, pattern_graph = gm.graph, _graph_of(pattern)
    replacement_graph = _graph_of(replacement)
    anchor, found_all = _matches(graph, pattern_graph)
    pattern_inputs = [n for n in pattern_graph.nodes if n.op == "placeholder"]
    replacement_inputs = [n for n in replacement_graph.nodes if n.op == "placeholder"]
    if len(pattern_inputs) != len(replacement_inputs):
        raise AssertionError(f"Placeholder count mismatch: {len(pattern_inputs)} vs "
                             f"{len(replacement_inputs)}")
    result, changed = [], {}  # an earlier match's result -> its replacement
    for found in found_all:
        returning = found[anchor]
        users = [n for n in graph.nodes if n in returning.users]
        for p in pattern_inputs:
            found[p] = changed.get(found[p], found[p])
        values = dict(zip(replacement_inputs, (found[p] for p in pattern_inputs)))
        copied = _insert_copy(graph, replacement_graph, values, users[0])
        returning.replace_all_uses_with(copied)
        changed[returning] = copied
        for node in reversed(pattern_graph.nodes):
            if node.op not in ("placeholder", "output"):
                graph.erase_node(found[node])
        result.append(Match(anchor=anchor, nodes_map=found))
    gm.recompile()
    return result
