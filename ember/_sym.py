"""`torch.sym_int`, `sym_float`, `sym_max`, ... and the classes `torch.SymInt`, `SymFloat`,
`SymBool` (matches torch's, defined in torch/__init__.py).

NOTE [Symbolic sizes]
torch's symbolic shapes only exist while tracing (dynamo, export with dynamic shapes). Run
eagerly, the sym_* helpers see plain ints, floats and bools and do what torch's do with them:
`sym_max(2, 3.0)` is 3.0 (a float operand makes the result float), `sym_int(-3.7)` truncates to
-3. ember never makes a SymInt, so the classes are there for `isinstance` checks, which are
False for plain numbers as in torch. Their arguments may still be objects with
`__torch_function__` (ember.overrides), as torch dispatches them.
"""

import builtins
import math

from ember._backend import xp
from ember.ops.creation import tensor
from ember.overrides import handle_torch_function, has_torch_function

__all__ = ["SymBool", "SymFloat", "SymInt", "sym_float", "sym_int", "sym_ite", "sym_max",
           "sym_min", "sym_not", "sym_sqrt", "sym_sum", "sym_fresh_size",
           "sym_constrain_range", "sym_constrain_range_for_size"]

_NUMBERS = (xp.integer, xp.floating, builtins.int, builtins.float)
_FLOATS = (xp.floating, builtins.float)


class SymInt:
    """An int whose value a tracer records symbolically (never made eagerly)."""

    def __init__(self, node):
        self.node = node

    def __bool__(self):
        return builtins.bool(self != 0)

    def __int__(self):
        return self.node.int_()

    def __index__(self):
        return self.node.int_()


class SymFloat:
    """A float whose value a tracer records symbolically (never made eagerly)."""

    def __init__(self, node):
        self.node = node

    def __bool__(self):
        return self.node.bool_()


class SymBool:
    """A bool whose value a tracer records symbolically (never made eagerly)."""

    def __init__(self, node):
        self.node = node

    def __bool__(self):
        return self.node.bool_()


for _cls in (SymInt, SymFloat, SymBool):
    _cls.__module__ = "torch"


def _dispatched(fn, args, *call):
    """(True, result) when an argument's `__torch_function__` takes the call, else (False, None)."""
    if has_torch_function(args):
        return True, handle_torch_function(fn, args, *call)
    return False, None


def sym_not(a):
    """`not a` (matches `torch.sym_not`)."""
    taken, result = _dispatched(sym_not, (a,), a)
    if taken:
        return result
    if hasattr(a, "__sym_not__"):
        return a.__sym_not__()
    return not a


def sym_float(a):
    """float(a) (matches `torch.sym_float`)."""
    taken, result = _dispatched(sym_float, (a,), a)
    if taken:
        return result
    if isinstance(a, SymFloat):
        return a
    if hasattr(a, "__sym_float__"):
        return a.__sym_float__()
    return builtins.float(a)


def sym_int(a):
    """int(a), truncating a float toward zero (matches `torch.sym_int`)."""
    taken, result = _dispatched(sym_int, (a,), a)
    if taken:
        return result
    if isinstance(a, SymInt):
        return a
    if isinstance(a, SymFloat):
        return math.trunc(a)
    return builtins.int(a)


def _extreme(name, pick, a, b):
    """sym_max / sym_min of two numbers: a float if either is one (torch's promotion)."""
    if isinstance(a, (SymInt, SymFloat)):
        return getattr(a, f"__sym_{name}__")(b)
    if isinstance(b, (SymInt, SymFloat)):
        return getattr(b, f"__sym_{name}__")(a)
    for value in (a, b):
        if not isinstance(value, _NUMBERS):
            raise AssertionError(f"expected {_NUMBERS}, got {type(value)}")
    if isinstance(a, _FLOATS) or isinstance(b, _FLOATS):
        return builtins.float(pick(a, b))
    return pick(a, b)


def sym_max(a, b):
    """max(a, b) of ints and floats, a float if either is one (matches `torch.sym_max`)."""
    taken, result = _dispatched(sym_max, (a, b), a, b)
    return result if taken else _extreme("max", builtins.max, a, b)


def sym_min(a, b):
    """min(a, b) of ints and floats, a float if either is one (matches `torch.sym_min`)."""
    taken, result = _dispatched(sym_min, (a, b), a, b)
    return result if taken else _extreme("min", builtins.min, a, b)


def sym_sum(*args):
    """The sum of `sym_sum([a, b, c])` or `sym_sum(a, b, c)` (matches `torch.sym_sum`)."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    taken, result = _dispatched(sym_sum, args, args)
    return result if taken else builtins.sum(args)


def _sym_sqrt(a):
    """math.sqrt(a) (matches `torch.sym_sqrt`)."""
    taken, result = _dispatched(_sym_sqrt, (a,), a)
    if taken:
        return result
    if isinstance(a, SymInt):
        a = sym_float(a)
    if hasattr(a, "__sym_sqrt__"):
        return a.__sym_sqrt__()
    return math.sqrt(a)


sym_sqrt = _sym_sqrt


def sym_ite(b, t, f):
    """`t if b else f`, t and f of one type (matches `torch.sym_ite`)."""
    taken, result = _dispatched(sym_ite, (b, t, f), b, t, f)
    if taken:
        return result
    if not isinstance(b, (SymBool, builtins.bool)):
        raise AssertionError(f"expected SymBool or bool, got {type(b)}")
    if type(t) is not type(f):
        raise AssertionError(f"type mismatch: {type(t)} vs {type(f)}")
    if isinstance(b, SymBool):
        return b.__sym_ite__(t, f)
    return t if b else f


def sym_fresh_size(expr):
    """A fresh size of value `expr`: the int itself, eagerly (matches `torch.sym_fresh_size`)."""
    return tensor(expr).item()


_INT64_MIN, _INT64_MAX = -2 ** 63, 2 ** 63 - 1


def _check_range(size, low, high):
    """A plain int's check of a tracer's bound: torch's RuntimeError outside [low, high]."""
    if not low <= size <= high:
        raise RuntimeError(f"Invalid value range for {size} between [{low}, {high}].")


def sym_constrain_range(size, *, min=None, max=None):
    """Check `size` lies in [min, max] (matches `torch.sym_constrain_range`)."""
    _check_range(size, _INT64_MIN if min is None else min, _INT64_MAX if max is None else max)


def sym_constrain_range_for_size(size, *, min=None, max=None):
    """Check `size`, a size, lies in [min, max] (matches
    `torch.sym_constrain_range_for_size`)."""
    if max is not None and max <= 2:
        raise RuntimeError(
            f"Max value to constrain_range_for_size must be greater than 2. got: {max}")
    low = 0 if min is None else builtins.max(min, 0)
    _check_range(size, low, _INT64_MAX if max is None else max)
