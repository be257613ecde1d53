"""Converters of the ops without an autograd node, recorded through their public faces (NOTE
[Ops outside the op protocol] in _untracked.py): comparisons, logical and bitwise ops,
argmax/argmin, any/all, isnan/isinf/isfinite, sort/argsort/topk."""

import numpy as np

from ember.onnx._convert import converts
from ember.onnx._ops_math import reduce
from ember.onnx._trace import Ref

_COMPARISONS = {"gt": "Greater", "lt": "Less", "ge": "GreaterOrEqual", "le": "LessOrEqual",
                "eq": "Equal", "ne": "Equal"}
_LOGICAL = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}
_BITWISE = {"bitwise_and": ("And", "BitwiseAnd"), "bitwise_or": ("Or", "BitwiseOr"),
            "bitwise_xor": ("Xor", "BitwiseXor")}


def _compared(s):
    """Both operands in one dtype: the tensors' common type; a Python number takes the
    tensor's dtype (the default float dtype when a float meets an integer tensor, as torch)."""
    b, x = s.b, s.input(0)
    other = s.arg(1)
    if isinstance(other, Ref):
        y = s.input(1)
        dtype = np.result_type(b.dtype(x), b.dtype(y))
        return b.cast(x, dtype), b.cast(y, dtype)
    dtype = b.dtype(x)
    if isinstance(other, float) and dtype.kind not in "fc":
        dtype = np.dtype(np.float32)
    elif dtype == np.bool_ and not isinstance(other, bool):
        dtype = np.dtype(np.int64)
    return b.cast(x, dtype), b.constant(np.asarray(other, dtype=dtype))


@converts(*_COMPARISONS)
def compare(s):
    """x > y, ==, ...: Greater, Less, ..., Equal; `!=` as Not(Equal). ONNX's order comparisons
    take no bools, so bools compare as int32."""
    b = s.b
    x, y = _compared(s)
    if b.dtype(x) == np.bool_ and s.event.name != "eq" and s.event.name != "ne":
        x, y = b.cast(x, np.int32), b.cast(y, np.int32)
    out = b.node(_COMPARISONS[s.event.name], [x, y])
    s.output(0, b.node("Not", [out]) if s.event.name == "ne" else out)


@converts(*_LOGICAL)
def logical(s):
    """logical_and/or/xor: And/Or/Xor of both operands as bools."""
    b = s.b
    x, y = _compared(s)
    s.output(0, b.node(_LOGICAL[s.event.name], [b.cast(x, np.bool_), b.cast(y, np.bool_)]))


@converts("logical_not")
def logical_not(s):
    """Not of the operand as a bool."""
    s.output(0, s.b.node("Not", [s.b.cast(s.input(0), np.bool_)]))


@converts(*_BITWISE)
def bitwise(s):
    """&, |, ^: And/Or/Xor on bools; BitwiseAnd/Or/Xor on integers (opset 18 on)."""
    b = s.b
    x, y = _compared(s)
    logical_op, bitwise_op = _BITWISE[s.event.name]
    if b.dtype(x) == np.bool_:
        return s.output(0, b.node(logical_op, [x, y]))
    if b.opset < 18:
        raise s.unsupported("a bitwise op on integers before opset 18")
    s.output(0, b.node(bitwise_op, [x, y]))


@converts("bitwise_not")
def bitwise_not(s):
    """~x: Not on bools, BitwiseNot on integers (opset 18 on)."""
    b, x = s.b, s.input(0)
    if b.dtype(x) == np.bool_:
        return s.output(0, b.node("Not", [x]))
    if b.opset < 18:
        raise s.unsupported("a bitwise op on integers before opset 18")
    s.output(0, b.node("BitwiseNot", [x]))


@converts("argmax", "argmin")
def arg_extreme(s):
    """ArgMax/ArgMin along dim (the first of equal values, as torch); over the flattened
    tensor when dim is None."""
    b, x = s.b, s.input(0)
    dim, keepdim = s.arg(1), bool(s.arg(2))
    op = "ArgMax" if s.event.name == "argmax" else "ArgMin"
    if dim is not None:
        return s.output(0, b.node(op, [x], axis=int(dim), keepdims=int(keepdim)))
    flat = b.node("Reshape", [x, b.ints([-1])])
    index = b.node(op, [flat], axis=0, keepdims=0)
    rank = len(b.shape(x))
    s.output(0, b.node("Reshape", [index, b.ints([1] * rank)]) if keepdim and rank else index)


@converts("any", "all")
def any_all(s):
    """any/all over dims: ReduceMax/ReduceMin of the nonzero flags (as int32, which those take)."""
    b, x = s.b, s.input(0)
    flags = b.node("Cast", [b.node("Cast", [x], to=9)], to=6)  # BOOL, then INT32
    rank = len(b.shape(x))
    op = "ReduceMax" if s.event.name == "any" else "ReduceMin"
    reduced = reduce(s, op, flags, s.arg(1), bool(s.arg(2)), rank)
    b.note(reduced, np.int32, s.out_shape(), s.out_twin_shape())
    s.output(0, b.cast(reduced, s.out_dtype()))


@converts("isnan", "isinf", "isfinite")
def is_special(s):
    """IsNaN, IsInf, and isfinite as Not(IsNaN or IsInf)."""
    b, x = s.b, s.input(0)
    if b.dtype(x).kind not in "f":  # integers and bools are always finite and never NaN
        zeros = b.node("Cast", [x], to=9)  # BOOL
        never = b.node("And", [zeros, b.node("Not", [zeros])])
        return s.output(0, b.node("Not", [never]) if s.event.name == "isfinite" else never)
    if s.event.name == "isnan":
        return s.output(0, b.node("IsNaN", [x]))
    if s.event.name == "isinf":
        return s.output(0, b.node("IsInf", [x]))
    s.output(0, b.node("Not", [b.node("Or", [b.node("IsNaN", [x]), b.node("IsInf", [x])])]))


def _top(s, k: str, axis: int, largest: bool):
    """TopK's (values, indices) along axis, sorted (ties: the lower index first)."""
    return s.b.node("TopK", [s.input(0), k], 2, axis=axis, largest=int(largest), sorted=1)


@converts("sort", "argsort")
def sort(s):
    """sort/argsort along dim: TopK of the whole dim (largest first when descending)."""
    b, x = s.b, s.input(0)
    rank = len(b.shape(x))
    axis = int(s.arg(1)) % max(rank, 1)
    k = b.size_tensor(b.shape(x)[axis], b.info[x][2][axis])
    values, indices = _top(s, k, axis, bool(s.arg(2)))
    if s.event.name == "argsort":
        return s.output(0, indices)
    s.output(0, values)
    s.output(1, indices)


@converts("topk")
def topk(s):
    """topk(x, k, dim, largest): TopK (always sorted: an unsorted topk has no fixed order)."""
    b, x = s.b, s.input(0)
    k1, k2 = int(s.arg(1)), int(s.twin_arg(1))
    axis = int(s.arg(2)) % max(len(b.shape(x)), 1)
    values, indices = _top(s, b.size_tensor(k1, k2), axis, bool(s.arg(3)))
    s.output(0, values)
    s.output(1, indices)
