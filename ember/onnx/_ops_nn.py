"""Converters of the neural-network ops: linear, convolution, pooling, normalisation,
embedding and attention."""

import math

import numpy as np

from ember.onnx._convert import converts
from ember.onnx._graph import require_onnx
from ember.onnx._ops_math import reduce
from ember.ops.interpolate import _linear_matrix


# ---- linear and matmul ------------------------------------------------------------------------
@converts("Linear", "LinearNoBias")
def linear(s):
    """Gemm for a matrix input (as torch exports it), MatMul + Add for a batch of them."""
    x, w, bias = s.input(0), s.input(1), s.input(2) if s.n_args() > 2 else None
    b = s.b
    if len(b.shape(x)) == 2:
        inputs = [x, w] + ([bias] if bias else [])
        return s.output(0, b.node("Gemm", inputs, transB=1))
    y = b.node("MatMul", [x, b.node("Transpose", [w], perm=[1, 0])])
    s.output(0, b.node("Add", [y, bias]) if bias else y)


@converts("Matmul", "Mm", "Bmm", "Mv", "Dot")
def matmul(s):
    """MatMul (NumPy broadcasting rules, as torch.matmul)."""
    s.output(0, s.b.node("MatMul", [s.input(0), s.input(1)]))


# ---- convolution ------------------------------------------------------------------------------
@converts("Convolution")
def convolution(s):
    """Conv: geometry (stride, dilation, padding before/after, groups) as attributes."""
    x, w, bias = s.input(0), s.input(1), s.input(2)
    geo = s.arg(3)
    inputs = [x, w] + ([bias] if bias else [])
    s.output(0, s.b.node("Conv", inputs, strides=list(geo.stride), dilations=list(geo.dilation),
                         pads=list(geo.lo) + list(geo.hi), group=geo.groups,
                         kernel_shape=list(s.b.shape(w)[2:])))


@converts("ConvTranspose")
def conv_transpose(s):
    """ConvTranspose; output_padding is what the recorded output size adds to the formula."""
    x, w, bias = s.input(0), s.input(1), s.input(2)
    geo, out = s.arg(3), tuple(s.arg(4))
    kernel, spatial = s.b.shape(w)[2:], s.b.shape(x)[2:]
    extra = [o - ((n - 1) * st - 2 * p + d * (k - 1) + 1) for o, n, st, p, d, k in
             zip(out, spatial, geo.stride, geo.lo, geo.dilation, kernel)]
    inputs = [x, w] + ([bias] if bias else [])
    s.output(0, s.b.node("ConvTranspose", inputs, strides=list(geo.stride),
                         dilations=list(geo.dilation), pads=list(geo.lo) * 2, group=geo.groups,
                         output_padding=extra, kernel_shape=list(kernel)))


# ---- pooling ----------------------------------------------------------------------------------
def _ceil_mode(spatial, kernel, stride, padding, dilation, out) -> int:
    """1 when the recorded output size is the ceil form of the pooling formula."""
    floor = tuple((n + 2 * p - d * (k - 1) - 1) // st + 1 for n, k, st, p, d in
                  zip(spatial, kernel, stride, padding, dilation))
    return int(tuple(out) != floor)


@converts("MaxPool")
def max_pool(s):
    """MaxPool; ceil_mode is read off the recorded output size (values only)."""
    x = s.input(0)
    kernel, stride, padding, dilation, out = (tuple(s.arg(i)) for i in range(1, 6))
    ceil = _ceil_mode(s.b.shape(x)[2:], kernel, stride, padding, dilation, out)
    s.output(0, s.b.node("MaxPool", [x], kernel_shape=list(kernel), strides=list(stride),
                         pads=list(padding) * 2, dilations=list(dilation), ceil_mode=ceil))


@converts("AvgPool")
def avg_pool(s):
    """AveragePool; count_include_pad and divisor_override are read off the recorded divisors."""
    x, b = s.input(0), s.b
    kernel, stride, padding, out = (tuple(s.arg(i)) for i in range(1, 5))
    divisor = np.asarray(s.array(5))
    spatial = b.shape(x)[2:]
    if tuple(kernel) == tuple(spatial) and not any(padding):
        return s.output(0, b.node("GlobalAveragePool", [x]))
    full = math.prod(kernel)
    ceil = _ceil_mode(spatial, kernel, stride, padding, (1,) * len(kernel), out)
    attrs = dict(kernel_shape=list(kernel), strides=list(stride), pads=list(padding) * 2,
                 ceil_mode=ceil)
    if np.all(divisor == divisor.flat[0]):
        y = b.node("AveragePool", [x], count_include_pad=1, **attrs)
        if divisor.flat[0] != full:  # divisor_override
            y = b.node("Mul", [y, b.scalar(full / float(divisor.flat[0]), x)])
        return s.output(0, y)
    # count_include_pad=False: ONNX divides by the window's elements inside the input too
    s.output(0, b.node("AveragePool", [x], count_include_pad=0, **attrs))


def _resize_rule(mats1, mats2):
    """Which of torch's linear-interpolation rules made both runs' weight matrices: (align
    corners?, by the sizes (in/out) or by one scale factor?), or None."""
    for corners in (False, True):
        for by_sizes in (False, True):
            factor = mats1[0].shape[1] / mats1[0].shape[0]  # in/out of the first run
            ok = True
            for mats in (mats1, mats2):
                for m in mats:
                    out, n = m.shape
                    step = n / out if by_sizes else factor
                    expected = _linear_matrix(n, out, step, corners, np.float64, np)
                    ok = ok and np.allclose(m, expected, rtol=1e-5, atol=1e-6)
            if ok:
                return corners, by_sizes
    return None


def _linear_resize(s, x: str, mats) -> str:
    """Linear interpolation along dynamic axes: Resize (linear) with torch's coordinate rule,
    to the output's sizes, or by the scale factor when torch used it (a non-integer one)."""
    b = s.b
    twins = [np.asarray(m.array, dtype=np.float64) for m in s.twin_arg(1)]
    rule = _resize_rule(mats, twins)
    if rule is None:
        raise s.unsupported("an interpolation along a dynamic axis other than linear")
    corners, by_sizes = rule
    mode = "align_corners" if corners else "pytorch_half_pixel"
    ratios = {(m.shape[0] / m.shape[1], t.shape[0] / t.shape[1]) for m, t in zip(mats, twins)}
    if by_sizes or (corners and any(a != c for a, c in ratios)):  # to sizes read from inputs
        sizes = b.shape_tensor(s.out_shape(), s.out_twin_shape())
        return b.node("Resize", [x, "", "", sizes], mode="linear",
                      coordinate_transformation_mode=mode)
    rank = len(b.shape(x))
    scales = np.ones(rank, dtype=np.float32)
    scales[rank - len(mats):] = [m.shape[0] / m.shape[1] for m in mats]
    return b.node("Resize", [x, "", b.constant(scales)], mode="linear",
                  coordinate_transformation_mode=mode)


def _static_trailing(s, x: str, count: int) -> None:
    """Windows and interpolation weights are written for the export's sizes: refuse them when
    the last `count` dims follow a dynamic axis (they would be wrong at other sizes)."""
    b = s.b
    if b.shape(x)[-count:] != b.info[x][2][-count:]:
        raise s.unsupported("adaptive pooling or interpolation along a dynamic axis (only a "
                            "1x1 adaptive pool can follow one)")


@converts("AdaptiveMaxPool")
def adaptive_max_pool(s):
    """GlobalMaxPool for a 1x1 output, MaxPool for even windows (the values, not the indices)."""
    x, b = s.input(0), s.b
    spatial, out = b.shape(x)[2:], tuple(s.arg(1))
    if all(o == 1 for o in out):
        return s.output(0, b.node("GlobalMaxPool", [x]))
    _static_trailing(s, x, len(out))
    if any(n % o for n, o in zip(spatial, out)):
        raise s.unsupported("windows of uneven sizes")
    windows = [n // o for n, o in zip(spatial, out)]
    s.output(0, b.node("MaxPool", [x], kernel_shape=windows, strides=windows))


@converts("SeparableLinear", "AdaptiveAvg")
def separable_linear(s):
    """Adaptive average pooling (and linear interpolation): GlobalAveragePool for a 1x1 output,
    AveragePool for even windows, otherwise one MatMul per spatial dim with the weights.

    SeparableLinear(x, mats) applies the matrices; AdaptiveAvg(x, mats, count, ...) applies 0/1
    window indicators and divides by the window sizes."""
    x, b = s.input(0), s.b
    mats = [np.asarray(m.array, dtype=np.float64) for m in s.arg(1)]
    count = None
    if s.event.name == "AdaptiveAvg":
        count = np.asarray(getattr(s.arg(2), "array", s.arg(2)))
    if count is not None:
        weights = [m / m.sum(axis=1, keepdims=True) for m in mats]
    else:
        weights = mats
    spatial = b.shape(x)[2:]
    pooled = len(mats) == len(spatial)
    if pooled and all(m.shape[0] == 1 and np.allclose(m, 1.0 / m.shape[1]) for m in weights):
        return s.output(0, b.node("GlobalAveragePool", [x]))
    if s.event.name == "SeparableLinear" and b.shape(x)[-len(mats):] != b.info[x][2][-len(mats):]:
        return s.output(0, _linear_resize(s, x, mats))
    _static_trailing(s, x, len(mats))
    windows = [_even_window(m) for m in weights]
    if pooled and all(w is not None for w in windows):
        return s.output(0, b.node("AveragePool", [x], kernel_shape=windows, strides=windows))
    y, rank = x, len(b.shape(x))
    for j, m in enumerate(mats):
        axis = rank - len(mats) + j
        last = rank - 1
        perm = list(range(rank))
        perm[axis], perm[last] = perm[last], perm[axis]
        moved = y if axis == last else b.node("Transpose", [y], perm=perm)
        moved = b.node("MatMul", [moved, b.constant(m.T.astype(b.dtype(x)))])
        y = moved if axis == last else b.node("Transpose", [moved], perm=perm)
    if count is not None:
        y = b.node("Div", [y, b.constant(count.astype(b.dtype(x)))])
    s.output(0, y)


def _even_window(m):
    """The window size when m averages equal, non-overlapping windows; else None."""
    out, n = m.shape
    if n % out:
        return None
    k = n // out
    expected = np.kron(np.eye(out), np.full((1, k), 1.0 / k))
    return k if np.allclose(m, expected) else None


# ---- normalisation ----------------------------------------------------------------------------
@converts("Normalize", "NormalizeLayer", "NormalizeGroup")
def normalize(s):
    """BatchNormalization with running statistics, LayerNormalization over trailing dims, or
    the formula (x - μ)/√(σ² + ε)·w + b written out."""
    b, x = s.b, s.input(0)
    axes, eps, affine = tuple(s.arg(3)), float(s.arg(4)), tuple(s.arg(5))
    batch_stats = bool(s.arg(8))
    shape = b.shape(x)
    rank = len(shape)
    dtype = b.dtype(x)
    w, bias = s.input(1), s.input(2)
    if not batch_stats and axes == (0,) + tuple(range(2, rank)) and rank >= 2:
        c = shape[1]
        mean, var = _statistic(s, 6, c), _statistic(s, 7, c)
        w = w or b.constant(np.ones(c, dtype))
        bias = bias or b.constant(np.zeros(c, dtype))
        return s.output(0, b.node("BatchNormalization", [x, w, bias, mean, var], epsilon=eps))
    if batch_stats and axes == tuple(range(axes[0], rank)):
        w = _affine(s, w, affine, axes[0], 1.0)
        bias = _affine(s, bias, affine, axes[0], 0.0)
        return s.output(0, b.node("LayerNormalization", [x, w, bias], axis=axes[0],
                                  epsilon=eps))
    if batch_stats:
        mean = reduce(s, "ReduceMean", x, axes, True)
        centered = b.node("Sub", [x, mean])
        var = reduce(s, "ReduceMean", b.node("Mul", [centered, centered]), axes, True, rank)
    else:
        mean = b.constant(np.asarray(s.array(6), dtype=dtype))
        var = b.constant(np.asarray(s.array(7), dtype=dtype))
        centered = b.node("Sub", [x, mean])
    std = b.node("Sqrt", [b.node("Add", [var, b.scalar(eps, x)])])
    y = b.node("Div", [centered, std])
    if w:
        y = b.node("Mul", [y, b.node("Reshape", [w, b.ints(affine)])])
    if bias:
        y = b.node("Add", [y, b.node("Reshape", [bias, b.ints(affine)])])
    s.output(0, y)


@converts("ChannelAffine")
def channel_affine(s):
    """x·w + b per channel (group norm's affine map): Mul and Add by (1, C, 1, ...) views."""
    b, x = s.b, s.input(0)
    affine = [1, -1] + [1] * (len(b.shape(x)) - 2)
    y = b.node("Mul", [x, b.node("Reshape", [s.input(1), b.ints(affine)])])
    if s.input(2):
        y = b.node("Add", [y, b.node("Reshape", [s.input(2), b.ints(affine)])])
    s.output(0, y)


def _statistic(s, i, c):
    """A running statistic as a (C,) initializer, under its buffer's name when it is one."""
    ref = s.arg(i)
    array = np.asarray(ref.array).reshape(c)
    if ref.kind == "param":
        return s.name_of(ref._replace(array=array, shape=(c,)))
    return s.b.constant(array)


def _affine(s, name, affine, axis: int, fill):
    """LayerNormalization's scale/bias over x's dims from `axis` on: the parameter, or a
    constant; expanded to those dims, read from x when they follow a dynamic axis."""
    b, x = s.b, s.input(0)
    trailing, twin = b.shape(x)[axis:], b.info[x][2][axis:]
    if name is not None and tuple(affine) == tuple(trailing):
        return name
    if trailing == twin:
        if name is None:
            return b.constant(np.full(trailing, fill, dtype=b.dtype(x)))
        return b.node("Expand", [b.node("Reshape", [name, b.ints(affine)]), b.ints(trailing)])
    source = (b.constant(np.asarray(fill, dtype=b.dtype(x))) if name is None
              else b.node("Reshape", [name, b.ints(affine)]))
    return b.node("Expand", [source, b.node("Shape", [x], start=axis)])


# ---- embedding --------------------------------------------------------------------------------
@converts("Embedding")
def embedding(s):
    """Gather of the weight's rows."""
    weight, indices = s.input(0), s.input(1)
    s.output(0, s.b.node("Gather", [weight, s.b.cast(indices, np.int64)], axis=0))


# ---- attention --------------------------------------------------------------------------------
def _causal(ref) -> bool:
    """Whether a constant bias is is_causal's: 0 on and below the diagonal, -inf above."""
    if ref.kind != "const" or ref.array.ndim != 2:
        return False
    allowed = np.tri(*ref.array.shape, dtype=bool)
    return np.array_equal(ref.array, np.where(allowed, 0, -np.inf).astype(ref.array.dtype))


def _attention_bias(s, dtype) -> str:
    """The additive bias of a bool mask (recorded: Where(mask, 0, -inf)) or of is_causal
    (its size following a dynamic axis: -inf above the diagonal by Trilu), else as recorded."""
    b, ref, twin = s.b, s.arg(4), s.twin_arg(4)
    if ref.shape != twin.shape and _causal(ref) and _causal(twin):
        shape = b.shape_tensor(ref.shape, twin.shape)
        blocked = require_onnx().numpy_helper.from_array(np.array([-np.inf], dtype), "value")
        full = b.node("ConstantOfShape", [shape], value=blocked)
        return b.node("Trilu", [full, b.constant(np.int64(1))], upper=1)
    bias = s.input(4)
    if b.dtype(bias) == np.bool_:
        zero, blocked = (b.constant(np.asarray(v, dtype=dtype)) for v in (0.0, -np.inf))
        return b.node("Where", [bias, zero, blocked])
    return b.cast(bias, dtype)


@converts("ScaledDotProductAttention")
def attention(s):
    """softmax(scale·q·kᵀ + mask + bias)·v, as MatMul and Softmax nodes."""
    b = s.b
    q, k, v = s.input(0), s.input(1), s.input(2)
    if s.arg(7) != 1:
        raise s.unsupported("grouped-query attention")
    rank = len(b.shape(k))
    perm = list(range(rank))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    scores = b.node("MatMul", [q, b.node("Transpose", [k], perm=perm)])
    scores = b.node("Mul", [scores, b.scalar(float(s.arg(5)), q)])
    if s.arg(3) is not None:
        scores = b.node("Add", [scores, b.cast(s.input(3), b.dtype(q))])
    if s.arg(4) is not None:
        scores = b.node("Add", [scores, _attention_bias(s, b.dtype(q))])
    p = b.node("Softmax", [scores], axis=-1)
    s.output(0, b.node("MatMul", [p, v]))
    if s.n_outputs() > 1:
        s.output(1, p)
