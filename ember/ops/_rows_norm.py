"""Layer and group norm as the normalisation of the rows of a 2-d view, in cache-sized chunks
(the `Normalize` op is in ember/ops/nn_ops.py).

NOTE [Layer norm by rows]
layer_norm normalises the trailing dims of x, group_norm each (sample, group) block: both are
the rows of x viewed as (R, D). Whole-array NumPy made that ten passes over memory forward and
as many backward, each of an activation's size: 8 ms forward, 9 backward for a (4096, 512)
float32 layer norm, where PyTorch's fused kernel takes 3 ms for both. Here the rows go in
chunks of about CHUNK elements whose temporaries stay in the cache, the chunks shared by the
intra-op threads. The formulas are those of the whole-array code (mean, then the mean square of
x - mean, x̂ = (x - mean)·1/√(var + ε), y = x̂·w + b; gx = (ĝ - mean(ĝ) - x̂·mean(ĝ·x̂))/σ with
ĝ = gy·w), row by row; the row means are einsum's sums (accumulated in order, where
ndarray.mean sums pairwise: 3x faster, and as close to PyTorch's float32 statistics), and gw
and gb are summed chunk by chunk, then over the chunks, always in the same order whatever the
threads.
"""

import math
from typing import NamedTuple

from ember._backend import xp
from ember._threads import parallel_blocks
from ember.ops.activation_kernels import CHUNK

# Chunks' worth of elements from which the chunks are shared by the intra-op threads. Measured
# fwd+bwd on two threads against one: (1400, 128) 20% slower (each contended GIL re-acquire
# costs a wake-up), (700, 512) and (2800, 128) 15-30% faster.
_THREADED_FROM = 4


class RowsNormalized(NamedTuple):
    """What `normalize_rows` computed for the Normalize op to take as its forward's result."""

    y: object
    xhat: object  # None when no backward will run
    invstd: object


def fits_rows(data, axes, *params) -> bool:
    """Whether x normalised over `axes` is a rows normalisation: a contiguous, non-empty
    float32/float64 array over its trailing dims, parameters (or None) of its dtype."""
    return (data.dtype in (xp.float32, xp.float64) and data.size > 0 and data.ndim >= 1
            and data.flags.c_contiguous and tuple(axes) == tuple(range(data.ndim - len(axes),
                                                                     data.ndim))
            and all(p is None or p.dtype == data.dtype for p in params))


def _chunks(rows: int, width: int):
    """Row slices of about CHUNK elements each."""
    step = max(1, CHUNK // width)
    return [slice(start, min(start + step, rows)) for start in range(0, rows, step)]


def normalize_rows(data, axes, w, b, eps, keep_xhat):
    """(y, x̂ or None, mean, var, 1/σ) of data normalised over its trailing `axes`, with the
    affine map of w, b (arrays of the normalised shape, or None); the statistics shaped for
    broadcasting against data, x̂ kept when asked (for the backward)."""
    width = math.prod(data.shape[data.ndim - len(axes):])
    x = data.reshape(-1, width)
    stat_shape = data.shape[:data.ndim - len(axes)] + (1,) * len(axes)
    mean, var = (xp.empty((x.shape[0], 1), dtype=x.dtype) for _ in range(2))
    y = xp.empty_like(x)
    xhat = xp.empty_like(x) if keep_xhat else y  # (kept apart from y: y may be changed in place)
    weight = None if w is None else w.reshape(-1)
    bias = None if b is None else b.reshape(-1)
    chunks = _chunks(*x.shape)

    def run(first, last):
        for rows in chunks[first:last]:
            xs, hat, out = x[rows], xhat[rows], y[rows]
            # row sums by einsum: 3x faster than ndarray.mean's per-row reductions
            xp.divide(xp.einsum("ij->i", xs)[:, None], width, out=mean[rows])
            xp.subtract(xs, mean[rows], out=hat)
            xp.divide(xp.einsum("ij,ij->i", hat, hat)[:, None], width, out=var[rows])
            xp.multiply(hat, 1.0 / xp.sqrt(var[rows] + eps), out=hat)
            if weight is not None:
                xp.multiply(hat, weight, out=out)
            elif out is not hat:
                out[...] = hat
            if bias is not None:
                xp.add(out, bias, out=out)

    _run_chunks(run, chunks, x.size)
    invstd = 1.0 / xp.sqrt(var + eps)
    shaped = [a.reshape(stat_shape) for a in (mean, var, invstd)]
    return (y.reshape(data.shape), None if not keep_xhat else xhat.reshape(data.shape),
            *shaped)


def rows_backward(g, xhat, invstd, w, needs):
    """(gx, gw, gb) of a rows normalisation with batch statistics, as arrays (None where not
    needed; gw and gb flat): the formulas of `_normalize_backward_arrays`, chunk by chunk."""
    width = math.prod(w.shape) if w is not None else xhat.size // invstd.size
    gy, hat = g.reshape(-1, width), xhat.reshape(-1, width)
    rstd = invstd.reshape(-1, 1)
    weight = None if w is None else w.reshape(-1)
    gx = xp.empty_like(gy) if needs[0] else None
    chunks = _chunks(*gy.shape)

    def run(first, last):
        sums = []
        for rows in chunks[first:last]:
            g_rows, h = gy[rows], hat[rows]
            scratch = xp.multiply(g_rows, h)
            # column sums by einsum, 1.3x faster than sum(axis=0) (the same order, row after row,
            # except for one-element rows)
            sums.append((xp.einsum("ij->j", scratch) if needs[1] else None,
                         xp.einsum("ij->j", g_rows) if needs[2] else None))
            if gx is None:
                continue
            ghat = g_rows if weight is None else xp.multiply(g_rows, weight)
            if ghat is not g_rows:
                xp.multiply(ghat, h, out=scratch)
            correction = xp.einsum("ij->i", scratch)[:, None] / width
            out = gx[rows]
            xp.subtract(ghat, xp.einsum("ij->i", ghat)[:, None] / width, out=out)
            xp.multiply(h, correction, out=scratch)
            xp.subtract(out, scratch, out=out)
            xp.multiply(out, rstd[rows], out=out)
        return sums

    sums = [pair for part in _run_chunks(run, chunks, gy.size) for pair in part]
    gw = None if not needs[1] else _total([s[0] for s in sums])
    gb = None if not needs[2] else _total([s[1] for s in sums])
    return (None if gx is None else gx.reshape(g.shape)), gw, gb


def _run_chunks(run, chunks, size):
    """run(first, last) over the chunks: on the intra-op threads when the array is big enough
    to pay for them, else at once; the results in chunk order."""
    if size < _THREADED_FROM * CHUNK:
        return [run(0, len(chunks))]
    return parallel_blocks(run, len(chunks))


def _total(parts):
    """The chunks' partial sums added in order."""
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total
