"""torch.export.save / load: an ExportedProgram to a file and back.

NOTE [ember's exported-program archive]
torch writes a .pt2 zip of its serialized ATen graph. ember's graph is made of ember.fx calls
(NOTE [The two graphs of an ExportedProgram]), so ember writes its own archive with
`ember.save`: the graph as a list of nodes whose functions are named by module and qualified
name, the state, the layers kept whole, the constants, the guards and the example inputs. It
loads in ember only; a .pt2 written by torch cannot be read.
"""

import importlib
import os

from ember.export.dynamic_shapes import Guard
from ember.export.exported_program import ExportedProgram, StateEntry
from ember.fx.graph import Graph
from ember.fx.node import map_arg
from ember.serialization import load as _load
from ember.serialization import save as _save

_FORMAT = "ember.export/1"


class _NodeRef(tuple):
    """A node argument in the archive: the name of the node it refers to."""


def _function_key(fn):
    """(module, qualified name) that imports fn back, checked now."""
    qualified = getattr(fn, "_fx_qualified_name", None)
    if qualified and qualified.startswith("torch."):
        module, name = qualified.rsplit(".", 1)
        key = ("ember" + module[len("torch"):], name)
        if _resolve(key) is fn:
            return key
    key = (fn.__module__, fn.__qualname__)
    if _resolve(key) is not fn:
        raise RuntimeError(f"cannot save an exported program calling {fn!r}: it cannot be "
                           f"imported by name")
    return key


def _resolve(key):
    module, name = key
    value = importlib.import_module(module)
    for part in name.split("."):
        value = getattr(value, part, None)
    return value


def _nodes_out(graph):
    rows = []
    for node in graph.nodes_list:
        target = node.target
        if node.op == "call_function":
            target = _function_key(target)
        to_ref = lambda n: _NodeRef((n.name,))  # noqa: E731
        rows.append((node.op, node.name, target, map_arg(node.args, to_ref),
                     map_arg(node.kwargs, to_ref)))
    return rows


def _nodes_in(rows):
    graph, made = Graph(), {}

    def back(value):
        if isinstance(value, _NodeRef):
            return made[value[0]]
        if isinstance(value, (tuple, list)):
            return type(value)(back(v) for v in value)
        if isinstance(value, dict):
            return {k: back(v) for k, v in value.items()}
        return value
    for op, name, target, args, kwargs in rows:
        if op == "call_function":
            target = _resolve(target)
        made[name] = graph.create_node(op, target, back(args), back(kwargs), name=name)
    return graph


def save(ep, f, *, extra_files=None, opset_version=None, pickle_protocol=2):
    """Write ep to a path or a binary file (NOTE [ember's exported-program archive])."""
    if not isinstance(ep, ExportedProgram):
        raise TypeError(f"The 'ep' parameter must be an instance of 'ExportedProgram', got "
                        f"'{type(ep).__name__}' instead.")
    payload = {"format": _FORMAT, "graph": _nodes_out(ep._graph),
               "state": [tuple(e) for e in ep._state], "leaves": ep._leaves,
               "constants": ep._constants, "guards": [tuple(g) for g in ep._guards],
               "input_names": ep._input_names, "num_given": ep._num_given,
               "example_inputs": ep._example_inputs, "mutated": ep._mutated,
               "class_name": ep._class_name, "decomposed": ep._decomposed,
               "extra_files": dict(extra_files or {})}
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as handle:
            _save(payload, handle)
    else:
        _save(payload, f)


def load(f, *, extra_files=None, expected_opset_version=None):
    """Read an ExportedProgram written by `save`."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as handle:
            payload = _load(handle, weights_only=False)
    else:
        payload = _load(f, weights_only=False)
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise RuntimeError("the file is not an exported program written by ember.export.save")
    if extra_files is not None:
        for name in extra_files:
            extra_files[name] = payload["extra_files"].get(name, "")
    return ExportedProgram(graph=_nodes_in(payload["graph"]),
                           state=[StateEntry(*e) for e in payload["state"]],
                           leaves=payload["leaves"], constants=payload["constants"],
                           guards=[Guard(*g) for g in payload["guards"]],
                           input_names=payload["input_names"], num_given=payload["num_given"],
                           example_inputs=payload["example_inputs"],
                           mutated=payload["mutated"], class_name=payload["class_name"],
                           decomposed=payload["decomposed"])


__all__ = ["load", "save"]
