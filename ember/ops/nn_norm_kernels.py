"""Batch norm's array kernels: per-channel statistics, normalisation and the fused backward on
an (N, C, L) view of a float32/float64 input whose statistics are taken over dims 0 and 2+.

NOTE [Batch norm in few passes]
A conv net's batch norm is memory-bound: each pass over the activations costs about as much as
the arithmetic of all passes. So
- per-channel sums are row sums (`sum(axis=2)`, NumPy's pairwise summation along contiguous
  rows) then a float64 sum over the batch, and sums of products are
  `einsum('ncl,ncl->nc')`: no (N, C, L) temporary, and several times faster than
  `(g * x̂).mean(axes)`;
- the variance is the mean square of the centred input c = x - μ (two-pass statistics:
  E[x²] - E[x]² would lose float32 digits when |μ| ≫ σ), and c is what backward keeps (in
  place of x̂ = c/σ, the same memory): y = c·α + b with α = w/σ is two passes;
- with m_g = mean(gy), m_gx = mean(gy·x̂) = mean(gy·c)/σ per channel, the input gradient
  gx = α·(gy - m_g - x̂·m_gx) = α·(gy - m_g - c·m_gx/σ) is four in-place passes into one new
  array;
- each pass runs on blocks of the batch on `parallel_blocks`' threads.
The sums run in a different order from a plain `mean`, and α = w/σ is rounded before it scales
c, so results agree with PyTorch to float32 rounding, not bit for bit.

NOTE [Batch norm's flat channels]
PyTorch's kernel sums a channel sequentially in float64, rounds μ to the input's dtype, takes
1/σ from the float64 variance, and writes y = x·α + β with α = w/σ and β = b - μ·α (each an
FMA). Where a channel barely varies (σ ≤ |μ|/10) that differs from ember's (x - μ)·α + b by
more than rounding: x·α is then large next to y, and its rounding (or an ulp of μ times 1/√ε
in a constant channel) is PyTorch's whole answer. So those channels, found from the C
statistics at no cost to the others, are redone PyTorch's way: `exact_flat_channels` (μ, σ²)
and `torch_affine_flat_channels` (y).
"""

from ember._backend import get_array_module, xp
from ember._rng.mathfun import fma32, fma64
from ember._threads import parallel_blocks

_MIN_BLOCK_BYTES = 1 << 18  # don't fan out for less than 256 KiB per block


def fits(data, axes, *params) -> bool:
    """Whether the kernels apply: a float32/float64 array of at least 3 dims normalised over
    dims 0, 2, ..., with parameters (arrays or None) of its dtype."""
    return (data.dtype in (xp.float32, xp.float64) and data.ndim >= 3 and data.size > 0
            and tuple(axes) == (0,) + tuple(range(2, data.ndim))
            and all(p is None or p.dtype == data.dtype for p in params))


def rows(data):
    """data as (N, C, L) (a view when data is contiguous)."""
    return data.reshape(data.shape[0], data.shape[1], -1)


def _blocks(fn, data):
    """Run fn(start, stop) over batch blocks of data on the pool's threads; their results."""
    per_image = max(data[0].nbytes, 1)
    return parallel_blocks(fn, data.shape[0], max(1, -(-_MIN_BLOCK_BYTES // per_image)))


# NOTE [Per-channel values over short rows]
# A per-channel value broadcast as a (C, 1) column over (n, C, L) makes NumPy's inner loop run L
# elements at a time: on a deep net's small images (L = 4 on 2x2, 16 on 4x4) the loop's start-up
# is the cost (the eval affine of (100, 512, 2, 2) floats: 0.40 ms; 0.19 ms tiled). Below
# _SHORT_ROW positions the values are tiled to (C, L), so each loop runs over C·L contiguous
# elements; the arithmetic, and so the bits, are the same. Sums over such short rows are one
# reduction per row too (0.49 ms for (50, 512, 16) floats): they add the images first, C·L
# columns at once, in float64, then the positions (0.12 ms; other bits, a closer sum).
_SHORT_ROW = 64


def per_channel(values, length, dtype):
    """C per-channel values as an operand for (n, C, length) rows in dtype: a column, or tiled
    along short rows (NOTE above)."""
    column = values.astype(dtype, copy=False).reshape(-1, 1)
    return column if length >= _SHORT_ROW else xp.repeat(column, length, axis=1)


def row_sums(block):
    """Σ over positions of an (n, C, L) block: (n, C) row sums (pairwise along contiguous rows),
    or over short rows (NOTE [Per-channel values over short rows]: a reduction per row of 16
    values cost 8x more) the block's (1, C) total, summed over images first, in float64."""
    if block.shape[2] >= _SHORT_ROW:
        return block.sum(axis=2)
    return block.sum(axis=0, dtype=xp.float64).sum(axis=1)[None, :]


def _channel_sum(parts):
    """Per-channel totals of the blocks' (n, C) partial sums, accumulated in float64."""
    return sum(part.sum(axis=0, dtype=xp.float64) for part in parts)


def batch_moments(data):
    """(mean, biased variance, x - mean) per channel of data (N, C, *), the statistics shaped
    (1, C, 1, ...) in data's dtype (see NOTE [Batch norm in few passes])."""
    x = rows(data)
    count = x.shape[0] * x.shape[2]
    mean = (_channel_sum(_blocks(lambda i, j: row_sums(x[i:j]), x)) / count).astype(x.dtype)
    centered = get_array_module(x).empty(x.shape, dtype=x.dtype)
    mean_rows = per_channel(mean, x.shape[2], x.dtype)

    def center(i, j):
        xp.subtract(x[i:j], mean_rows, out=centered[i:j])
        return xp.einsum("ncl,ncl->nc", centered[i:j], centered[i:j])

    var = _channel_sum(_blocks(center, x)) / count  # float64
    exact_flat_channels(x, mean, var, centered)  # (their σ² is a value of x's dtype)
    var = var.astype(x.dtype)
    affine = (1, x.shape[1]) + (1,) * (data.ndim - 2)
    return mean.reshape(affine), var.reshape(affine), centered.reshape(data.shape)


def flat_channels(mean, var):
    """The channels that barely vary, σ² ≤ (μ/10)²: there x·α is large next to y, and PyTorch's
    roundings are its answer (NOTE [Batch norm's flat channels]). All-zero channels (a dead
    ReLU's) are left out: both ways give exactly b there."""
    wide = mean.reshape(-1).astype(xp.float64)
    flat = (var.reshape(-1).astype(xp.float64) <= (wide / 10) ** 2) & (wide != 0)
    return xp.nonzero(flat)[0].tolist()


def exact_flat_channels(x, mean, var, centered=None):
    """Redo, in place, the statistics of x's (N, C, L) flat channels as PyTorch's kernel sums
    them: one sequential float64 sum over the batch then the positions, the mean rounded to
    x's dtype; Σ (x - μ)² in float64 rounded to x's dtype, divided by the count in x's dtype
    (var: a float64 array, which then holds that value)."""
    if x.dtype not in (xp.float32, xp.float64):
        return
    mean, var = mean.reshape(-1), var.reshape(-1)
    count = x.shape[0] * x.shape[2]
    for c in flat_channels(mean, var):
        values = x[:, c, :].reshape(-1)
        mu = (xp.cumsum(values, dtype=xp.float64)[-1] / count).astype(x.dtype)
        d = values - mu
        mean[c] = mu
        var_sum = xp.cumsum(d * d, dtype=xp.float64)[-1].astype(x.dtype)
        var[c] = var_sum / x.dtype.type(count)
        if centered is not None:
            centered[:, c, :] = x[:, c, :] - mu


def torch_affine_flat_channels(y, x, mean, var, alpha, b):
    """y = x·α + β with β = b - μ·α, each one FMA, over x's (N, C, L) flat channels, in place:
    PyTorch's kernel computes every channel so (NOTE [Batch norm's flat channels])."""
    if x.dtype not in (xp.float32, xp.float64):
        return
    fused = fma32 if x.dtype == xp.float32 else fma64
    xr, yr = rows(x), rows(y)
    mean, alpha = mean.reshape(-1), alpha.reshape(-1)
    for c in flat_channels(mean, var):
        a = xp.asarray(alpha[c], dtype=x.dtype)
        beta = fused(-xp.asarray(mean[c], dtype=x.dtype), a,
                     x.dtype.type(0) if b is None else b.reshape(-1)[c])
        yr[:, c, :] = fused(xr[:, c, :], a, xp.asarray(beta, dtype=x.dtype))


def affine(centered, alpha, b, in_place=False, mean=None):
    """y = (x - μ)·α + b per channel (α = w/σ; b an array of C values or None), into a new
    array or over the centred input; with `mean` (C values: running statistics), `centered`
    is x itself and y = x·α + β with PyTorch's β = b - μ·α (rounded once, as its FMA), two
    passes where centring first would take three."""
    c = rows(centered)
    y = c if in_place else get_array_module(c).empty(c.shape, dtype=c.dtype)
    if mean is not None:
        shift = -mean.reshape(-1).astype(xp.float64) * alpha.astype(xp.float64)
        b = (shift if b is None else shift + b.astype(xp.float64)).astype(c.dtype)

    scale = per_channel(alpha, c.shape[2], c.dtype)
    shift = None if b is None else per_channel(b, c.shape[2], c.dtype)

    def block(i, j):
        xp.multiply(c[i:j], scale, out=y[i:j])
        if shift is not None:
            xp.add(y[i:j], shift, out=y[i:j])

    _blocks(block, c)
    return y.reshape(centered.shape)


def centre(data, mean):
    """x - μ per channel (μ: C values), computed in batch blocks on the pool's threads."""
    x = rows(data)
    centered = get_array_module(x).empty(x.shape, dtype=x.dtype)
    mean = per_channel(mean, x.shape[2], x.dtype)
    _blocks(lambda i, j: xp.subtract(x[i:j], mean, out=centered[i:j]), x)
    return centered.reshape(data.shape)


def grad_sums(g, centered):
    """(Σ gy, Σ gy·(x - μ)) per channel, in float64."""
    gr, cr = rows(g), rows(centered)

    def block(i, j):
        return row_sums(gr[i:j]), xp.einsum("ncl,ncl->nc", gr[i:j], cr[i:j])

    parts = _blocks(block, gr)
    return _channel_sum([p[0] for p in parts]), _channel_sum([p[1] for p in parts])


def batch_grad_input(g, centered, alpha, mean_g, coef):
    """gx = α·(gy - mean_g - (x - μ)·coef) per channel: batch norm's input gradient with
    mean_g = mean(gy) and coef = mean(gy·x̂)/σ (all channel arrays)."""
    gr, cr = rows(g), rows(centered)
    dtype = cr.dtype
    alpha, mean_g, coef = (per_channel(a, cr.shape[2], dtype) for a in (alpha, mean_g, coef))
    gx = get_array_module(cr).empty(cr.shape, dtype=dtype)

    def block(i, j):
        out = gx[i:j]
        xp.multiply(cr[i:j], coef, out=out)
        xp.subtract(gr[i:j], out, out=out)
        xp.subtract(out, mean_g, out=out)
        xp.multiply(out, alpha, out=out)

    _blocks(block, gr)
    return gx.reshape(centered.shape)


def scaled(g, alpha):
    """gx = gy·α per channel (batch norm with given statistics)."""
    gr = rows(g)
    alpha = per_channel(alpha, gr.shape[2], gr.dtype)
    gx = get_array_module(gr).empty(gr.shape, dtype=gr.dtype)
    _blocks(lambda i, j: xp.multiply(gr[i:j], alpha, out=gx[i:j]), gr)
    return gx.reshape(g.shape)
