"""The array kernels of convolution: im2col, col2im and the blocked GEMMs of the three ops.

`ember/ops/conv.py` holds the ops (NOTE [Convolution as three bilinear ops]) and the argument
handling; this module holds what they compute on arrays: the windows of the zero-padded input
(`_im2col`, a view), their adjoint (`_col2im`, a sum over the ∏K kernel offsets), and the three
kernels `_conv_forward`, `_conv_transpose_forward` and `_conv_weight`, which walk the batch in
cache-sized blocks (NOTE [Batch blocks]).
"""

import math
from typing import NamedTuple

from ember._backend import as_strided_windows, get_array_module, xp
from ember.ops._opmath import widen
from ember._threads import lane_blocks, lanes_run, parallel_lanes
from ember.ops._conv_spectral import (
    _fits_spectral,
    _spectral_forward,
    _spectral_transpose,
    _spectral_weight,
    _transpose_fits_spectral,
)
from ember.ops._conv_rows import RowGrid, fits_rows, row_col2im, row_columns, rows_of
from ember.ops._conv_winograd import fits_winograd, winograd_forward, winograd_weight


class _Geometry(NamedTuple):
    """Where the windows of a convolution sit: per spatial dim stride, dilation, padding."""

    stride: tuple
    dilation: tuple
    lo: tuple  # zero padding before (for a transposed conv: the crop before)
    hi: tuple  # zero padding after (ignored by a transposed conv)
    groups: int


def _pad_zeros(x, lo, hi, value=0):
    """x with `value` added before/after each spatial dim (no copy when there is no padding)."""
    if not any(lo) and not any(hi):
        return x
    spatial = x.shape[2:]
    shape = x.shape[:2] + tuple(s + a + b for s, a, b in zip(spatial, lo, hi))
    out = get_array_module(x).full(shape, value, dtype=x.dtype)
    out[(slice(None),) * 2 + tuple(slice(a, a + s) for a, s in zip(lo, spatial))] = x
    return out


def _im2col(x, kernel, stride, dilation, lo, hi, out):
    """The windows of zero-padded x as a read-only view of shape (N, C, *kernel, *out)."""
    nd = len(kernel)
    x = _pad_zeros(x, lo, hi)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = as_strided_windows(x, span, tuple(range(2, 2 + nd)))  # (N, C, *W, *span)
    picks = (slice(None),) * 2 + tuple(slice(0, (o - 1) * s + 1, s) for o, s in
                                       zip(out, stride)) + tuple(slice(None, None, d)
                                                                 for d in dilation)
    view = windows[picks]  # (N, C, *out, *kernel)
    order = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    return view.transpose(order)


def offset_window(offset, dilation, out, stride) -> tuple:
    """The slices, one per spatial dim, of the padded input that kernel `offset` reads for the
    `out` outputs: start k·d, step s."""
    return tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                 for k, d, o, s in zip(offset, dilation, out, stride))


def _col2im(cols, size, stride, dilation):
    """Sum windows (N, C, *K, *O) back into an (N, C, *size) array: the adjoint of _im2col."""
    nd = len(size)
    kernel, out = cols.shape[2:2 + nd], cols.shape[2 + nd:]
    result = get_array_module(cols).zeros(cols.shape[:2] + tuple(size), dtype=cols.dtype)
    for offset in xp.ndindex(*kernel):
        target = (slice(None),) * 2 + offset_window(offset, dilation, out, stride)
        result[target] += cols[(slice(None),) * 2 + offset]
    return result


def _columns(x, kernel, geo, out):
    """The contiguous column buffer (groups, C/g·∏kernel, N·∏out) of x (channel-major).

    One strided copy per kernel offset from a channel-major padded x: each copies whole
    output rows, which NumPy does faster than one copy of the 2·nd-dimensional window view.
    """
    n, c = x.shape[:2]
    source = _channel_major_padded(x, geo.lo, geo.hi)  # (C, N, *padded)
    cols = get_array_module(x).empty((c,) + tuple(kernel) + (n,) + tuple(out), dtype=x.dtype)
    for offset in xp.ndindex(*kernel):
        reads = offset_window(offset, geo.dilation, out, geo.stride)
        cols[(slice(None),) + offset] = source[(slice(None),) * 2 + reads]
    return cols.reshape(geo.groups, c // geo.groups * math.prod(kernel), n * math.prod(out))


def _channel_major_padded(x, lo, hi):
    """x (N, C, *S) as (C, N, *S) with zeros before/after each spatial dim (a view if none)."""
    moved = xp.swapaxes(x, 0, 1)
    if not any(lo) and not any(hi):
        return moved
    spatial = x.shape[2:]
    shape = moved.shape[:2] + tuple(s + a + b for s, a, b in zip(spatial, lo, hi))
    padded = get_array_module(x).zeros(shape, dtype=x.dtype)
    padded[(slice(None),) * 2 + tuple(slice(a, a + s) for a, s in zip(lo, spatial))] = moved
    return padded


def _channel_major(a, groups):
    """(N, C, *S) as a contiguous (groups, C/g, N·∏S) array: the GEMM layout of gy and x."""
    c = a.shape[1]
    rest = a.shape[0] * math.prod(a.shape[2:])
    return xp.asanyarray(xp.swapaxes(a, 0, 1), order="C").reshape(groups, c // groups, rest)


# NOTE [Batch blocks]: the column buffer is ∏K times the size of the input. Built for the
# whole batch at once it goes out to main memory and comes back for the matmul. The kernels
# below walk the batch in blocks whose column buffer is about _BLOCK_BYTES (about one
# core's L2 cache), so it is still in cache when the matmul (or col2im) reads it: a loop over a
# few blocks, each one im2col and one matmul per group, never a loop over batch items. (col2im
# makes ∏K NumPy calls per block, so its blocks are twice as large: measured the faster choice.)
# Each block's matmul reads the whole weight (or writes the whole weight gradient), so a block
# holds at least twice the weight's bytes of columns: with 256-512 channels on 2x2-8x8 images
# the weight outgrows the cache and 2 MB blocks of a few images made the layer 10-15% slower.
_BLOCK_BYTES = 2 * 2**20

# NOTE [Convolution in lanes]: the blocks are shared out to one lane per thread, each lane
# calling BLAS on its own thread (NOTE [Lanes] in `ember/_threads.py`), so im2col's copies and
# col2im's adds use every core, not only the GEMMs. Measured before as 10-20% slower in a
# training step: OpenBLAS's idle threads then spun for 0.1 s after every GEMM and took the
# second core (NOTE [BLAS's idle threads]); with them sleeping, the lanes made the CIFAR
# ResNet's and VGG11-BN's steps 0.77x and 0.86x the time. Inside the lanes, layers with few
# rows of columns take one GEMM per image (NOTE [One GEMM per image] below).


def _batch_blocks(n: int, item_bytes: int, scale: int = 1, weight_bytes: int = 0):
    """Slices of the batch axis, each holding at most about scale·_BLOCK_BYTES of column
    buffer, or twice the weight's bytes if that is more (NOTE [Batch blocks]), shared equally
    by the lanes (NOTE [Lanes] in `ember/_threads.py`)."""
    budget = max(scale * _BLOCK_BYTES, 2 * weight_bytes)
    return lane_blocks(n, max(1, budget // max(item_bytes, 1)), item_bytes)


def _is_blas_float(x) -> bool:
    """float32 or float64: the dtypes whose matmul is BLAS's and rounds once per element."""
    return x.dtype.char in "fd"


def _is_pointwise(x, kernel, geo) -> bool:
    """A 1x1 convolution reading every input position once: a plain matmul per image."""
    return (all(k == 1 for k in kernel) and all(s == 1 for s in geo.stride)
            and not any(geo.lo) and not any(geo.hi) and geo.groups == 1 and _is_blas_float(x))


def _conv_forward(x, w, geo, out, bias=None, forward_only=False):
    """y = conv(x, w) + bias as arrays: per batch block, im2col and one matmul per group
    (or one product per frequency: NOTE [Spectral convolution] in `_conv_spectral`; with
    forward_only, no gradient follows and the route's stricter forward rule applies)."""
    if _fits_spectral(x.shape, x.dtype, w.shape[2:], geo, out, w.shape[0], forward_only):
        return _spectral_forward(x, w, geo, out, bias)
    if fits_winograd(x.shape, x.dtype, w.shape[2:], geo, out, w.shape[0]):
        return winograd_forward(x, w, geo, out, bias)  # NOTE [Winograd convolution]
    return _conv_forward_columns(x, w, geo, out, bias)


def _conv_forward_columns(x, w, geo, out, bias=None):
    """y = conv(x, w) + bias through im2col, whatever the shapes (see `_conv_forward`)."""
    if x.dtype == xp.float16 and bias is not None:  # (NumPy's float16 matmul rounds: oneDNN
        wide = _conv_forward_columns(widen(x), widen(w), geo, out, widen(bias))  # adds the
        return wide.astype(x.dtype)  # bias in float32 before the one rounding)
    n, c = x.shape[:2]
    g, cy, kernel = geo.groups, w.shape[0], w.shape[2:]
    y = get_array_module(x).empty((n, cy) + tuple(out), dtype=x.dtype)
    wg = w.reshape(g, cy // g, -1)
    positions = math.prod(out)
    item_bytes = c * math.prod(kernel) * positions * x.itemsize
    pointwise = _is_pointwise(x, kernel, geo)
    by_rows = _fits_row_columns(x, kernel, geo, out)

    blocks = _batch_blocks(n, item_bytes, weight_bytes=w.nbytes)
    per_image = _per_image(x, kernel, geo, len(blocks))

    def lane(first, last):
        for block in blocks[first:last]:
            nb = block.stop - block.start
            target = y[block].reshape(nb, cy, positions)
            if pointwise or per_image:  # y[n] = W·x[n] (or ·columns[n]): written in place
                operand = (x[block].reshape(nb, c, positions) if pointwise
                           else _image_columns(x[block], kernel, geo, out))
                xp.matmul(wg[0], operand, out=target)
                if bias is not None:
                    target += bias.reshape(-1, 1)
                continue
            if by_rows:  # NOTE [Columns of whole padded rows]: drop extra columns in the move
                cols, width = row_columns(x[block], kernel, geo, out)
                yb = xp.matmul(wg, cols).reshape(cy, nb, out[0], width)[..., :out[1]]
                target = y[block]
            else:
                yb = xp.matmul(wg, _columns(x[block], kernel, geo, out))  # (g, Cout/g, nb·∏out)
                yb = yb.reshape(cy, nb, positions)
            moved = xp.swapaxes(yb, 0, 1)
            if bias is None:
                xp.copyto(target, moved)
            else:
                xp.add(moved, bias.reshape((-1,) + (1,) * (moved.ndim - 2)), out=target)

    parallel_lanes(lane, len(blocks))
    return y


# NOTE [One GEMM per image]: with few rows of columns (C/g·∏K at most _FEW_ROWS: the RGB or
# grayscale first layer of an image net), each image's output, Cout·∏O values, is several
# times its columns, and moving a block's (Cout, nb·∏O) product to NCHW (or, for the weight
# gradient, gy to channel-major) costs more than the GEMM itself. One GEMM per image reads
# and writes y and gy where they are instead. Only inside lanes (NOTE [Lanes] in
# ember/_threads.py), where every GEMM is BLAS on one thread: with BLAS's own threads woken for
# each image's small GEMM it was up to 14x slower. Measured on one lane (50 images, float32):
# forward 3->16 channels on 32x32 1.6x faster, 3->64 1.16x, 1->32 on 28x28 2.1x; the weight
# gradient 1.9x, 1.2x, 3.7x. For 3->32 with a 5x5 kernel (75 rows) and for 8 or more channels
# the blocked GEMM measured as fast or faster.
_FEW_ROWS = 32


def _per_image(x, kernel, geo, blocks: int) -> bool:
    """Whether the convolution of x takes one GEMM per image (NOTE [One GEMM per image])."""
    return (geo.groups == 1 and x.shape[1] * math.prod(kernel) <= _FEW_ROWS
            and _is_blas_float(x) and lanes_run(blocks))


def _image_columns(x, kernel, geo, out):
    """The columns of each image of x: (N, C·∏K, ∏O), one strided copy per kernel offset."""
    n, c = x.shape[:2]
    padded = _pad_zeros(x, geo.lo, geo.hi)
    cols = get_array_module(x).empty((n, c) + tuple(kernel) + tuple(out), dtype=x.dtype)
    for offset in xp.ndindex(*kernel):
        reads = offset_window(offset, geo.dilation, out, geo.stride)
        cols[(slice(None),) * 2 + offset] = padded[(slice(None),) * 2 + reads]
    return cols.reshape(n, c * math.prod(kernel), math.prod(out))


def _fits_row_columns(x, kernel, geo, out) -> bool:
    """Whether the forward reads its columns as whole padded rows (NOTE [Columns of whole
    padded rows] in `ember/ops/_conv_rows.py`): stride 1 (with stride 2, reading whole rows of
    the phases measured no faster than `_columns`; nor did the weight gradient on whole rows)."""
    padded = tuple(s + a + b for s, a, b in zip(x.shape[2:], geo.lo, geo.hi))
    return all(s == 1 for s in geo.stride) and fits_rows(padded, kernel, geo, out)


def _flip_transposed(w, groups):
    """The weight (Cy, Cx/g, *K) of conv that undoes convT by w (Cx, Cy/g, *K): swap, flip."""
    cx, cyg, kernel = w.shape[0], w.shape[1], w.shape[2:]
    swapped = w.reshape((groups, cx // groups, cyg) + kernel).swapaxes(1, 2)
    flipped = swapped.reshape((groups * cyg, cx // groups) + kernel)
    return xp.asanyarray(flipped[(Ellipsis,) + (slice(None, None, -1),) * len(kernel)],
                         order="C")


def _transpose_as_conv(x, w, geo, out):
    """convT(x, w) with stride 1 as conv(x, flipped w): the (x, geometry) of that conv (its
    weight is `_flip_transposed(w, groups)`).

    y[o] = Σ_k x[o + lo - d·k]·w[k] = Σ_k' x_pad[o + d·k']·w[K-1-k'] with x padded by
    d·(K-1) - lo before (cropped where that is negative) and out + lo - S after.
    """
    kernel, spatial = w.shape[2:], x.shape[2:]
    before = [d * (k - 1) - lo for d, k, lo in zip(geo.dilation, kernel, geo.lo)]
    after = [o + lo - s for o, lo, s in zip(out, geo.lo, spatial)]
    crop = (slice(None),) * 2 + tuple(slice(max(0, -a), s + min(0, b))
                                      for a, b, s in zip(before, after, spatial))
    padded = geo._replace(lo=tuple(max(0, a) for a in before),
                          hi=tuple(max(0, b) for b in after))
    return x[crop], padded


def _conv_transpose_forward(x, w, geo, out, bias=None):
    """y = convT(x, w) (+ bias) as arrays: columns W^T·x summed back into place (col2im),
    cropped."""
    n, cx = x.shape[:2]
    g = geo.groups
    kernel, spatial = w.shape[2:], x.shape[2:]
    nd = len(kernel)
    cy = w.shape[1] * g
    if n == 0:  # an empty batch (the input gradient of one, too): nothing to sum
        return get_array_module(x).zeros((0, cy) + tuple(out), dtype=x.dtype)
    if x.dtype.name == "bfloat16" and all(  # (an output padding below the stride: PyTorch's
            o - ((s - 1) * st + d * (k - 1) + 1) + 2 * lo < st  # oneDNN kernel, in float32)
            for o, s, st, d, k, lo in zip(out, spatial, geo.stride, geo.dilation, kernel, geo.lo)):
        wide = None if bias is None else widen(bias)  # (added before the one rounding)
        return _conv_transpose_forward(widen(x), widen(w), geo, out, wide).astype(x.dtype)
    # With stride 1: spectrally if the convolution this one is the adjoint of is; else as a
    # convolution, whose column buffer has Cx·∏K rows instead of Cy·∏K and needs no col2im
    # pass, when that is the smaller one (float16 keeps torch's col2im rounding) and the
    # output is not much bigger than the input: that convolution's GEMM has ∏out columns per
    # image against ∏S here, most of them products with the padding when the input is small
    # (DCGAN's first layer, 1x1 -> 4x4: 16 times the FLOPs, 5x slower than torch).
    if all(s == 1 for s in geo.stride) and _transpose_fits_spectral(x, w, geo, out):
        return _add_bias(_spectral_transpose(x, w, geo, out), bias)
    if all(s == 1 for s in geo.stride) and _is_blas_float(x):
        xc, conv_geo = _transpose_as_conv(x, w, geo, out)
        if fits_winograd(xc.shape, xc.dtype, kernel, conv_geo, out, cy):
            wc = _flip_transposed(w, g)
            return _add_bias(winograd_forward(xc, wc, conv_geo, out), bias)  # (Winograd)
        if cx <= cy and math.prod(out) <= 2 * math.prod(spatial):
            return _add_bias(_conv_forward_columns(xc, _flip_transposed(w, g), conv_geo, out),
                             bias)
    y = get_array_module(x).empty((n, cy) + tuple(out), dtype=x.dtype)
    wt = w.reshape(g, cx // g, -1).transpose(0, 2, 1)  # (g, Cy/g·∏K, Cx/g): BLAS reads it as is
    size = tuple(max(lo + o, (s - 1) * st + d * (k - 1) + 1) for lo, o, s, st, d, k in
                 zip(geo.lo, out, spatial, geo.stride, geo.dilation, kernel))
    crop = (slice(None),) * 2 + tuple(slice(lo, lo + o) for lo, o in zip(geo.lo, out))
    order = (0, 1 + nd) + tuple(range(1, 1 + nd)) + tuple(range(2 + nd, 2 + 2 * nd))
    item_bytes = cy * math.prod(kernel) * math.prod(spatial) * x.itemsize

    blocks = _batch_blocks(n, item_bytes, scale=2, weight_bytes=w.nbytes)
    # whole rows (NOTE [Columns of whole padded rows]) unless w holds an inf or NaN: the
    # extra columns' products, zeros otherwise, are added into real positions
    by_rows = (nd == 2 and fits_rows(size, kernel, geo, spatial) and _is_blas_float(x)
               and bool(xp.isfinite(w).all()))

    def lane(first, last):
        for block in blocks[first:last]:
            xb = x[block]
            if by_rows:
                width = RowGrid.of(size, kernel, geo).width
                cols = xp.matmul(wt, rows_of(xb, width, g))  # (g, Cy/g·∏K, nb·S0·width)
                cols = cols.reshape((cy,) + tuple(kernel) + (xb.shape[0], -1))
                y[block] = row_col2im(cols, size, geo.lo, out, kernel, geo)
                continue
            cols = xp.matmul(wt, _channel_major(xb, g))  # (g, Cy/g·∏K, nb·∏S)
            cols = cols.astype(x.dtype, copy=False)  # NumPy gives bfloat16 products in float32
            cols = cols.reshape((cy,) + tuple(kernel) + (xb.shape[0],) + tuple(spatial))
            full = _col2im(cols.transpose(order), size, geo.stride, geo.dilation)  # (Cy, nb, ..)
            xp.copyto(y[block], xp.swapaxes(full[crop], 0, 1))

    parallel_lanes(lane, len(blocks))
    return _add_bias(y, bias)


def _add_bias(y, bias):
    """y + bias over the channel dim (1), in place."""
    if bias is not None:
        y += bias.reshape((-1,) + (1,) * (y.ndim - 2))
    return y


def _conv_weight(x, gy, kernel, geo):
    """gw[co, ci, k] = Σ_n,o gy[n, co, o]·x_pad[n, ci, o·s + k·d] as arrays, per batch block."""
    n, cx = x.shape[:2]
    cy = gy.shape[1]
    if n == 0:  # an empty batch: no term of the sum, a zero gradient
        return get_array_module(x).zeros((cy, cx // geo.groups) + tuple(kernel), dtype=x.dtype)
    g = geo.groups
    out = gy.shape[2:]
    if _fits_spectral(x.shape, x.dtype, kernel, geo, out, cy):
        return _spectral_weight(x, gy, kernel, geo)
    if fits_winograd(x.shape, x.dtype, kernel, geo, out, cy):
        return winograd_weight(x, gy, geo)  # NOTE [Winograd convolution]
    item_bytes = cx * math.prod(kernel) * math.prod(out) * x.itemsize

    rows = cx // g * math.prod(kernel)
    # gwᵀ = cols·gyᵀ (the long N·∏O axis last in both operands) is the faster orientation for
    # BLAS here, but the transpose back costs a strided pass over the weight: from about a
    # million weights (VGG's 256-512 channel layers) gw = gy·colsᵀ directly is 1.2-1.3x faster.
    direct = g * rows * (cy // g) >= _DIRECT_WEIGHT_GRAD
    module = get_array_module(gy)
    blocks = _batch_blocks(n, item_bytes, weight_bytes=g * rows * (cy // g) * gy.itemsize)
    per_image = _per_image(x, kernel, geo, len(blocks))
    direct = direct or per_image
    shape = (g, cy // g, rows) if direct else (g, rows, cy // g)

    def lane(first, last):  # this lane's share of the sum over the batch
        grad = module.zeros(shape, dtype=gy.dtype)
        for block in blocks[first:last]:
            if per_image:  # Σ_n gy[n]·columns[n]ᵀ, gy read in place
                nb = block.stop - block.start
                cols = _image_columns(x[block], kernel, geo, out)  # (nb, C·∏K, ∏O)
                grad[0] += xp.matmul(gy[block].reshape(nb, cy, -1),
                                     cols.transpose(0, 2, 1)).sum(axis=0)
                continue
            cols = _columns(x[block], kernel, geo, out)
            gyb = _channel_major(gy[block], g)
            if direct:
                grad += xp.matmul(gyb, cols.transpose(0, 2, 1))
            else:
                grad += xp.matmul(cols, gyb.transpose(0, 2, 1))
        return grad

    grad, *others = parallel_lanes(lane, len(blocks))
    for other in others:
        grad += other
    gw = grad if direct else xp.asanyarray(grad.transpose(0, 2, 1), order="C")
    return gw.reshape((cy, cx // g) + tuple(kernel))  # (g, Cy/g, Cx/g·∏K) as (Cy, Cx/g, *K)


_DIRECT_WEIGHT_GRAD = 1 << 20  # weight elements from which gw is computed in its own layout


def _transpose_pad_hi(geo, in_spatial, kernel, out):
    """The zero padding after each dim that lets a conv read back a transposed conv's output."""
    return tuple(max(0, (s - 1) * st + d * (k - 1) + 1 - lo - o) for s, st, d, k, lo, o in
                 zip(in_spatial, geo.stride, geo.dilation, kernel, geo.lo, out))
