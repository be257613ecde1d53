"""Example values while tracing for export: each node is also run on the example inputs, and
once more per dynamic dimension with that dimension's size changed.

NOTE [Static sizes while tracing]
A Proxy has no shape, so fx cannot trace `math.sqrt(k.size(-1))` or `B, T, C = x.size()`
followed by Python arithmetic on C. torch.export traces with fake tensors whose sizes are
symbols where dynamic and ints where static. ember gets the same split by running every node
on several example runs: run 0 on the user's inputs, and one run per dynamic Dim with that
Dim's sizes changed (one more, or one less at the Dim's max). A shape read (`x.size()`,
`x.shape[1]`, `x.dim()`, `x.dtype`) whose value is the same in every run is static and is
given back as a Python value, as torch specializes it; one that differs stays a Proxy. An op
that works in run 0 but fails in a Dim's run means the program specialized that Dim (torch's
"Constraints violated" UserError; a Dim.AUTO dimension becomes static instead). A dimension
that depends on a dynamic one but has the same size in both runs by chance (`x.size(0) // 8`
for 4 and 5) would be taken as static: torch's symbols do not have that blind spot.
"""

import builtins
import copy
import operator

from ember._device import Size
from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.fx.node import map_arg

_SHAPE_METHODS = {"size", "dim", "ndimension", "is_floating_point", "is_complex", "get_device"}
_SHAPE_ATTRS = {"shape", "ndim", "dtype", "device", "is_cuda", "layout", "requires_grad"}


def _resize(tensor, dim, size):
    """The example tensor with dimension dim made `size` long (its own values, repeated)."""
    from ember import arange  # the op namespace, complete once ember is imported

    index = arange(size) % tensor.shape[dim]
    return tensor.index_select(dim, index)


def clone_inputs(value):
    """value with every tensor in it replaced by a copy."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, (tuple, list)):
        return type(value)(clone_inputs(v) for v in value)
    if isinstance(value, dict):
        return {k: clone_inputs(v) for k, v in value.items()}
    return value


def _replace(value, path, fn):
    """value with the item at `path` (keys into nested tuples/lists/dicts) replaced by fn(item)."""
    if not path:
        return fn(value)
    key, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: _replace(v, rest, fn) if k == key else v for k, v in value.items()}
    items = [_replace(v, rest, fn) if i == key else v for i, v in enumerate(value)]
    return type(value)(items)


def example_runs(values, guards):
    """(runs, symbols): the input values of each run and the Dim each extra run changes."""
    values = [clone_inputs(v) for v in values]  # an in-place op must not touch the examples
    runs, symbols = [values], []
    for symbol in dict.fromkeys(g.symbol for g in guards if g.size is None):
        mine = [g for g in guards if g.size is None and g.symbol == symbol]
        size = values[mine[0].path[0]]
        for key in mine[0].path[1:]:
            size = size[key]
        root = (size.shape[mine[0].dim] - mine[0].offset) // mine[0].scale
        fits = all(g.scale * (root + 1) + g.offset <= g.max for g in mine)
        new = root + 1 if fits else root - 1
        if any(g.scale * new + g.offset < max(g.min, 2) for g in mine):
            continue
        run = list(values)
        for g in mine:
            size = g.scale * new + g.offset
            run[g.path[0]] = _replace(run[g.path[0]], g.path[1:],
                                      lambda t, g=g, size=size: _resize(t, g.dim, size))
        runs.append(run)
        symbols.append(symbol)
    return runs, symbols


def _value(arg, run):
    return map_arg(arg, lambda n: n.meta["vals"][run] if n.meta.get("vals") else _UNKNOWN)


class _Unknown:
    """A value no run could compute."""


_UNKNOWN = _Unknown()


def any_leaf(value, test) -> bool:
    """Whether test(leaf) holds for a leaf of value (nested tuples, lists and dict values)."""
    if isinstance(value, (tuple, list)):
        return any(any_leaf(v, test) for v in value)
    if isinstance(value, dict):
        return any(any_leaf(v, test) for v in value.values())
    return test(value)


def _has_unknown(value) -> bool:
    return any_leaf(value, lambda v: isinstance(v, _Unknown))


def _call(kind, target, args, kwargs, root, leaves):
    if kind == "call_function":
        return target(*args, **kwargs)
    if kind == "call_method":
        return getattr(args[0], target)(*args[1:], **kwargs)
    if kind == "call_module":
        if target not in leaves:
            leaves[target] = copy.deepcopy(root.get_submodule(target))
        return leaves[target](*args, **kwargs)
    raise ValueError(kind)


def evaluate(kind, target, args, kwargs, runs, root, leaves):
    """The node's value in each run (None where it failed), or None if unknown in run 0."""
    values = []
    for r in range(runs):
        a, k = _value(args, r), _value(kwargs, r)
        if _has_unknown((a, k)):
            values.append(None)
            continue
        try:
            with no_grad():
                values.append(_call(kind, target, a, k, root, leaves[r]))
        except Exception:  # noqa: BLE001 (the run's failure is reported by the caller)
            values.append(None)
    return values if values and values[0] is not None else None


def is_shape_read(kind, target, args) -> bool:
    """`x.size()`, `x.dim()`, `x.shape`, `x.dtype`, or an item of a size."""
    if kind == "call_method":
        return target in _SHAPE_METHODS
    if kind == "call_function" and target is builtins.getattr:
        return len(args) == 2 and args[1] in _SHAPE_ATTRS
    return kind == "call_function" and target is operator.getitem


def static_value(values):
    """The value every run agrees on, for a shape read of a static shape; else None."""
    known = [v for v in values if v is not None]
    first = known[0]
    if isinstance(first, (Tensor, list, dict, set)) or \
            (isinstance(first, tuple) and not isinstance(first, Size)):
        return None  # containers of tensors: their items are read one by one
    if not all(type(v) is type(first) and v == first for v in known):
        return None
    return first


__all__ = ["clone_inputs", "evaluate", "example_runs", "is_shape_read", "static_value"]
