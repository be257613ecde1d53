"""Fused layer ops: linear, bilinear, normalization (batch/layer/instance/group), embedding,
dropout masks.

Each is one Op over whole arrays, so a layer costs one NumPy pass forward and one backward
instead of a dozen tiny broadcast ops.

NOTE [Fused backward and create_graph]
A normal backward pass runs with gradient recording off; the backward then reuses what the
forward saved (x̂, 1/σ) and costs a few array ops. With create_graph=True recording is on, and
the saved arrays would be constants cut from x's graph, so `Normalize.backward` recomputes
them from x with differentiable ember ops: the same formula, now a graph that can be
differentiated again.
"""

import math
from ember._autocast import lower_precision
from ember._backend import get_array_module, scatter_add, xp
from ember._dtype import _category, bool as bool_
from ember._registry import write_out
from ember._tensor import Tensor, short_name
from ember.autograd import grad_mode
from ember._autocast import ACTIVE as autocast_active
from ember.autograd._shown_graph import shown_node, tensor_slots
from ember.autograd.function import EXPORT_HOOK, NOT_A_TENSOR_EDGE, VMAP_HOOK, Op
from ember.ops._half_layer_norm import half_layer_norm_backward
from ember.ops._rows_norm import RowsNormalized, fits_rows, normalize_rows, rows_backward
from ember.ops._util import c_type, check_broadcast
from ember.ops._wirtinger import conj
from ember.ops.broadcast import _sum_to_shape, sum_to
from ember.ops.sparse_grad import embedding_sparse_grad
from ember.ops._node_names import linear_node  # NOTE [grad_fn names of composite ops]
from ember.ops.linalg import _product, addmm
from ember.ops.nn_norm_kernels import (affine, batch_grad_input, batch_moments, centre,
                                       exact_flat_channels, fits, grad_sums, rows, scaled,
                                       torch_affine_flat_channels)

_state = grad_mode._state


def _const(array) -> Tensor:
    return Tensor._make(xp.asanyarray(array))


# ---- linear -----------------------------------------------------------------------------------
class Linear(Op):
    """y = x·Wᵀ + b;  gx = gy·conj(W),  gW = gyᵀ·conj(x) (over all batch dims),  gb = Σ gy."""

    node_name = "AddmmBackward0"

    @staticmethod
    def torch_edges(node, edges):
        """next_functions as PyTorch's addmm(b, x, Wᵀ) / mm(x, Wᵀ) node has them: the bias
        first, the weight behind the TBackward0 node of its transpose (an N-d input's node, a
        view of that product in PyTorch, lists its inputs as they are)."""
        x, w, b = edges
        if node.name() not in ("AddmmBackward0", "MmBackward0"):
            return tuple([edge for edge in edges if edge is not NOT_A_TENSOR_EDGE])
        weight_t = w if w[0] is None else (shown_node("TBackward0", (w,)), 0)
        return (x, weight_t) if b is NOT_A_TENSOR_EDGE else (b, x, weight_t)

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        # NOTE [Linear on sequences]: a (..., in) input is multiplied as one (N, in) matrix;
        # NumPy's matmul of a 3-D array by a matrix loops over the leading dimension instead,
        # several times slower for the thin products of sequence models.
        data = x._data
        rows = _as_rows(data) if data.ndim > 2 else data
        if b is not None and _is_half(data.dtype) and (data.ndim <= 2 or data.flags.c_contiguous):
            y = _addmm_half(b._data, rows, w._data.T)  # PyTorch's addmm (NOTE [linear's two paths])
        else:
            y = _product(rows, w._data.T)
            if b is not None:
                y += b._data
        return y.reshape(data.shape[:-1] + (y.shape[-1],)) if data.ndim > 2 else y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        saved = w if w is not None else x
        if not _state["enabled"] and gy._data.ndim >= 2 and gy._data.dtype.kind != "c" and \
                (saved is None or gy._data.dtype == saved._data.dtype):
            return _linear_grads(gy._data, x, w, ctx.needs_input_grad)
        x, w = (None if x is None else conj(x)), (None if w is None else conj(w))  # Wirtinger
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = gy.reshape(-1, gy.shape[-1]).matmul(w).reshape(gy.shape[:-1] + (w.shape[-1],)) \
                if gy.dim() > 2 else gy.matmul(w)
        if ctx.needs_input_grad[1]:
            gy2 = gy.reshape(-1, gy.shape[-1])
            gw = gy2.t().matmul(x.reshape(-1, x.shape[-1]))
        if ctx.needs_input_grad[2]:
            gb = gy.reshape(-1, gy.shape[-1]).sum(0) if _is_half(gy._data.dtype) else \
                sum_to(gy, (gy.shape[-1],))  # (ember's sum: float32 accumulation for 16 bits)
        return gx, gw, gb


def _linear_grads(gy, x, w, needs):
    """Linear's first-order gradients of a real gy on arrays, by the same products and sums
    the op-level backward makes (NOTE [Fused backward and create_graph]): a batch-1 layer's
    backward is then three NumPy calls instead of a dozen ops."""
    rows = _as_rows(gy) if gy.ndim > 2 else gy
    gx = gw = gb = None
    if needs[0]:
        gx = _product(rows, w._data)
        gx = Tensor._make(gx.reshape(gy.shape[:-1] + (gx.shape[-1],)) if gy.ndim > 2 else gx)
    if needs[1]:
        data = x._data
        gw = Tensor._make(_product(rows.T, _as_rows(data)))
    if needs[2]:
        gb = Tensor._make(_sum_to_shape(gy, (gy.shape[-1],)) if not _is_half(gy.dtype) else
                          xp.sum(rows, axis=0, dtype=xp.float32).astype(gy.dtype))
    return gx, gw, gb


def _addmm_half(c, a, b):
    """c + a·b of float16/bfloat16 arrays as PyTorch's addmm computes it: accumulated in float32
    with c added there, rounded once (NOTE [16-bit addmm] in ember/ops/linalg.py)."""
    y = _product(a.astype(xp.float32), b.astype(xp.float32))
    y += c.astype(xp.float32)
    return y.astype(a.dtype)


def _as_rows(a):
    """a as a matrix of its last dim's rows (reshape(-1, n) refuses n = 0 on an empty array)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


class LinearNoBias(Linear):
    """y = x·Wᵀ;  gx = gy·W,  gW = gyᵀ·x."""

    node_name = "MmBackward0"


@lower_precision
def linear(input: Tensor, weight: Tensor, bias=None, *, out=None) -> Tensor:
    """y = input·weightᵀ + bias (matches `torch.nn.functional.linear`)."""
    if out is not None:
        return write_out(linear(input, weight, bias), out, "linear", "exact")
    if weight.ndim == 2 and input.ndim and input.shape[-1] == weight.shape[1] and \
            input.dtype is weight.dtype and input.dtype is not bool_:
        if bias is None:
            return linear_node(LinearNoBias, input.ndim, False).apply(input, weight, None)
        if bias.shape == weight.shape[:1] and bias.dtype is weight.dtype:
            return linear_node(Linear, input.ndim, True).apply(input, weight, bias)
    return _linear_general(input, weight, bias)


def _linear_general(input: Tensor, weight: Tensor, bias) -> Tensor:
    """linear's rarer cases, with PyTorch's errors.

    NOTE [linear's two paths]
    PyTorch computes linear as addmm(bias, input, weightᵀ) when there is a bias and the input is
    2-D or the bias 1-D (so the bias broadcasts to the (rows, out) result, and its dtype must be
    the weight's), else as matmul(input, weightᵀ) (so a 1-D weight gives a matrix-vector
    product) followed by an in-place add of the bias (which must not grow the result).
    For the values, an N-d input takes addmm only when contiguous: float16/bfloat16 addmm adds
    the bias in float32 and rounds once, matmul then add_ rounds the product first.
    """
    if input.ndim == 0 or weight.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{input.ndim}D and {weight.ndim}D")
    if weight.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{weight.ndim}D")
    if bias is not None and (input.ndim == 2 or bias.ndim == 1 or input.ndim == 1 and
                             bias.shape == (1, weight.shape[0])):  # PyTorch takes (1, out) too
        return _addmm_linear(input, weight, bias)
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{c_type(input)} != {c_type(weight)}")
    if weight.ndim == 1:
        _check_matrix_vector(input, weight)
        out = input.matmul(weight)
    else:
        _check_inner(input, weight)
        out = LinearNoBias.apply(input, weight, None)
    return out if bias is None else _add_in_place(out, bias)


def _addmm_linear(input: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    if weight.ndim == 1:
        raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
    if bias.dtype is not weight.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_name(bias)} and "
                           f"{_name(weight)}")
    _check_inner(input, weight)
    rows = int(xp.prod(input.shape[:-1]))
    result = (rows, weight.shape[0])  # a 1-D input is one row
    if bias.ndim > 2 or any(b not in (1, r) for b, r in zip(bias.shape[::-1], result[::-1])):
        raise RuntimeError(f"The expanded size of the tensor ({result[-1]}) must match the "
                           f"existing size ({bias.shape[-1] if bias.ndim else 1}) at "
                           f"non-singleton dimension {len(result) - 1}.  Target sizes: "
                           f"{list(result)}.  Tensor sizes: {list(bias.shape)}")
    flat = input if input.ndim == 2 else input.reshape(rows, input.shape[-1])
    if bias.shape == weight.shape[:1]:
        out = Linear.apply(flat, weight, bias)
    else:  # a bias broadcasting to the (rows, out) result: its gradient keeps its shape
        out = addmm(bias, flat, weight.t())
    return out if input.ndim == 2 else out.reshape(tuple(input.shape[:-1]) + result[1:])


def _check_inner(input: Tensor, weight: Tensor) -> None:
    if input.shape[-1] != weight.shape[-1]:
        rows = int(xp.prod(input.shape[:-1])) if input.ndim > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and "
            f"{weight.shape[-1]}x{weight.shape[0]})")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_name(input)} and "
                           f"{_name(weight)}")
    if input.dtype is bool_:
        raise NotImplementedError('"addmm_impl_cpu_" not implemented for \'Bool\'')


def _check_matrix_vector(input: Tensor, weight: Tensor) -> None:
    """matmul's errors for input times a vector."""
    size, n = input.shape[-1], weight.shape[0]
    if size == n:
        return
    if input.ndim == 1:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{size}] and src [{n}] to "
                           f"have the same number of elements, but got {size} and {n} elements "
                           "respectively")
    rows = int(xp.prod(input.shape[:-1]))
    raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{size}), vec ({n})")


def _add_in_place(out: Tensor, bias: Tensor) -> Tensor:
    """out.add_(bias) as a new tensor: bias broadcasts to out's shape and casts to its dtype."""
    check_broadcast(tuple(out.shape), tuple(bias.shape))
    shape = xp.broadcast_shapes(tuple(out.shape), tuple(bias.shape))
    if shape != tuple(out.shape):
        raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")
    if _category(bias.dtype) > _category(out.dtype):
        raise RuntimeError(f"result type {_name(bias)} can't be cast to the desired output type "
                           f"{_name(out)}")
    return out + bias.to(out.dtype)


def _name(t):
    return short_name(t.dtype)  # (PyTorch's ScalarType name: Float, BFloat16, ComplexFloat)


# ---- normalization ----------------------------------------------------------------------------
def _is_half(dtype) -> bool:
    """float16 or bfloat16 (whose statistics PyTorch computes in float32)."""
    return dtype.itemsize == 2 and dtype.kind not in "iub"


def moments(x: xp.ndarray, axes):
    """Mean and biased variance of x over axes (kept as size-1 dims)."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    return mean, xp.mean(centered * centered, axis=axes, keepdims=True)


class Normalize(Op):
    """x̂ = (x - μ)/√(σ² + ε) over `axes` (batch statistics, or given running statistics);
    y = x̂·w + b with w, b reshaped to `affine_shape`.

    gb = Σ gy,  gw = Σ gy·x̂,  and with ĝ = gy·w:
    gx = (ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)) / √(σ² + ε)   (batch statistics)
    gx = ĝ / √(σ² + ε)                              (given statistics)
    """

    torch_edges = tensor_slots(0, 3)  # (PyTorch's node lists input, weight and bias)

    node_name = "NativeBatchNormBackward0"
    # NOTE [batch_norm's float16 statistics]: PyTorch's CPU batch norm keeps the batch mean
    # and 1/σ it computes in the parameters' dtype, so a float16 input with float16 (or no)
    # parameters normalises with both rounded to float16; layer and group norm keep float32.
    round_stats = True

    @classmethod
    def forward(cls, ctx, x, w, b, axes, eps, affine_shape, mean, var, batch_stats,
                centered=None):
        data = x._data
        dtype = data.dtype
        ctx.axes, ctx.eps, ctx.affine_shape = axes, eps, affine_shape
        ctx.batch_stats, ctx.centered = batch_stats, None
        if isinstance(centered, RowsNormalized):  # NOTE [Layer norm by rows]
            ctx.xhat, ctx.invstd, ctx.mean, ctx.rows = centered.xhat, centered.invstd, mean, True
            ctx.save_for_backward(x, w)
            return centered.y
        if fits(data, axes, *(None if t is None else t._data for t in (w, b))):
            return _batch_norm_forward(ctx, x, w, b, eps, mean, var, centered)
        if _is_half(dtype):  # computed in float32 and rounded once, as PyTorch does
            data = data.astype(xp.float32)
        invstd = _inverse_std(var, eps, cls.round_stats and batch_stats, data.dtype)
        mean = mean.astype(data.dtype, copy=False)
        if cls.round_stats and batch_stats and dtype == xp.float16 and (
                w is None or w._data.dtype == xp.float16):
            invstd = invstd.astype(dtype).astype(data.dtype)
            mean = mean.astype(dtype).astype(data.dtype)
        xhat = (data - mean) * invstd
        y = xhat
        if w is not None:
            y = y * w._data.reshape(affine_shape)
        if b is not None:
            y = y + b._data.reshape(affine_shape)
        if cls.round_stats and data is x._data and data.size and \
                tuple(axes) == (0,) + tuple(range(2, data.ndim)):  # batch norm
            alpha = invstd.reshape(-1) if w is None else invstd.reshape(-1) * w._data.reshape(-1)
            y = y.copy() if y is xhat else y
            torch_affine_flat_channels(y, data, mean, var, alpha,
                                       None if b is None else b._data.reshape(-1))
        ctx.xhat, ctx.invstd, ctx.mean = xhat, invstd, mean
        ctx.save_for_backward(x, w)
        return y.astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        axes, shape = ctx.axes, ctx.affine_shape
        if not _state["enabled"]:
            return _normalize_backward_arrays(ctx, gy._data, x, w)
        if ctx.batch_stats:  # create_graph: see NOTE above
            mean = x.mean(dim=axes, keepdim=True)
            centered = x - mean
            invstd = ((centered * centered).mean(dim=axes, keepdim=True) + ctx.eps).rsqrt()
            xhat = centered * invstd
        elif _state["enabled"]:
            invstd = _const(ctx.invstd)
            xhat = (x - _const(ctx.mean)) * invstd
        else:
            invstd, xhat = _const(ctx.invstd), _const(ctx.xhat)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            g = gy if w is None else gy * w.reshape(shape)
            if ctx.batch_stats:
                g = g - g.mean(dim=axes, keepdim=True) - xhat * (g * xhat).mean(
                    dim=axes, keepdim=True)
            gx = g * invstd
        if ctx.needs_input_grad[1]:
            gw = sum_to(gy * xhat, shape).reshape(w.shape)
        if ctx.needs_input_grad[2]:
            gb = sum_to(gy, shape).reshape(ctx._input_meta[2][0])
        return gx, gw, gb, None, None, None, None, None, None


def _inverse_std(var, eps, batch_stats, dtype):
    """1/√(σ² + ε) in `dtype`. PyTorch's batch norm in training adds ε to the batch variance
    (rounded to the input's dtype) in double; elsewhere (running statistics, layer and group
    norm) the sum is taken in the input's precision."""
    if batch_stats and var.dtype != xp.float64:
        return (1.0 / xp.sqrt(var.astype(xp.float64) + eps)).astype(dtype)
    return (1.0 / xp.sqrt(var + eps)).astype(dtype, copy=False)


def _batch_norm_forward(ctx, x, w, b, eps, mean, var, centered):
    """Normalize's forward over dims 0, 2, ... of a float32/float64 input (batch norm):
    y = (x - μ)·α + b with α = w/√(σ² + ε), keeping x - μ for backward (NOTE [Batch norm in
    few passes])."""
    data = x._data
    invstd = _inverse_std(var, eps, ctx.batch_stats, data.dtype)
    mean = mean.astype(data.dtype, copy=False)
    alpha = invstd.reshape(-1) if w is None else invstd.reshape(-1) * w._data.reshape(-1)
    keep = any(ctx.needs_input_grad[:3])
    bias = None if b is None else b._data.reshape(-1)
    if centered is not None:  # (the batch statistics' pass made it)
        y = affine(centered, alpha, bias, in_place=not keep)
    elif keep:
        centered = centre(data, mean)
        y = affine(centered, alpha, bias)
    else:  # running statistics, no backward: centred block by block on the way
        y = affine(data, alpha, bias, mean=mean)
    torch_affine_flat_channels(y, data, mean, var, alpha, bias)
    if keep:
        ctx.centered, ctx.invstd, ctx.mean, ctx.xhat = centered, invstd, mean, None
        ctx.save_for_backward(x, w)
    return y


def _batch_norm_backward_arrays(ctx, g, w):
    """Normalize's first-order backward for `_batch_norm_forward`:
    gb = Σ gy,  gw = Σ gy·x̂,  gx = α·(gy - mean(gy) - x̂·mean(gy·x̂)) (batch statistics)
    or α·gy (given statistics), with α = w/σ and x̂ = (x - μ)/σ."""
    centered, invstd = ctx.centered, ctx.invstd.reshape(-1)
    alpha = invstd if w is None else invstd * w._data.reshape(-1)
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    gx = gw = gb = None
    if need_w or need_b or (need_x and ctx.batch_stats):
        sum_g, sum_gc = grad_sums(g, centered)
        count = centered.size // centered.shape[1]
        sum_gx = invstd.astype(xp.float64) * sum_gc  # Σ gy·x̂
        if need_x and ctx.batch_stats:
            coef = invstd.astype(xp.float64) * sum_gx / count
            gx = batch_grad_input(g, centered, alpha, sum_g / count, coef)
        if need_w:
            gw = Tensor._make(sum_gx.astype(g.dtype).reshape(w._data.shape))
        if need_b:
            gb = Tensor._make(sum_g.astype(g.dtype).reshape(ctx._input_meta[2][0]))
    if need_x and not ctx.batch_stats:
        gx = scaled(g, alpha)
    return (None if gx is None else Tensor._make(gx)), gw, gb, None, None, None, None, None, None


def _normalize_backward_arrays(ctx, g, x, w):
    """Normalize's backward on arrays, for ordinary (first-order) backward passes.

    The same formulas as the Tensor version, fused into few whole-array passes: most of a
    conv net's BatchNorm time is here, and no graph needs recording.
    """
    if ctx.centered is not None:
        return _batch_norm_backward_arrays(ctx, g, w)
    if getattr(ctx, "rows", False) and ctx.xhat is not None and g.dtype == ctx.xhat.dtype:
        gx, gw, gb = rows_backward(g, ctx.xhat, ctx.invstd, None if w is None else w._data,
                                   ctx.needs_input_grad[:3])
        gw = None if gw is None else gw.reshape(w._data.shape)
        gb = None if gb is None else gb.reshape(ctx._input_meta[2][0])
        return (*(None if a is None else Tensor._make(a) for a in (gx, gw, gb)),
                None, None, None, None, None, None)
    axes, shape = ctx.axes, ctx.affine_shape
    xhat, invstd = ctx.xhat, ctx.invstd
    gx = gw = gb = None
    if ctx.needs_input_grad[0]:
        ghat = g if w is None else g * w._data.reshape(shape)
        if ctx.batch_stats:
            correction = (ghat * xhat).mean(axis=axes, keepdims=True)
            centred = ghat - ghat.mean(axis=axes, keepdims=True)
            centred -= xhat * correction
            ghat = centred
        # float16/bfloat16 gy: the float32 x̂ widens the products; round once at the end
        gx = Tensor._make(xp.multiply(ghat, invstd).astype(g.dtype, copy=False))
    if ctx.needs_input_grad[1]:
        gw = _sum_to_shape(g * xhat, shape).reshape(w._data.shape)
        gw = Tensor._make(gw.astype(w._data.dtype, copy=False))
    if ctx.needs_input_grad[2]:
        gb = _sum_to_shape(g, shape).reshape(ctx._input_meta[2][0])
        gb = Tensor._make(gb.astype(ctx._input_meta[2][1].numpy, copy=False))
    return gx, gw, gb, None, None, None, None, None, None


class NormalizeLayer(Normalize):
    """Normalize, named as PyTorch names layer_norm's node."""

    node_name = "NativeLayerNormBackward0"
    round_stats = False

    @classmethod
    def forward(cls, ctx, x, w, b, *args, **kwargs):
        # a float32 parameter of a 16-bit x: PyTorch's "mixed type" kernel (statistics kept in
        # float32)
        ctx.params_float32 = any(p is not None and p._data.dtype == xp.float32 for p in (w, b))
        return super().forward(ctx, x, w, b, *args, **kwargs)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        if not _state["enabled"] and _is_half(x._data.dtype) and gy._data.dtype == x._data.dtype:
            return half_layer_norm_backward(ctx, gy, x, w)
        return Normalize.backward(ctx, gy)


class NormalizeGroup(Normalize):
    """Normalize, named as PyTorch names group_norm's node."""

    node_name = "NativeGroupNormBackward0"
    round_stats = False


def normalize(x, weight, bias, axes, eps, affine_shape, mean=None, var=None, op=Normalize):
    """Normalize x over axes with its own statistics (mean None) or the given ones, then the
    affine map; returns (y, mean, var) with the statistics used."""
    batch_stats = mean is None
    centered = None
    params = [None if t is None else t._data for t in (weight, bias)]
    if batch_stats and not op.round_stats and fits_rows(x._data, axes, *params) and \
            EXPORT_HOOK[0] is None and VMAP_HOOK[0] is None and not autocast_active[0]:
        keep = _state["enabled"] and any(t is not None and t.requires_grad
                                         for t in (x, weight, bias))
        y, xhat, mean, var, invstd = normalize_rows(x._data, axes, *params, eps, keep)
        centered = RowsNormalized(y, xhat, invstd)
    elif batch_stats:
        data = x._data.astype(xp.float32) if _is_half(x._data.dtype) else x._data
        if fits(x._data, axes, *(None if t is None else t._data for t in (weight, bias))):
            mean, var, centered = batch_moments(data)
        else:
            mean, var = moments(data, axes)
            if op.round_stats and data is x._data and data.size and \
                    tuple(axes) == (0,) + tuple(range(2, data.ndim)):  # batch norm
                wide = var.astype(xp.float64)  # NOTE [Batch norm's flat channels]
                exact_flat_channels(rows(data), mean, wide)
                var = wide.astype(var.dtype)  # (their σ² is a value of the input's dtype)
    y = op.apply(x, weight, bias, tuple(axes), eps, tuple(affine_shape), mean, var, batch_stats,
                 centered=centered)
    return y, mean, var


# ---- embedding --------------------------------------------------------------------------------
class Embedding(Op):
    """y = W[idx];  gW = Σ of gy rows scattered to their indices (none to padding_idx)."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, sparse=False):
        ctx.indices, ctx.num = indices, weight._data.shape[0]
        ctx.padding_idx, ctx.scale, ctx.sparse = padding_idx, scale_grad_by_freq, sparse
        return weight._data[indices]

    @staticmethod
    def backward(ctx, gy):
        if ctx.sparse:  # NOTE [Sparse gradients] in ember/autograd/engine.py
            gw = embedding_sparse_grad(gy, ctx.indices, ctx.num, ctx.padding_idx, ctx.scale)
        else:
            gw = EmbeddingScatter.apply(gy, ctx.indices, ctx.num, ctx.padding_idx, ctx.scale)
        return gw, None, None, None, None


class EmbeddingScatter(Op):
    """gW = scatter-add of g's rows to `indices` (the adjoint of the row gather);
    its gradient is the gather again."""

    node_name = "EmbeddingBackwardBackward0"

    @staticmethod
    def forward(ctx, g, indices, num, padding_idx, scale):
        rows = g._data.reshape(-1, g._data.shape[-1])
        flat = indices.reshape(-1)
        weight = None
        if scale:
            counts = xp.bincount(flat, minlength=num)
            weight = (1.0 / counts[flat]).astype(rows.dtype)
            rows = rows * weight[:, None]
        out = get_array_module(g._data).zeros((num, rows.shape[1]), dtype=g._data.dtype)
        scatter_add(out, flat, rows)
        if padding_idx is not None:
            out[padding_idx] = 0
        ctx.indices, ctx.row_weight, ctx.padding_idx = indices, weight, padding_idx
        return out

    @staticmethod
    def backward(ctx, gw):
        if ctx.padding_idx is not None:
            mask = get_array_module(gw._data).ones((gw.shape[0], 1), dtype=gw._data.dtype)
            mask[ctx.padding_idx] = 0
            gw = gw * _const(mask)
        gg = Embedding.apply(gw, ctx.indices, None, False)
        if ctx.row_weight is not None:
            gg = gg * _const(ctx.row_weight.reshape(ctx.indices.shape + (1,)))
        return gg, None, None, None, None


# ---- dropout ----------------------------------------------------------------------------------
class MaskScale(Op):
    """y = x·m for a constant mask m (dropout's kept/(1-p) mask, broadcastable);  gx = gy·m."""

    node_name = "MulBackward0"  # torch's CPU dropout multiplies by its mask (native_dropout: CUDA)

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x._data * mask

    @staticmethod
    def backward(ctx, gy):
        return gy * _const(ctx.mask), None
