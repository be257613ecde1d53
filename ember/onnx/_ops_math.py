"""Converters of arithmetic, activations, softmax and reductions."""

import math

import numpy as np

from ember.onnx._convert import as_tuple, converts

# ---- elementwise arithmetic -------------------------------------------------------------------
_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
           "PowScalar": "Pow", "PowScalarBase": "Pow", "Maximum": "Max"}


def _operands(s, n: int = 2):
    """The first n inputs, each cast to the output's dtype (ONNX does not promote)."""
    dtype = s.out_dtype()
    return [s.b.cast(s.input(i), dtype) for i in range(n)]


@converts(*_BINARY)
def binary(s):
    """a op b with broadcasting; Add/Sub scale b by alpha when it is not 1."""
    a, b = _operands(s)
    name = s.event.name
    alpha = s.arg(2, 1) if name in ("Add", "Sub") else 1
    if name == "Div" and s.arg(2) is not None:
        quotient = s.b.node("Div", [a, b])
        op = {"floor": "Floor", "trunc": None}[s.arg(2)]
        if op is None:  # trunc: sign(q)·floor(|q|)
            floor = s.b.node("Floor", [s.b.node("Abs", [quotient])])
            return s.output(0, s.b.node("Mul", [s.b.node("Sign", [quotient]), floor]))
        return s.output(0, s.b.node(op, [quotient]))
    if name == "Maximum":  # Maximum(a, b, take_max) is torch.maximum or torch.minimum
        return s.output(0, s.b.node("Max" if s.arg(2) else "Min", [a, b]))
    if alpha != 1:
        b = s.b.node("Mul", [b, s.b.constant(np.asarray(alpha, dtype=s.out_dtype()))])
    s.output(0, s.b.node(_BINARY[name], [a, b]))


@converts("Rsub", "RsubScalar")
def reversed_subtraction(s):
    """torch.rsub: b - alpha·a, b a tensor (Rsub) or a number (RsubScalar: `1 - x`)."""
    dtype = s.out_dtype()
    a = s.b.cast(s.input(0), dtype)
    if s.event.name == "Rsub" or s.array(1) is None:
        b = s.b.cast(s.input(1), dtype)
    else:  # (the number, recorded as a constant array)
        b = s.b.constant(np.asarray(s.array(1), dtype=dtype))
    alpha = s.arg(2, 1)
    if alpha != 1:
        a = s.b.node("Mul", [a, s.b.constant(np.asarray(alpha, dtype=dtype))])
    s.output(0, s.b.node("Sub", [b, a]))


@converts("ScalarMul", "ScalarDiv")
def reduced_times_scalar(s):
    """A float16/bfloat16 tensor times or over a float32 scalar (NOTE [Reduced-precision tensor
    and a scalar]): computed in float32, rounded once."""
    wide = s.b.cast(s.input(0), np.float32)
    scalar = s.b.cast(s.input(1), np.float32)  # (a float32 constant already)
    result = s.b.node("Mul" if s.event.name == "ScalarMul" else "Div", [wide, scalar])
    _, one, two = s.b.info[wide]
    s.output(0, s.b.note(result, np.dtype(np.float32), one, two))  # (output casts it back)


_UNARY = {"Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Reciprocal": "Reciprocal", "Sin": "Sin",
          "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan",
          "Sinh": "Sinh", "Cosh": "Cosh", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Relu": "Relu",
          "Erf": "Erf", "Abs": "Abs", "Neg": "Neg", "Hardswish": "HardSwish", "Floor": "Floor",
          "Ceil": "Ceil", "Round": "Round", "Sign": "Sign"}


@converts(*_UNARY)
def unary(s):
    """One ONNX op of the same meaning (Exp, Log, Sqrt, Relu, Sigmoid, ...)."""
    s.output(0, s.b.node(_UNARY[s.event.name], [s.input(0)]))


@converts("Rsqrt")
def rsqrt(s):
    """1/√x as Reciprocal(Sqrt(x))."""
    s.output(0, s.b.node("Reciprocal", [s.b.node("Sqrt", [s.input(0)])]))


@converts("Log1p", "Expm1", "Log2", "Log10")
def log_family(s):
    """log1p, expm1, log2, log10 written with Log/Exp."""
    x, b, name = s.input(0), s.b, s.event.name
    one = b.scalar(1, x)
    if name == "Log1p":
        return s.output(0, b.node("Log", [b.node("Add", [x, one])]))
    if name == "Expm1":
        return s.output(0, b.node("Sub", [b.node("Exp", [x]), one]))
    base = b.scalar(math.log(2 if name == "Log2" else 10), x)
    s.output(0, b.node("Div", [b.node("Log", [x]), base]))


@converts("Clamp")
def clamp(s):
    """Clip between the bounds (0-d arrays, or None for an open side)."""
    x = s.input(0)
    bounds = [s.b.cast(s.input(i), s.b.dtype(x)) if s.arg(i) is not None else ""
              for i in (1, 2)]
    s.output(0, s.b.node("Clip", [x] + bounds))


@converts("ClampTensor")
def clamp_tensor(s):
    """clamp with tensor bounds: Max with the lower, then Min with the upper."""
    y = s.b.cast(s.input(0), s.out_dtype())
    if s.arg(1) is not None:
        y = s.b.node("Max", [y, s.b.cast(s.input(1), s.out_dtype())])
    if s.arg(2) is not None:
        y = s.b.node("Min", [y, s.b.cast(s.input(2), s.out_dtype())])
    s.output(0, y)


@converts("Where")
def where(s):
    """Where(condition, a, b) with a and b in the output dtype."""
    dtype = s.out_dtype()
    cond = s.b.cast(s.input(0), np.bool_)
    s.output(0, s.b.node("Where", [cond, s.b.cast(s.input(1), dtype),
                                   s.b.cast(s.input(2), dtype)]))


@converts("ToCopy")
def to_copy(s):
    """A dtype conversion: Cast."""
    s.output(0, s.b.cast(s.input(0), s.out_dtype()))


# ---- activations ------------------------------------------------------------------------------
@converts("LeakyRelu")
def leaky_relu(s):
    """LeakyRelu with the slope as alpha."""
    s.output(0, s.b.node("LeakyRelu", [s.input(0)], alpha=float(s.arg(1))))


@converts("Elu", "Celu")
def elu(s):
    """torch's elu(x, alpha, scale, input_scale) = scale·(x if x > 0 else alpha·(e^(x·is) - 1))."""
    x = first = s.input(0)
    b = s.b
    alpha, scale, input_scale = (float(s.arg(i, 1.0)) for i in (1, 2, 3))
    if input_scale != 1.0:
        x = b.node("Mul", [x, b.scalar(input_scale, first)])
        positive = b.node("Div", [b.node("Relu", [x]), b.scalar(input_scale, first)])
        negative = b.node("Elu", [b.node("Neg", [b.node("Relu", [b.node("Neg", [x])])])],
                          alpha=alpha)
        y = b.node("Add", [positive, negative])
    else:
        y = b.node("Elu", [x], alpha=alpha)
    if scale != 1.0:
        y = b.node("Mul", [y, b.scalar(scale, first)])
    s.output(0, y)


@converts("Glu")
def glu(s):
    """a·σ(b) for x's halves a, b along dim: two Slices, a Sigmoid and a Mul."""
    x, dim, b = s.input(0), int(s.arg(1)), s.b
    size = s.arg(0).shape[dim]
    if s.twin_arg(0).shape[dim] != size:
        raise s.unsupported("glu along a dynamic axis")
    first, second = (b.node("Slice", [x, b.ints([start]), b.ints([start + size // 2]),
                                      b.ints([dim])]) for start in (0, size // 2))
    s.output(0, b.node("Mul", [first, b.node("Sigmoid", [second])]))


@converts("Gelu")
def gelu(s):
    """Gelu (opset 20), or x·Φ(x) / its tanh form written out for older opsets."""
    x, b = s.input(0), s.b
    approximate = s.arg(1) or "none"
    if b.opset >= 20:
        return s.output(0, b.node("Gelu", [x], approximate=approximate))
    half = b.node("Mul", [x, b.scalar(0.5, x)])
    if approximate == "tanh":
        cube = b.node("Mul", [b.node("Mul", [x, x]), x])
        inner = b.node("Add", [x, b.node("Mul", [cube, b.scalar(0.044715, x)])])
        t = b.node("Tanh", [b.node("Mul", [inner, b.scalar(math.sqrt(2 / math.pi), x)])])
    else:
        t = b.node("Erf", [b.node("Mul", [x, b.scalar(1 / math.sqrt(2), x)])])
    s.output(0, b.node("Mul", [half, b.node("Add", [t, b.scalar(1, x)])]))


@converts("Silu")
def silu(s):
    """x·σ(x)."""
    x = s.input(0)
    s.output(0, s.b.node("Mul", [x, s.b.node("Sigmoid", [x])]))


@converts("Mish")
def mish(s):
    """x·tanh(softplus(x))."""
    x = s.input(0)
    s.output(0, s.b.node("Mul", [x, s.b.node("Tanh", [s.b.node("Softplus", [x])])]))


@converts("Hardtanh")
def hardtanh(s):
    """Clip between min_val and max_val (ReLU6 is hardtanh(0, 6))."""
    x = s.input(0)
    s.output(0, s.b.node("Clip", [x, s.b.scalar(s.arg(1), x), s.b.scalar(s.arg(2), x)]))


@converts("Hardsigmoid")
def hardsigmoid(s):
    """HardSigmoid with torch's slope 1/6 and offset 1/2."""
    s.output(0, s.b.node("HardSigmoid", [s.input(0)], alpha=1 / 6, beta=0.5))


@converts("Softplus")
def softplus(s):
    """log(1 + e^(βx))/β; torch's linear branch past `threshold` differs by < e^-threshold."""
    x, b, beta = s.input(0), s.b, float(s.arg(1, 1.0))
    if beta == 1.0:
        return s.output(0, b.node("Softplus", [x]))
    y = b.node("Softplus", [b.node("Mul", [x, b.scalar(beta, x)])])
    s.output(0, b.node("Div", [y, b.scalar(beta, x)]))


@converts("LogSigmoid")
def log_sigmoid(s):
    """log σ(x) = -softplus(-x)."""
    x = s.input(0)
    s.output(0, s.b.node("Neg", [s.b.node("Softplus", [s.b.node("Neg", [x])])]))


@converts("Threshold")
def threshold(s):
    """y = x if x > threshold else value."""
    x, b = s.input(0), s.b
    keep = b.node("Greater", [x, b.scalar(s.arg(1), x)])
    s.output(0, b.node("Where", [keep, x, b.scalar(s.arg(2), x)]))


@converts("Prelu")
def prelu(s):
    """PRelu, the per-channel weight reshaped to broadcast over dim 1."""
    x, w = s.input(0), s.input(1)
    shape = s.b.shape(x)
    if len(shape) > 1 and s.b.shape(w) == (shape[1],):
        w = s.b.node("Reshape", [w, s.b.ints([shape[1]] + [1] * (len(shape) - 2))])
    s.output(0, s.b.node("PRelu", [x, w]))


# ---- softmax ----------------------------------------------------------------------------------
@converts("Softmax", "LogSoftmax")
def softmax(s):
    """Softmax / LogSoftmax along the one dim (opset 13 semantics)."""
    axes = as_tuple(s.arg(1))
    if len(axes) != 1:
        raise s.unsupported("over several dims")
    s.output(0, s.b.node(s.event.name, [s.input(0)], axis=int(axes[0])))


# ---- reductions -------------------------------------------------------------------------------
def reduce(s, op: str, x: str, axes, keepdim: bool, rank: int = None) -> str:
    """ReduceX over axes (None: all), with axes as an input (opset 18) or an attribute; `rank`
    is x's rank (needed when x is an intermediate value, whose facts are not recorded)."""
    rank = len(s.b.shape(x)) if rank is None else rank
    axes = list(range(rank)) if axes is None else [a % max(rank, 1) for a in as_tuple(axes)]
    if op == "ReduceSum" or s.b.opset >= 18:
        return s.b.node(op, [x, s.b.ints(axes)], keepdims=int(bool(keepdim)))
    return s.b.node(op, [x], axes=axes, keepdims=int(bool(keepdim)))


@converts("Sum", "SumAll")
def sum_(s):
    """ReduceSum (cast first when sum(dtype=...) asks for another dtype)."""
    x = s.b.cast(s.input(0), s.out_dtype())
    s.output(0, reduce(s, "ReduceSum", x, s.arg(1), s.arg(2, False)))


@converts("Mean", "MeanAll")
def mean(s):
    """ReduceMean."""
    s.output(0, reduce(s, "ReduceMean", s.input(0), s.arg(1), s.arg(2, False)))


@converts("Amax", "Amin")
def amax(s):
    """ReduceMax / ReduceMin over dims (amax, amin)."""
    op = "ReduceMax" if s.arg(3) else "ReduceMin"
    s.output(0, reduce(s, op, s.input(0), s.arg(1), s.arg(2, False)))


@converts("MaxAll", "MinAll")
def max_all(s):
    """ReduceMax / ReduceMin over every element (max(), min())."""
    op = "ReduceMax" if s.arg(1) else "ReduceMin"
    s.output(0, reduce(s, op, s.input(0), None, False))


@converts("Var", "Std")
def variance(s):
    """Σ(x - mean)² / (n - correction) over axes; its square root for Std."""
    b, x = s.b, s.input(0)
    axes, correction, keepdim = s.arg(1), s.arg(2), s.arg(3)
    shape = b.shape(x)
    dims = range(len(shape)) if axes is None else as_tuple(axes)
    n = math.prod(shape[d] for d in dims)
    if any(b.info[x][1][d] != b.info[x][2][d] for d in dims):
        raise s.unsupported("a variance over a dynamic axis")
    centered = b.node("Sub", [x, reduce(s, "ReduceMean", x, axes, True)])
    total = reduce(s, "ReduceSum", b.node("Mul", [centered, centered]), axes, keepdim,
                   len(shape))
    y = b.node("Div", [total, b.scalar(max(n - correction, 0), x)])
    s.output(0, b.node("Sqrt", [y]) if s.event.name == "Std" else y)


@converts("Logsumexp")
def logsumexp(s):
    """ReduceLogSumExp."""
    s.output(0, reduce(s, "ReduceLogSumExp", s.input(0), s.arg(1), s.arg(2, False)))


@converts("Norm")
def norm(s):
    """‖x‖_p over axes: ReduceL1/ReduceL2, max/min |x| for ±inf, else (Σ|x|^p)^(1/p)."""
    b, x = s.b, s.input(0)
    p, axes, keepdim = float(s.arg(1)), s.arg(2), s.arg(3)
    if p in (1.0, 2.0):
        return s.output(0, reduce(s, "ReduceL1" if p == 1 else "ReduceL2", x, axes, keepdim))
    magnitude, rank = b.node("Abs", [x]), len(b.shape(x))
    if math.isinf(p):
        op = "ReduceMax" if p > 0 else "ReduceMin"
        return s.output(0, reduce(s, op, magnitude, axes, keepdim, rank))
    powered = b.node("Pow", [magnitude, b.scalar(p, x)])
    total = reduce(s, "ReduceSum", powered, axes, keepdim, rank)
    s.output(0, b.node("Pow", [total, b.scalar(1.0 / p, x)]))


@converts("MaxDim", "MinDim")
def max_dim(s):
    """(values, indices) of max/min along a dim: ReduceMax/ReduceMin and ArgMax/ArgMin."""
    x, axis, keepdim, take_max = s.input(0), int(s.arg(1)), bool(s.arg(2)), s.arg(3)
    op = "Max" if take_max else "Min"
    s.output(0, reduce(s, "Reduce" + op, x, (axis,), keepdim))
    s.output(1, s.b.node("Arg" + op, [x], axis=axis, keepdims=int(keepdim)))


@converts("Cumsum")
def cumsum(s):
    """CumSum along the dim."""
    x = s.b.cast(s.input(0), s.out_dtype())
    s.output(0, s.b.node("CumSum", [x, s.b.constant(np.int64(s.arg(1)))]))
