"""Converters of the rest of elementwise arithmetic and indexing: step functions (floor, ceil,
round, trunc, sign), floor division and remainders, masked_fill, gather/index_select,
flip/roll/tril/triu, prod, einsum, addmm/baddbmm/outer, exp2 and the shrinks."""

import numpy as np

from ember.onnx._convert import as_tuple, converts
from ember.onnx._graph import INT64_MAX
from ember.onnx._ops_math import reduce
from ember.onnx._ops_shape import advanced_index
from ember.onnx._trace import Ref

# ---- elementwise --------------------------------------------------------------------------------
_STEPS = {"floor": "Floor", "ceil": "Ceil", "round": "Round", "rint": "Round", "sign": "Sign",
           "sign_array": "Sign"}  # (ember.ops.unary.sign_array: PyTorch's sign)


def _trunc(b, x: str) -> str:
    """Rounding toward zero (ONNX has no Trunc): sign(x)·floor(|x|)."""
    return b.node("Mul", [b.node("Sign", [x]), b.node("Floor", [b.node("Abs", [x])])])


@converts("PiecewiseConstant")
def step_function(s):
    """floor/ceil/round/sign as the ONNX op of that name (Round halves to even, as torch);
    trunc as sign·floor(|x|). round(decimals=) has no mapping."""
    name = getattr(s.arg(1), "__name__", "")
    x = s.input(0)
    if name == "trunc":
        return s.output(0, _trunc(s.b, x))
    if name not in _STEPS:
        raise s.unsupported("round with decimals")
    s.output(0, s.b.node(_STEPS[name], [x]))


def _float_operands(s, what: str):
    """The two operands in the output's dtype; integer division rounds otherwise in ONNX."""
    dtype = s.out_dtype()
    if dtype.kind != "f":
        raise s.unsupported(f"{what} of integer tensors")
    return [s.b.cast(s.input(i), dtype) for i in range(2)]


@converts("FloorDivide", "FloorDivideNoDerivative")
def floor_divide(s):
    """a // b (and div(rounding_mode=)): Floor(a / b), or trunc(a / b) for mode 'trunc'."""
    a, b = _float_operands(s, "floor division")
    quotient = s.b.node("Div", [a, b])
    if s.arg(2, "floor") == "trunc":
        return s.output(0, _trunc(s.b, quotient))
    s.output(0, s.b.node("Floor", [quotient]))


@converts("Remainder")
def remainder(s):
    """a % b with the sign of b (Python's): a - b·floor(a / b)."""
    a, b = _float_operands(s, "remainder")
    whole = s.b.node("Floor", [s.b.node("Div", [a, b])])
    s.output(0, s.b.node("Sub", [a, s.b.node("Mul", [b, whole])]))


@converts("Fmod")
def fmod(s):
    """fmod(a, b) with the sign of a (C's): Mod with fmod=1."""
    a, b = _float_operands(s, "fmod")
    s.output(0, s.b.node("Mod", [a, b], fmod=1))


@converts("Exp2")
def exp2(s):
    """2^x as Pow(2, x)."""
    x = s.input(0)
    s.output(0, s.b.node("Pow", [s.b.scalar(2.0, x), x]))


@converts("Hardshrink", "Softshrink")
def shrink(s):
    """hardshrink/softshrink: ONNX's Shrink (bias 0 for hard, λ for soft)."""
    lambd = float(s.arg(1))
    bias = 0.0 if s.event.name == "Hardshrink" else lambd
    s.output(0, s.b.node("Shrink", [s.input(0)], lambd=lambd, bias=bias))


# ---- masks and indices --------------------------------------------------------------------------
@converts("MaskedFill", "MaskedFillTensor")
def masked_fill(s):
    """x with value where mask: Where(mask, value, x)."""
    b, x = s.b, s.input(0)
    mask = b.cast(s.input(1), np.bool_)
    value = s.arg(2)
    fill = (b.cast(s.input(2), b.dtype(x)) if isinstance(value, Ref)
            else b.constant(np.asarray(value, dtype=b.dtype(x))))
    s.output(0, b.node("Where", [mask, fill, x]))


converts("IndexSelect")(advanced_index)  # x[:, ..., index]: the same Gather


def _is_grid(ref, i: int, rank: int) -> bool:
    """Whether argument ref is the i-th of np.indices(shape, sparse=True) (gather's other axes)."""
    if not isinstance(ref, Ref) or ref.kind != "const" or len(ref.shape) != rank:
        return False
    n = ref.shape[i]
    expected = np.arange(n).reshape([n if d == i else 1 for d in range(rank)])
    return ref.shape == expected.shape and np.array_equal(ref.array, expected)


@converts("Gather")
def gather(s):
    """torch.gather(x, dim, index): GatherElements along dim (the index array among the sparse
    grids of the other axes)."""
    b, x = s.b, s.input(0)
    adv, twins = list(s.arg(1)), list(s.twin_arg(1))
    rank = len(adv)
    dims = [i for i, ref in enumerate(adv) if not _is_grid(ref, i, rank)]
    axis = dims[0] if len(dims) == 1 else None
    if axis is None:  # every entry looks like a grid: an index equal to arange along its dim
        axis = next(i for i, ref in enumerate(adv) if ref.shape != tuple(
            [ref.shape[i] if d == i else 1 for d in range(rank)]))
    index = b.cast(s.name_of(adv[axis], twins[axis]), np.int64)
    s.output(0, b.node("GatherElements", [x, index], axis=axis))


# ---- reorders -----------------------------------------------------------------------------------
@converts("Flip")
def flip(s):
    """Reversed along dims: one Slice with step -1."""
    b, dims = s.b, [int(d) for d in as_tuple(s.arg(1))]
    count = len(dims)
    y = b.node("Slice", [s.input(0), b.ints([-1] * count), b.ints([-INT64_MAX] * count),
                         b.ints(dims), b.ints([-1] * count)])
    s.output(0, y)


def _roll_axis(s, x: str, shift: int, axis: int) -> str:
    """x rolled by shift along axis: the last `shift` entries moved to the front (Slice, Concat)."""
    b = s.b
    n1, n2 = b.shape(x)[axis], b.info[x][2][axis]
    if n1 != n2:
        raise s.unsupported("a roll along a dynamic axis")
    shift %= max(n1, 1)
    if shift == 0:
        return x
    tail = b.node("Slice", [x, b.ints([n1 - shift]), b.ints([n1]), b.ints([axis])])
    head = b.node("Slice", [x, b.ints([0]), b.ints([n1 - shift]), b.ints([axis])])
    return b.node("Concat", [tail, head], axis=axis)


@converts("Roll")
def roll(s):
    """roll(x, shifts, dims): per dim, a Slice pair joined the other way round; without dims,
    over the flattened tensor."""
    b, x = s.b, s.input(0)
    shifts, dims = s.arg(1), s.arg(2)
    if dims is None:
        shape1, shape2 = b.shape(x), b.info[x][2]
        flat = b.node("Reshape", [x, b.ints([-1])])
        b.note(flat, b.dtype(x), (int(np.prod(shape1)),), (int(np.prod(shape2)),))
        rolled = _roll_axis(s, flat, int(shifts), 0)
        return s.output(0, b.node("Reshape", [rolled, b.ints(shape1)]))
    for shift, dim in zip(as_tuple(shifts), as_tuple(dims)):
        x = _roll_axis(s, x, int(shift), int(dim))
        b.note(x, s.out_dtype(), s.out_shape(), s.out_twin_shape())
    s.output(0, x)


@converts("Tril", "Triu")
def trilu(s):
    """tril/triu(x, diagonal): Trilu (upper=1 for triu) with k = diagonal."""
    upper = int(s.event.name == "Triu")
    k = s.b.constant(np.int64(s.arg(1)))
    s.output(0, s.b.node("Trilu", [s.input(0), k], upper=upper))


# ---- products -----------------------------------------------------------------------------------
@converts("Prod", "ProdAll")
def prod(s):
    """ReduceProd (cast first when prod(dtype=...) asks for another dtype)."""
    x = s.b.cast(s.input(0), s.out_dtype())
    s.output(0, reduce(s, "ReduceProd", x, s.arg(1), s.arg(2, False)))


@converts("Einsum")
def einsum(s):
    """Einsum with the same equation."""
    inputs, out = s.arg(0)
    equation = (",".join(inputs) + "->" + out).replace("@", "...")
    operands = [s.input(i) for i in range(1, s.n_args())]
    s.output(0, s.b.node("Einsum", operands, equation=equation))


@converts("Addmm", "Addmv", "Baddbmm")
def addmm(s):
    """β·c + α·(a @ b): MatMul, then the scales and the Add (c is left out when β is 0)."""
    b = s.b
    beta, alpha = s.arg(3), s.arg(4)
    dtype = s.out_dtype()
    y = b.node("MatMul", [s.input(1), s.input(2)])
    b.note(y, dtype, s.out_shape(), s.out_twin_shape())
    if alpha != 1:
        y = b.node("Mul", [y, b.constant(np.asarray(alpha, dtype=dtype))])
    if beta != 0:
        c = s.input(0)
        if beta != 1:
            c = b.node("Mul", [c, b.constant(np.asarray(beta, dtype=dtype))])
        y = b.node("Add", [y, c])
    s.output(0, y)


@converts("Outer")
def outer(s):
    """a ⊗ b: a as a column times b as a row."""
    b = s.b
    column = b.node("Unsqueeze", [s.input(0), b.ints([1])])
    row = b.node("Unsqueeze", [s.input(1), b.ints([0])])
    s.output(0, b.node("Mul", [column, row]))
