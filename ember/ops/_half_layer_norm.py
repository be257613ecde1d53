"""Layer norm's backward for a float16/bfloat16 input, computed as PyTorch's CPU kernel does.

NOTE [Layer norm's 16-bit backward]
PyTorch's CPU layer norm backward (`LayerNormBackwardKernelImplInternal`) on a 16-bit input x
works in float32 per row i (a = 1/σ_i, μ_i as saved by the forward):
- gw and gb are accumulated row after row into a buffer of x's 16-bit dtype, one buffer per
  intra-op thread: buf = half(float(buf) + gy_i·(a·x_i - a·μ_i)), the threads taking the rows
  in contiguous chunks as `at::parallel_for` splits them; the buffers are then added in float32
  and stored in the parameter's dtype. So gw and gb carry a 16-bit rounding per row, which the
  autocast (bfloat16) training of a LayerNorm's float32 parameters sees;
- gx = half(a·gy·w + b·x + c) with ds = Σ gy·x·w, db = Σ gy·w, b = (db·μ - ds)·a³/N,
  c = -b·μ - db·a/N.
The forward saves μ and 1/σ in float32 when a parameter is float32 ("mixed type"), else
rounded to x's dtype, and the backward uses these.
"""

import math

from ember._backend import xp
from ember._tensor import Tensor
from ember._threads import get_num_threads


def _chunked(rows, threads):
    """rows (R, N) padded with zero rows to (T, chunk, N): the chunks of rows `at::parallel_for`
    gives each of its T threads (one chunk when it runs serially)."""
    count = rows.shape[0]
    threads = 1 if count <= 1 else max(1, min(threads, count))
    chunk = -(-count // threads) if count else 0
    threads = -(-count // chunk) if count else 1
    padded = xp.zeros((threads * chunk, rows.shape[1]), dtype=rows.dtype)
    padded[:count] = rows
    return padded.reshape(threads, chunk, rows.shape[1])


def _param_grad(terms, half, dtype):
    """Σ over rows of terms (float32, (R, N)), accumulated per thread in a `half` buffer, the
    buffers then added in float32; returned in `dtype`."""
    parts = _chunked(terms, get_num_threads())
    buffer = xp.zeros((parts.shape[0], parts.shape[2]), dtype=half)
    for k in range(parts.shape[1]):  # sequential by nature: a 16-bit rounding per row
        buffer = (buffer.astype(xp.float32) + parts[:, k]).astype(half)
    total = xp.zeros(parts.shape[2], dtype=xp.float32)
    for part in buffer.astype(xp.float32):
        total += part
    return total.astype(dtype)


def half_layer_norm_backward(ctx, gy, x, w):
    """(gx, gw, gb) of a 16-bit layer norm (NOTE [Layer norm's 16-bit backward])."""
    half = x._data.dtype
    width = math.prod(ctx.affine_shape)
    xs = x._data.reshape(-1, width).astype(xp.float32)
    g = gy._data.reshape(-1, width).astype(xp.float32)
    mean, rstd = (s.reshape(-1, 1).astype(xp.float32) for s in (ctx.mean, ctx.invstd))
    if not ctx.params_float32:  # saved in x's dtype
        mean, rstd = (s.astype(half).astype(xp.float32) for s in (mean, rstd))
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    gx = gw = gb = None
    if need_w:
        terms = g * (rstd * xs + (-rstd * mean))
        gw = Tensor._make(_param_grad(terms, half, w._data.dtype).reshape(w._data.shape))
    if need_b:
        shape, dtype = ctx._input_meta[2]
        gb = Tensor._make(_param_grad(g, half, dtype.numpy).reshape(shape))
    if need_x:
        weight = None if w is None else w._data.reshape(1, -1).astype(xp.float32)
        g_w = g if weight is None else g * weight
        ds = (g_w * xs).sum(axis=1, keepdims=True)
        db = g_w.sum(axis=1, keepdims=True)
        scale = xp.float32(1.0 / width)
        b = (db * mean - ds) * rstd * rstd * rstd * scale
        c = -b * mean - db * rstd * scale
        first = rstd * g if weight is None else rstd * g * weight
        gx = Tensor._make((first + b * xs + c).astype(half).reshape(x._data.shape))
    return gx, gw, gb, None, None, None, None, None, None
